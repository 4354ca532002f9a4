// Shell patterns for ${VAR#pat}, ${VAR%pat} and ${VAR/pat/rep}.
//
// BuildKit turns the pattern into a Go regular expression and lets Go's
// leftmost-first engine pick the match; this matcher reproduces the same
// choice without regular expressions (a Pike VM over the pattern's tokens:
// linear time, no backtracking, no recursion):
//
// - `*` is `.*` (longest-first for ##, %%, / and //; shortest-first for # and
//   %), `?` is `.`; as in Go, neither matches a newline.
// - `\` escapes `*`, `?` and `\`; before `}` and `/` it is dropped (those had
//   to be escaped to stay inside ${...}); any other escape is an error
//   ("invalid escape '\x'").
// - ${VAR%pat} matches the reversed pattern against the reversed value, as
//   BuildKit does, so "shortest/longest suffix" means what it means there.
// - ${VAR//pat/rep} replaces as Go's Regexp.ReplaceAllString does, including
//   its expansion of `$0`, `${0}`, `$$` and other `$name`s (empty) in `rep`;
//   ${VAR/pat/rep} splices `rep` in literally.
// - Bracket expressions (`[a-z]`, `[!abc]`, `[^abc]`, `[[:digit:]]`, `\]`
//   inside) are shell globs when `brackets` is true. BuildKit has none: with
//   `brackets` false, `[` and `]` are ordinary characters, as there. An
//   unterminated `[` is an ordinary character in both modes.
//
// Values are processed per UTF-8 character; an invalid byte is one
// character that `?`/`*` match and literals compare byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::frontend::shell_pattern {

// A pattern that cannot be compiled; `what` is BuildKit's wording
// ("invalid escape '\x'").
struct PatternError {
    std::string what;
};

class Pattern {
  public:
    // Throws PatternError.
    static Pattern compile(std::string_view text, bool brackets);

    // What is left of `value` after removing the shortest (or longest)
    // prefix / suffix that matches; `value` itself when none matches.
    std::string_view trim_prefix(std::string_view value, bool longest) const;
    std::string_view trim_suffix(std::string_view value, bool longest) const;

    // `value` with the first (or every) match replaced.
    std::string replace(std::string_view value, std::string_view replacement, bool all) const;

  private:
    enum class Kind : uint8_t { kLiteral, kAny, kStar, kClass };
    struct Token {
        Kind kind;
        uint32_t a = 0;  // literal: offset in bytes_; class: index in classes_
        uint32_t b = 0;  // literal: length in bytes
    };
    struct Range {
        char32_t lo;
        char32_t hi;
    };
    struct Class {
        bool negated = false;
        uint32_t named = 0;  // bit set of [:name:] classes
        std::vector<Range> ranges;
    };
    struct Unit {
        size_t off;  // byte offset in the value
        char32_t cp;
    };
    struct Span {
        size_t begin;  // in units, in the direction of the search
        size_t end;
    };
    class Matcher;

    bool parse_bracket(std::string_view text, size_t& pos);
    bool class_matches(const Class& c, char32_t cp) const;

    std::string bytes_;  // the literal characters' bytes
    std::vector<Token> tokens_;
    std::vector<Class> classes_;
};

}  // namespace strata::frontend::shell_pattern
