// The character classes of Go's `unicode` package that Docker's rules use:
// IsSpace (strings.TrimSpace, word splitting), IsLetter/IsDigit (`$name` in
// BuildKit's shell lexer) and IsPrint (strconv.Quote, i.e. `%q`). The tables
// are generated from the Unicode version Go uses (unicode_tables.cpp,
// scripts/gen_go_unicode_tables.py). Callers pass decoded runes
// (go/utf8.hpp); RuneError is in no class but IsPrint, as in Go.
#pragma once

namespace strata::go::unicode {

// unicode.IsSpace: '\t' '\n' '\v' '\f' '\r' ' ' U+0085 U+00A0 and the other
// White_Space characters.
bool is_space(char32_t r);

// unicode.IsLetter: general category L (Lu, Ll, Lt, Lm, Lo).
bool is_letter(char32_t r);

// unicode.IsDigit: general category Nd.
bool is_digit(char32_t r);

// unicode.IsPrint (= strconv.IsPrint): categories L, M, N, P, S and U+0020;
// no other space, no control, format, private-use or unassigned code point.
bool is_print(char32_t r);

// The Unicode version of the tables ("15.0.0", as unicode.Version in Go 1.21+).
const char* tables_version();

}  // namespace strata::go::unicode
