#include "frontend/dockerignore_go.hpp"

namespace strata::frontend::dockerignore_detail {

namespace {

bool is_continuation(unsigned char b, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return b >= lo && b <= hi;
}

// unicode.IsSpace (White_Space property).
bool is_space(char32_t r) {
    switch (r) {
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
        case ' ':
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
            return true;
        default:
            return r >= 0x2000 && r <= 0x200A;
    }
}

// filepath.Match's getEsc: one possibly-escaped class character.
bool take_class_char(std::string_view& chunk) {
    if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') return false;
    if (chunk[0] == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return false;
    }
    size_t width = 0;
    const char32_t r = decode_rune(chunk, 0, &width);
    if (r == kRuneError && width == 1) return false;
    chunk.remove_prefix(width);
    return !chunk.empty();  // a class must still be closed by ']'
}

// filepath.Match's matchChunk, syntax part only: Go parses the whole chunk
// even after a mismatch, so the outcome does not depend on the name.
bool is_valid_chunk(std::string_view chunk) {
    while (!chunk.empty()) {
        switch (chunk[0]) {
            case '[': {
                chunk.remove_prefix(1);
                if (!chunk.empty() && chunk[0] == '^') chunk.remove_prefix(1);
                for (int nrange = 0;; ++nrange) {
                    if (!chunk.empty() && chunk[0] == ']' && nrange > 0) {
                        chunk.remove_prefix(1);
                        break;
                    }
                    if (!take_class_char(chunk)) return false;
                    if (chunk[0] == '-') {
                        chunk.remove_prefix(1);
                        if (!take_class_char(chunk)) return false;
                    }
                }
                break;
            }
            case '\\':
                chunk.remove_prefix(1);
                if (chunk.empty()) return false;
                chunk.remove_prefix(1);  // the escaped byte
                break;
            default:  // '?' and literal bytes
                chunk.remove_prefix(1);
                break;
        }
    }
    return true;
}

// Regexp metacharacters that are plain characters in a glob (patternmatcher's
// shouldEscape set).
bool needs_regex_escape(char32_t r) {
    switch (r) {
        case '.':
        case '+':
        case '(':
        case ')':
        case '|':
        case '{':
        case '}':
        case '$':
            return true;
        default:
            return false;
    }
}

}  // namespace

char32_t decode_rune(std::string_view s, size_t i, size_t* width) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const size_t avail = s.size() - i;
    const unsigned char b0 = byte(0);
    *width = 1;
    if (b0 < 0x80) return b0;
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return kRuneError;
    }
    if (avail <= need || !is_continuation(byte(1), lo, hi)) return kRuneError;
    for (size_t k = 2; k <= need; ++k) {
        if (!is_continuation(byte(k))) return kRuneError;
    }
    char32_t r = b0 & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07);
    for (size_t k = 1; k <= need; ++k)
        r = (r << 6) | (byte(k) & 0x3F);
    *width = need + 1;
    return r;
}

void append_utf8(std::string& out, char32_t r) {
    if (r < 0x80) {
        out.push_back(static_cast<char>(r));
    } else if (r < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (r >> 6)));
        out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else if (r < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (r >> 12)));
        out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (r >> 18)));
        out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    }
}

std::string_view trim_space(std::string_view s) {
    size_t begin = s.size();
    size_t end = 0;
    size_t width = 0;
    for (size_t i = 0; i < s.size(); i += width) {
        if (!is_space(decode_rune(s, i, &width))) {
            if (begin == s.size()) begin = i;
            end = i + width;
        }
    }
    return begin == s.size() ? std::string_view() : s.substr(begin, end - begin);
}

std::string clean_path(std::string_view path) {
    if (path.empty()) return ".";
    const bool rooted = path[0] == '/';
    const size_t n = path.size();
    std::string out;
    out.reserve(n);
    size_t r = 0;
    size_t dotdot = 0;  // out[0, dotdot) is "/" or a run of "../" that ".." cannot remove
    if (rooted) {
        out.push_back('/');
        r = dotdot = 1;
    }
    while (r < n) {
        if (path[r] == '/') {
            ++r;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            ++r;
        } else if (path[r] == '.' && r + 1 < n && path[r + 1] == '.' &&
                   (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (out.size() > dotdot) {
                size_t w = out.size() - 1;
                while (w > dotdot && out[w] != '/')
                    --w;
                out.resize(w);
            } else if (!rooted) {
                if (!out.empty()) out.push_back('/');
                out += "..";
                dotdot = out.size();
            }
        } else {
            if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out.push_back('/');
            while (r < n && path[r] != '/')
                out.push_back(path[r++]);
        }
    }
    return out.empty() ? std::string(".") : out;
}

bool is_valid_glob(std::string_view pattern) {
    while (!pattern.empty()) {
        while (!pattern.empty() && pattern[0] == '*')
            pattern.remove_prefix(1);
        // A chunk runs to the next '*' outside a bracket expression.
        bool in_range = false;
        size_t i = 0;
        for (; i < pattern.size(); ++i) {
            const char c = pattern[i];
            if (c == '\\') {
                if (i + 1 < pattern.size()) ++i;
            } else if (c == '[') {
                in_range = true;
            } else if (c == ']') {
                in_range = false;
            } else if (c == '*' && !in_range) {
                break;
            }
        }
        if (!is_valid_chunk(pattern.substr(0, i))) return false;
        pattern.remove_prefix(i);
    }
    return true;
}

Translation translate_pattern(std::string_view pattern) {
    // patternmatcher reads the pattern with text/scanner, which yields U+FFFD
    // for invalid bytes and silently drops a leading byte order mark.
    std::u32string runes;
    size_t width = 0;
    for (size_t i = 0; i < pattern.size(); i += width) {
        runes.push_back(decode_rune(pattern, i, &width));
    }
    size_t pos = (!runes.empty() && runes[0] == 0xFEFF) ? 1 : 0;
    const auto at_end = [&] { return pos >= runes.size(); };

    Translation t;
    t.regex.push_back('^');
    for (size_t i = 0; !at_end(); ++i) {
        const char32_t ch = runes[pos++];
        if (ch == '*') {
            if (!at_end() && runes[pos] == '*') {
                ++pos;
                if (!at_end() && runes[pos] == '/') ++pos;  // "**/" behaves as "**"
                if (at_end()) {
                    if (t.kind == MatchKind::kExact) {
                        t.kind = MatchKind::kPrefix;
                    } else {
                        t.regex += ".*";
                        t.kind = MatchKind::kRegex;
                    }
                } else {
                    t.regex += "(.*/)?";
                    t.kind = MatchKind::kRegex;
                }
                if (i == 0) t.kind = MatchKind::kSuffix;
            } else {
                t.regex += "[^/]*";
                t.kind = MatchKind::kRegex;
            }
        } else if (ch == '?') {
            t.regex += "[^/]";
            t.kind = MatchKind::kRegex;
        } else if (needs_regex_escape(ch)) {
            t.regex.push_back('\\');
            append_utf8(t.regex, ch);
        } else if (ch == '\\') {
            t.regex.push_back('\\');
            if (!at_end()) {
                append_utf8(t.regex, runes[pos++]);
                t.kind = MatchKind::kRegex;
            }
        } else if (ch == '[' || ch == ']') {
            append_utf8(t.regex, ch);
            t.kind = MatchKind::kRegex;
        } else {
            append_utf8(t.regex, ch);
        }
    }
    if (t.kind == MatchKind::kRegex) t.regex.push_back('$');
    return t;
}

}  // namespace strata::frontend::dockerignore_detail
