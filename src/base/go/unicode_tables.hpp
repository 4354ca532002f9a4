// Internal to go/unicode.cpp: the generated class tables (unicode_tables.cpp,
// made by scripts/gen_go_unicode_tables.py). Each is sorted and disjoint.
#pragma once

#include <span>

namespace strata::go::unicode::tables {

struct Range {
    char32_t first;
    char32_t last;
};

extern const std::span<const Range> kWhiteSpaceRanges;
extern const std::span<const Range> kLetterRanges;
extern const std::span<const Range> kDigitRanges;
extern const std::span<const Range> kPrintRanges;
extern const char* const kVersion;  // the Unicode version the tables come from

}  // namespace strata::go::unicode::tables
