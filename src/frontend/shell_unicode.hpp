// The little Unicode the shell-word expander needs: UTF-8 decoding and the
// character classes of Go's `unicode` package that BuildKit's lexer uses
// (IsSpace for word splitting, IsLetter/IsDigit for `$name`).
//
// Decoding follows Go's utf8.DecodeRune: a byte that does not start a valid,
// shortest-form sequence (no surrogates, at most U+10FFFF) is one unit of
// length 1 with the value kInvalid. Callers keep the original bytes, so
// invalid UTF-8 passes through expansion unchanged.
#pragma once

#include <cstddef>
#include <string_view>

namespace strata::frontend::shell_unicode {

inline constexpr char32_t kInvalid = 0xFFFFFFFF;  // not a code point: matches no class

struct Rune {
    char32_t cp;  // code point, or kInvalid
    size_t len;   // bytes it occupies: 1..4
};

// Decodes the character starting at s[pos] (pos < s.size()).
inline Rune decode(std::string_view s, size_t pos) {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80) return {b0, 1};
    const size_t avail = s.size() - pos;
    auto cont = [&](size_t i) {
        return i < avail && (static_cast<unsigned char>(s[pos + i]) & 0xC0) == 0x80;
    };
    auto bits = [&](size_t i) { return static_cast<char32_t>(s[pos + i]) & 0x3F; };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (cont(1)) return {(static_cast<char32_t>(b0 & 0x1F) << 6) | bits(1), 2};
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (cont(1) && cont(2)) {
            const char32_t cp = (static_cast<char32_t>(b0 & 0x0F) << 12) | (bits(1) << 6) | bits(2);
            if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3};
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (cont(1) && cont(2) && cont(3)) {
            const char32_t cp = (static_cast<char32_t>(b0 & 0x07) << 18) | (bits(1) << 12) |
                                (bits(2) << 6) | bits(3);
            if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4};
        }
    }
    return {kInvalid, 1};
}

// Go's unicode.IsSpace: ASCII white space, U+0085, U+00A0 and the other
// White_Space characters.
inline bool is_space(char32_t cp) {
    switch (cp) {
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
            return cp >= 0x2000 && cp <= 0x200A;
    }
}

// Go's unicode.IsLetter (categories L*) and unicode.IsDigit (category Nd).
bool is_letter(char32_t cp);
bool is_digit(char32_t cp);

}  // namespace strata::frontend::shell_unicode
