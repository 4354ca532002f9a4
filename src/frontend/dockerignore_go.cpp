#include "frontend/dockerignore_go.hpp"

#include "base/go/utf8.hpp"

namespace strata::frontend::dockerignore_detail {

namespace {

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

Translation translate_pattern(std::string_view pattern) {
    // patternmatcher reads the pattern with text/scanner, which yields U+FFFD
    // for invalid bytes and silently drops a leading byte order mark.
    std::u32string runes;
    for (size_t i = 0; i < pattern.size();) {
        const go::utf8::Rune r = go::utf8::decode(pattern, i);
        runes.push_back(r.rune);
        i += r.width;
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
            go::utf8::append(t.regex, ch);
        } else if (ch == '\\') {
            t.regex.push_back('\\');
            if (!at_end()) {
                go::utf8::append(t.regex, runes[pos++]);
                t.kind = MatchKind::kRegex;
            }
        } else if (ch == '[' || ch == ']') {
            go::utf8::append(t.regex, ch);
            t.kind = MatchKind::kRegex;
        } else {
            go::utf8::append(t.regex, ch);
        }
    }
    if (t.kind == MatchKind::kRegex) t.regex.push_back('$');
    return t;
}

}  // namespace strata::frontend::dockerignore_detail
