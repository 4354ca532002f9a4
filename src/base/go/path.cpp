#include "base/go/path.hpp"

#include "base/go/utf8.hpp"

namespace strata::go::path {

std::string clean(std::string_view path) {
    if (path.empty()) return ".";
    const bool rooted = path[0] == '/';
    const size_t n = path.size();
    std::string out;
    out.reserve(n);
    size_t r = 0;
    // out[0, floor) is what ".." cannot remove: the root "/" or a run of
    // leading "../" of a relative path.
    size_t floor = 0;
    if (rooted) {
        out.push_back('/');
        r = floor = 1;
    }
    const auto element_ends = [&](size_t at) { return at == n || path[at] == '/'; };
    while (r < n) {
        if (path[r] == '/') {
            ++r;
        } else if (path[r] == '.' && element_ends(r + 1)) {
            ++r;
        } else if (path[r] == '.' && path[r + 1] == '.' && element_ends(r + 2)) {
            r += 2;
            if (out.size() > floor) {
                size_t w = out.size() - 1;
                while (w > floor && out[w] != '/')
                    --w;
                out.resize(w);
            } else if (!rooted) {
                if (!out.empty()) out.push_back('/');
                out += "..";
                floor = out.size();
            }
        } else {
            if (out.size() > (rooted ? 1u : 0u)) out.push_back('/');
            while (r < n && path[r] != '/')
                out.push_back(path[r++]);
        }
    }
    return out.empty() ? std::string(".") : out;
}

std::string base(std::string_view path) {
    if (path.empty()) return ".";
    while (!path.empty() && path.back() == '/')
        path.remove_suffix(1);
    const size_t slash = path.rfind('/');
    if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
    return path.empty() ? std::string("/") : std::string(path);
}

std::string join(std::string_view a, std::string_view b) {
    if (a.empty() && b.empty()) return {};
    if (a.empty()) return clean(b);
    if (b.empty()) return clean(a);
    std::string joined(a);
    joined += '/';
    joined += b;
    return clean(joined);
}

namespace {

// The text between two stars: literals, '?', '\c' and classes.
struct Chunk {
    bool star = false;  // preceded by one or more '*'
    std::string_view text;
};

// Go's scanChunk: takes the leading stars and the chunk after them off
// `pattern`. A '*' inside brackets does not end the chunk.
Chunk take_chunk(std::string_view& pattern) {
    Chunk c;
    while (!pattern.empty() && pattern[0] == '*') {
        pattern.remove_prefix(1);
        c.star = true;
    }
    bool in_class = false;
    size_t i = 0;
    for (; i < pattern.size(); ++i) {
        const char ch = pattern[i];
        if (ch == '\\') {
            if (i + 1 < pattern.size()) ++i;  // a trailing '\' is an error in match_chunk
        } else if (ch == '[') {
            in_class = true;
        } else if (ch == ']') {
            in_class = false;
        } else if (ch == '*' && !in_class) {
            break;
        }
    }
    c.text = pattern.substr(0, i);
    pattern.remove_prefix(i);
    return c;
}

enum class ChunkResult { kNoMatch, kMatch, kBad };

// Go's getEsc: one possibly escaped class character; false when malformed
// (missing, '-' or ']' unescaped, invalid UTF-8, or the class ends with it).
bool take_class_char(std::string_view& chunk, char32_t* out) {
    if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') return false;
    if (chunk[0] == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return false;
    }
    const utf8::Rune r = utf8::decode(chunk);
    if (r.invalid()) return false;
    chunk.remove_prefix(r.width);
    *out = r.rune;
    return !chunk.empty();
}

// Go's matchChunk: whether `chunk` matches a prefix of `s` (the rest goes to
// *rest). It parses the whole chunk even after a mismatch, so kBad depends on
// the chunk alone, never on `s`.
ChunkResult match_chunk(std::string_view chunk, std::string_view s, std::string_view* rest) {
    bool failed = false;
    while (!chunk.empty()) {
        if (s.empty()) failed = true;
        switch (chunk[0]) {
            case '[': {
                char32_t r = 0;
                if (!failed) {
                    const utf8::Rune d = utf8::decode(s);
                    r = d.rune;
                    s.remove_prefix(d.width);
                }
                chunk.remove_prefix(1);
                bool negated = false;
                if (!chunk.empty() && chunk[0] == '^') {
                    negated = true;
                    chunk.remove_prefix(1);
                }
                bool hit = false;
                for (size_t ranges = 0;; ++ranges) {
                    if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
                        chunk.remove_prefix(1);
                        break;
                    }
                    char32_t lo = 0;
                    if (!take_class_char(chunk, &lo)) return ChunkResult::kBad;
                    char32_t hi = lo;
                    if (chunk[0] == '-') {
                        chunk.remove_prefix(1);
                        if (!take_class_char(chunk, &hi)) return ChunkResult::kBad;
                    }
                    if (lo <= r && r <= hi) hit = true;
                }
                if (hit == negated) failed = true;
                break;
            }
            case '?':
                if (!failed) {
                    if (s[0] == '/') failed = true;
                    s.remove_prefix(utf8::decode(s).width);
                }
                chunk.remove_prefix(1);
                break;
            case '\\':
                chunk.remove_prefix(1);
                if (chunk.empty()) return ChunkResult::kBad;
                [[fallthrough]];
            default:
                if (!failed) {
                    if (chunk[0] != s[0]) failed = true;
                    s.remove_prefix(1);
                }
                chunk.remove_prefix(1);
                break;
        }
    }
    if (failed) return ChunkResult::kNoMatch;
    *rest = s;
    return ChunkResult::kMatch;
}

}  // namespace

MatchResult match(std::string_view pattern, std::string_view name) {
    while (!pattern.empty()) {
        const Chunk chunk = take_chunk(pattern);
        if (chunk.star && chunk.text.empty()) {
            // A trailing star takes the rest of the name unless it has a '/'.
            return name.find('/') == std::string_view::npos ? MatchResult::kMatch
                                                            : MatchResult::kNoMatch;
        }
        const bool last = pattern.empty();
        std::string_view rest;
        const ChunkResult here = match_chunk(chunk.text, name, &rest);
        if (here == ChunkResult::kBad) return MatchResult::kBadPattern;
        // The last chunk must also use up the name.
        if (here == ChunkResult::kMatch && (rest.empty() || !last)) {
            name = rest;
            continue;
        }
        bool found = false;
        if (chunk.star) {
            // The star takes i+1 more bytes (never a '/'); the leftmost place
            // where the chunk matches wins. The chunk parsed without error
            // above, so no attempt here can be kBad.
            for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
                if (match_chunk(chunk.text, name.substr(i + 1), &rest) != ChunkResult::kMatch)
                    continue;
                if (last && !rest.empty()) continue;
                name = rest;
                found = true;
                break;
            }
        }
        if (found) continue;
        // No match; the rest of the pattern must still be well formed.
        return is_valid_pattern(pattern) ? MatchResult::kNoMatch : MatchResult::kBadPattern;
    }
    return name.empty() ? MatchResult::kMatch : MatchResult::kNoMatch;
}

bool is_valid_pattern(std::string_view pattern) {
    while (!pattern.empty()) {
        const Chunk chunk = take_chunk(pattern);
        std::string_view rest;
        if (match_chunk(chunk.text, {}, &rest) == ChunkResult::kBad) return false;
    }
    return true;
}

}  // namespace strata::go::path
