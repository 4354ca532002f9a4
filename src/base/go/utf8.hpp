// Go's unicode/utf8 rules: how Go splits a byte string into characters.
// Docker's and BuildKit's text rules (.dockerignore, shell words, `%q`,
// wildcards) all read their input this way, so strata decodes with this one
// function wherever a rule is Go's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace strata::go::utf8 {

inline constexpr char32_t kRuneError = 0xFFFD;  // utf8.RuneError
inline constexpr char32_t kMaxRune = 0x10FFFF;  // unicode.MaxRune

// One decoded character and the bytes it took.
struct Rune {
    char32_t rune;
    size_t width;
    // How Go marks a byte that starts no valid sequence: RuneError of width 1
    // (a real U+FFFD in the text decodes with width 3).
    bool invalid() const { return rune == kRuneError && width == 1; }
};

// utf8.DecodeRuneInString(s[pos:]): the shortest-form encoding of a Unicode
// scalar value, or {kRuneError, 1} for anything else (overlong forms, UTF-16
// surrogates, values above U+10FFFF, lead bytes C0, C1, F5-FF, stray or
// missing continuation bytes); {kRuneError, 0} when pos is at the end.
Rune decode(std::string_view s, size_t pos = 0);

// utf8.RuneCountInString: the characters decode() finds in s (each invalid
// byte counts as one).
size_t rune_count(std::string_view s);

// utf8.ValidRune: a Unicode scalar value (not a surrogate, at most U+10FFFF).
constexpr bool valid_rune(char32_t r) {
    return r <= kMaxRune && (r < 0xD800 || r > 0xDFFF);
}

// utf8.AppendRune: appends the UTF-8 encoding of r; an invalid r appends
// U+FFFD.
void append(std::string& out, char32_t r);

}  // namespace strata::go::utf8
