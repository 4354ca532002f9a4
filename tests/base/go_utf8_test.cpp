// Go's utf8.DecodeRuneInString and AppendRune (base/go/utf8.hpp).
#include "base/go/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace strata::go::utf8 {
namespace {

TEST(GoUtf8, DecodesShortestForms) {
    const struct {
        std::string bytes;
        char32_t rune;
        size_t width;
    } cases[] = {
        {"a", U'a', 1},
        {std::string(1, '\0'), 0, 1},
        {"\x7F", 0x7F, 1},
        {"\xC2\x80", 0x80, 2},
        {"\xC3\xA9", 0xE9, 2},
        {"\xDF\xBF", 0x7FF, 2},
        {"\xE0\xA0\x80", 0x800, 3},
        {"\xE2\x98\xBA", 0x263A, 3},
        {"\xED\x9F\xBF", 0xD7FF, 3},      // just below the surrogates
        {"\xEE\x80\x80", 0xE000, 3},      // just above them
        {"\xEF\xBF\xBD", kRuneError, 3},  // a real U+FFFD
        {"\xF0\x90\x80\x80", 0x10000, 4},
        {"\xF0\x9F\x98\x80", 0x1F600, 4},
        {"\xF4\x8F\xBF\xBF", 0x10FFFF, 4},
    };
    for (const auto& c : cases) {
        const Rune r = decode(c.bytes);
        EXPECT_EQ(r.rune, c.rune) << c.bytes;
        EXPECT_EQ(r.width, c.width) << c.bytes;
        EXPECT_FALSE(r.invalid());
    }
}

TEST(GoUtf8, RejectsWhatGoRejectsWithWidthOne) {
    const char* bad[] = {
        "\x80",                  // stray continuation byte
        "\xBF",                  //
        "\xC0\x80",              // overlong NUL
        "\xC1\xBF",              // overlong
        "\xE0\x80\x80",          // overlong 3-byte
        "\xE0\x9F\xBF",          // overlong 3-byte (U+07FF)
        "\xF0\x80\x80\x80",      // overlong 4-byte
        "\xF0\x8F\xBF\xBF",      // overlong 4-byte (U+FFFF)
        "\xED\xA0\x80",          // U+D800, a surrogate
        "\xED\xBF\xBF",          // U+DFFF
        "\xF4\x90\x80\x80",      // U+110000
        "\xF5\x80\x80\x80",      // F5-F7 would be above U+10FFFF
        "\xF7\xBF\xBF\xBF",      //
        "\xF8\x88\x80\x80\x80",  // 5-byte form
        "\xFF",                  //
        "\xC3",                  // truncated
        "\xE2\x98",              // truncated
        "\xF0\x9F\x98",          // truncated
        "\xC3\x28",              // bad continuation
        "\xE2\x28\xA1",          //
        "\xE2\x82\x28",          //
    };
    for (const char* b : bad) {
        const Rune r = decode(b);
        EXPECT_EQ(r.rune, kRuneError) << b;
        EXPECT_EQ(r.width, 1u) << b;
        EXPECT_TRUE(r.invalid()) << b;
    }
}

TEST(GoUtf8, DecodesAtAnOffsetAndAtTheEnd) {
    const std::string s = "x\xE2\x98\xBAy";
    EXPECT_EQ(decode(s, 1).rune, 0x263Au);
    EXPECT_EQ(decode(s, 4).rune, U'y');
    const Rune end = decode(s, s.size());
    EXPECT_EQ(end.rune, kRuneError);
    EXPECT_EQ(end.width, 0u);
    EXPECT_FALSE(end.invalid());
    // The middle of a sequence is invalid on its own, one byte at a time.
    EXPECT_TRUE(decode(s, 2).invalid());
}

TEST(GoUtf8, RuneCountCountsEachInvalidByte) {
    EXPECT_EQ(rune_count(""), 0u);
    EXPECT_EQ(rune_count("abc"), 3u);
    EXPECT_EQ(rune_count("a\xE2\x98\xBA"
                         "b"),
              3u);
    EXPECT_EQ(rune_count("\xE2\x98"), 2u);      // truncated: two invalid bytes
    EXPECT_EQ(rune_count("\xC0\xAF"), 2u);      // overlong: two invalid bytes
    EXPECT_EQ(rune_count("\x80\x80\x80"), 3u);  // stray continuation bytes
}

TEST(GoUtf8, AppendEncodesAndReplacesInvalidRunes) {
    std::string out;
    for (char32_t r : {U'a', char32_t{0xE9}, char32_t{0x263A}, char32_t{0x1F600}})
        append(out, r);
    EXPECT_EQ(out, "a\xC3\xA9\xE2\x98\xBA\xF0\x9F\x98\x80");
    out.clear();
    append(out, 0xD800);
    append(out, 0x110000);
    EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_TRUE(valid_rune(0x10FFFF));
    EXPECT_FALSE(valid_rune(0xDFFF));
}

TEST(GoUtf8, RoundTripsEveryScalarValue) {
    for (char32_t r = 0; r <= kMaxRune; ++r) {
        if (!valid_rune(r)) continue;
        std::string s;
        append(s, r);
        const Rune d = decode(s);
        ASSERT_EQ(d.rune, r);
        ASSERT_EQ(d.width, s.size());
    }
}

}  // namespace
}  // namespace strata::go::utf8
