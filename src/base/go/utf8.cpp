#include "base/go/utf8.hpp"

namespace strata::go::utf8 {

Rune decode(std::string_view s, size_t pos) {
    if (pos >= s.size()) return {kRuneError, 0};
    const auto at = [&](size_t k) { return static_cast<unsigned char>(s[pos + k]); };
    const unsigned char b0 = at(0);
    if (b0 < 0x80) return {b0, 1};
    // The lead byte fixes the length and the range of the second byte (which
    // is what excludes overlong forms, surrogates and values past U+10FFFF);
    // later bytes are plain continuation bytes 80-BF.
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return {kRuneError, 1};
    }
    if (s.size() - pos < len) return {kRuneError, 1};
    if (at(1) < lo || at(1) > hi) return {kRuneError, 1};
    char32_t r = b0 & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
        const unsigned char b = at(k);
        if (k > 1 && (b < 0x80 || b > 0xBF)) return {kRuneError, 1};
        r = (r << 6) | (b & 0x3F);
    }
    return {r, len};
}

size_t rune_count(std::string_view s) {
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++n)
        i += decode(s, i).width;
    return n;
}

void append(std::string& out, char32_t r) {
    if (!valid_rune(r)) r = kRuneError;
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

}  // namespace strata::go::utf8
