// Internal to the .dockerignore matcher: the few pieces of Go's standard library
// and of moby/patternmatcher whose exact behaviour Docker's ignore semantics
// depend on, re-implemented from their documented/observed behaviour.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace strata::frontend::dockerignore_detail {

inline constexpr char32_t kRuneError = 0xFFFD;
inline constexpr char32_t kMaxRune = 0x10FFFF;

// Go's utf8.DecodeRuneInString at byte `i`: invalid or truncated sequences
// (overlong forms, surrogates, > U+10FFFF) decode as U+FFFD of width 1.
char32_t decode_rune(std::string_view s, size_t i, size_t* width);

void append_utf8(std::string& out, char32_t r);

// strings.TrimSpace: trims Unicode White_Space from both ends.
std::string_view trim_space(std::string_view s);

// filepath.Clean on Unix (lexical: "//" → "/", drops ".", folds "x/..",
// "" → ".", no trailing slash except for "/").
std::string clean_path(std::string_view path);

// Whether filepath.Match would accept `pattern` (on Unix): the syntax check
// patternmatcher.New runs on every pattern.
bool is_valid_glob(std::string_view pattern);

// How patternmatcher matches one (cleaned) pattern.
enum class MatchKind {
    kExact,   // path == pattern
    kPrefix,  // "X**": path starts with X
    kSuffix,  // "**X": path ends with X, or "**/X" also matches "X"
    kRegex,   // everything else: the translated Go regular expression
};

struct Translation {
    MatchKind kind = MatchKind::kExact;
    std::string regex;  // Go regexp syntax; meaningful for kRegex only
};

// patternmatcher's compile(): turns a cleaned pattern into a match kind and a
// Go regular expression, character for character as Docker does (including
// its quirks: the class contents are translated too, `**` eats one `/`).
Translation translate_pattern(std::string_view pattern);

}  // namespace strata::frontend::dockerignore_detail
