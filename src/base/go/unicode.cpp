#include "base/go/unicode.hpp"

#include <algorithm>

#include "base/go/unicode_tables.hpp"

namespace strata::go::unicode {

namespace {

bool in(std::span<const tables::Range> ranges, char32_t r) {
    const auto it =
        std::upper_bound(ranges.begin(), ranges.end(), r,
                         [](char32_t c, const tables::Range& x) { return c < x.first; });
    return it != ranges.begin() && r <= std::prev(it)->last;
}

}  // namespace

bool is_space(char32_t r) {
    if (r < 0x80) return r == ' ' || (r >= '\t' && r <= '\r');
    return in(tables::kWhiteSpaceRanges, r);
}

bool is_letter(char32_t r) {
    if (r < 0x80) return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
    return in(tables::kLetterRanges, r);
}

bool is_digit(char32_t r) {
    if (r < 0x80) return r >= '0' && r <= '9';
    return in(tables::kDigitRanges, r);
}

bool is_print(char32_t r) {
    if (r < 0x80) return r >= 0x20 && r < 0x7F;
    return in(tables::kPrintRanges, r);
}

const char* tables_version() {
    return tables::kVersion;
}

}  // namespace strata::go::unicode
