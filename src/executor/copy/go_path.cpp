#include "executor/copy/go_path.hpp"

#include <cstdint>

namespace strata::executor {

std::string clean_path(std::string_view path) {
    if (path.empty()) return ".";
    const bool rooted = path.front() == '/';
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view part = path.substr(i, j - i);
        i = j + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!out.empty() && out.back() != "..") {
                out.pop_back();
            } else if (!rooted) {
                out.push_back(part);  // a relative path keeps leading ".."
            }
            continue;
        }
        out.push_back(part);
    }
    std::string result = rooted ? "/" : "";
    for (size_t k = 0; k < out.size(); ++k) {
        if (k > 0) result += '/';
        result += out[k];
    }
    return result.empty() ? "." : result;
}

std::string base_name(std::string_view path) {
    if (path.empty()) return ".";
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    if (path == "/") return "/";
    size_t slash = path.rfind('/');
    if (slash != std::string_view::npos) path = path.substr(slash + 1);
    return path.empty() ? "/" : std::string(path);
}

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view part = path.substr(i, j - i);
        if (!part.empty() && part != ".") out.emplace_back(part);
        i = j + 1;
    }
    return out;
}

std::string join_abs(const std::vector<std::string>& components) {
    if (components.empty()) return "/";
    std::string out;
    for (const auto& c : components) {
        out += '/';
        out += c;
    }
    return out;
}

namespace {

// Decodes one UTF-8 sequence at s[i]; invalid bytes count as one rune each
// (Go yields U+FFFD of width 1 for them).
uint32_t decode_rune(std::string_view s, size_t i, size_t* width) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    auto cont = [&](size_t k) {
        return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    };
    if (b0 < 0x80) {
        *width = 1;
        return b0;
    }
    if ((b0 & 0xE0) == 0xC0 && cont(1)) {
        *width = 2;
        return ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    }
    if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
        *width = 3;
        return ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
               (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    }
    if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
        *width = 4;
        return ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
               ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
               (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
    }
    *width = 1;
    return 0xFFFD;
}

// Reads one (possibly escaped) class character at p[*pi]; false when malformed.
bool class_char(std::string_view p, size_t* pi, uint32_t* out) {
    if (*pi >= p.size()) return false;
    if (p[*pi] == '-' || p[*pi] == ']') return false;
    if (p[*pi] == '\\') {
        ++*pi;
        if (*pi >= p.size()) return false;
    }
    size_t w = 0;
    *out = decode_rune(p, *pi, &w);
    *pi += w;
    return true;
}

// Parses a class starting after '['; sets *matched for rune r, moves *pi past ']'.
bool match_class(std::string_view p, size_t* pi, uint32_t r, bool* matched) {
    bool negated = false;
    if (*pi < p.size() && p[*pi] == '^') {
        negated = true;
        ++*pi;
    }
    bool hit = false;
    size_t ranges = 0;
    for (;;) {
        if (*pi < p.size() && p[*pi] == ']' && ranges > 0) {
            ++*pi;
            break;
        }
        uint32_t lo = 0, hi = 0;
        if (!class_char(p, pi, &lo)) return false;
        hi = lo;
        if (*pi < p.size() && p[*pi] == '-') {
            ++*pi;
            if (!class_char(p, pi, &hi)) return false;
        }
        if (lo <= r && r <= hi) hit = true;
        ++ranges;
    }
    *matched = hit != negated;
    return true;
}

bool match_from(std::string_view p, std::string_view n, bool* bad) {
    size_t pi = 0, ni = 0;
    while (pi < p.size()) {
        const char c = p[pi];
        if (c == '*') {
            while (pi < p.size() && p[pi] == '*')
                ++pi;
            std::string_view rest = p.substr(pi);
            // Try every split point inside the current path element.
            for (size_t k = ni;;) {
                if (match_from(rest, n.substr(k), bad)) return true;
                if (*bad) return false;
                if (k >= n.size() || n[k] == '/') return false;
                size_t w = 0;
                decode_rune(n, k, &w);
                k += w;
            }
        }
        if (c == '?') {
            if (ni >= n.size() || n[ni] == '/') return false;
            size_t w = 0;
            decode_rune(n, ni, &w);
            ni += w;
            ++pi;
            continue;
        }
        if (c == '[') {
            ++pi;
            uint32_t r = 0;
            bool have = ni < n.size();
            size_t w = 0;
            if (have) r = decode_rune(n, ni, &w);
            bool matched = false;
            if (!match_class(p, &pi, r, &matched)) {
                *bad = true;
                return false;
            }
            if (!have || !matched) return false;
            ni += w;
            continue;
        }
        if (c == '\\') {
            ++pi;
            if (pi >= p.size()) {
                *bad = true;
                return false;
            }
        }
        if (ni >= n.size() || n[ni] != p[pi]) return false;
        ++ni;
        ++pi;
    }
    return ni == n.size();
}

}  // namespace

bool match_pattern(std::string_view pattern, std::string_view name, bool* bad) {
    bool is_bad = false;
    bool ok = match_from(pattern, name, &is_bad);
    if (bad) *bad = is_bad;
    return ok && !is_bad;
}

bool contains_wildcards(std::string_view path) {
    for (size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (c == '\\') {
            ++i;
        } else if (c == '*' || c == '?' || c == '[') {
            return true;
        }
    }
    return false;
}

WildcardSplit split_wildcards(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t i = 0;
    for (;;) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) {
            parts.push_back(path.substr(i));
            break;
        }
        parts.push_back(path.substr(i, j - i));
        i = j + 1;
    }
    WildcardSplit out;
    bool found = false;
    for (size_t k = 0; k < parts.size(); ++k) {
        if (!found && contains_wildcards(parts[k])) found = true;
        std::string& dst = found ? out.pattern : out.base;
        if (parts[k].empty()) {
            if (k == 0 && !found) dst = "/";
            continue;
        }
        if (!dst.empty() && dst.back() != '/') dst += '/';
        dst += parts[k];
    }
    return out;
}

std::string normalize_dest(std::string_view workdir, std::string_view dest) {
    std::string parent = workdir.empty() ? "/" : std::string(workdir);
    if (parent.front() != '/') parent = "/" + parent;
    std::string orig(dest);
    if (orig.empty() || orig == ".") orig = "./";
    std::string joined = orig.front() == '/' ? clean_path(orig) : clean_path(parent + "/" + orig);
    if (orig.back() == '/') {
        if (joined.back() != '/') joined += '/';
    } else if (orig.size() >= 2 && orig.compare(orig.size() - 2, 2, "/.") == 0) {
        if (joined != "/") joined += '/';
        joined += '.';
    }
    return joined;
}

bool dest_is_dir_syntax(std::string_view d) {
    return (!d.empty() && d.back() == '/') || (d.size() >= 2 && d.substr(d.size() - 2) == "/.");
}

}  // namespace strata::executor
