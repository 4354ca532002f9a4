// Go's unicode classes and strings.TrimSpace (base/go/unicode.hpp,
// base/go/strings.hpp), with the tables of Unicode 15.0.0 as Go 1.21+ has.
#include "base/go/unicode.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/go/strings.hpp"

namespace strata::go::unicode {
namespace {

TEST(GoUnicode, TablesAreUnicode15) {
    EXPECT_STREQ(tables_version(), "15.0.0");
    // Added in 15.0: CJK Extension H, Kawi and Nag Mundari letters and digits,
    // a Cyrillic modifier letter.
    EXPECT_TRUE(is_letter(0x31350));
    EXPECT_TRUE(is_letter(0x323AF));
    EXPECT_TRUE(is_letter(0x11F04));
    EXPECT_TRUE(is_letter(0x1E4D0));
    EXPECT_TRUE(is_letter(0x1E030));
    EXPECT_TRUE(is_digit(0x11F50));
    EXPECT_TRUE(is_digit(0x1E4F9));
    EXPECT_TRUE(is_print(0x31350));
}

TEST(GoUnicode, IsSpaceIsWhiteSpace) {
    for (char32_t r : {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', char32_t{0x85}, char32_t{0xA0},
                       char32_t{0x1680}, char32_t{0x2000}, char32_t{0x200A}, char32_t{0x2028},
                       char32_t{0x2029}, char32_t{0x202F}, char32_t{0x205F}, char32_t{0x3000}})
        EXPECT_TRUE(is_space(r)) << std::hex << static_cast<uint32_t>(r);
    for (char32_t r : {U'a', U'\0', char32_t{0x1C}, char32_t{0x200B}, char32_t{0x180E},
                       char32_t{0xFEFF}, char32_t{0xFFFD}})
        EXPECT_FALSE(is_space(r)) << std::hex << static_cast<uint32_t>(r);
}

TEST(GoUnicode, LettersAndDigits) {
    EXPECT_TRUE(is_letter(U'a'));
    EXPECT_TRUE(is_letter(U'Z'));
    EXPECT_FALSE(is_letter(U'_'));
    EXPECT_FALSE(is_letter(U'1'));
    EXPECT_TRUE(is_letter(0xE9));     // é
    EXPECT_TRUE(is_letter(0x3B6));    // ζ
    EXPECT_TRUE(is_letter(0x4E00));   // CJK
    EXPECT_TRUE(is_letter(0x2B0));    // ʰ, Lm
    EXPECT_FALSE(is_letter(0x300));   // combining grave, Mn
    EXPECT_FALSE(is_letter(0x2160));  // Ⅰ, Nl: a number, not a letter
    EXPECT_TRUE(is_digit(U'7'));
    EXPECT_TRUE(is_digit(0x663));    // Arabic-Indic three
    EXPECT_TRUE(is_digit(0xFF19));   // fullwidth nine
    EXPECT_FALSE(is_digit(0xB2));    // ², No
    EXPECT_FALSE(is_digit(0x2160));  // Nl
    EXPECT_FALSE(is_letter(0xFFFD));
    EXPECT_FALSE(is_digit(0xFFFD));
}

TEST(GoUnicode, IsPrint) {
    EXPECT_TRUE(is_print(U' '));
    EXPECT_TRUE(is_print(U'~'));
    EXPECT_FALSE(is_print(0x7F));
    EXPECT_FALSE(is_print(U'\n'));
    EXPECT_FALSE(is_print(0x85));  // C1 control
    EXPECT_FALSE(is_print(0xA0));  // Zs other than U+0020
    EXPECT_FALSE(is_print(0x3000));
    EXPECT_FALSE(is_print(0xAD));    // soft hyphen, Cf
    EXPECT_FALSE(is_print(0x200B));  // Cf
    EXPECT_FALSE(is_print(0xFEFF));  // Cf
    EXPECT_FALSE(is_print(0x378));   // unassigned
    EXPECT_FALSE(is_print(0xE000));  // private use
    EXPECT_FALSE(is_print(0xD800));  // surrogate
    EXPECT_FALSE(is_print(0x110000));
    EXPECT_TRUE(is_print(0xE9));
    EXPECT_TRUE(is_print(0x300));   // Mn
    EXPECT_TRUE(is_print(0x263A));  // So
    EXPECT_TRUE(is_print(0xFFFD));
    EXPECT_TRUE(is_print(0x1F600));
}

TEST(GoStrings, TrimSpaceIsUnicodeAware) {
    using strings::trim_space;
    EXPECT_EQ(trim_space(" \t\v\f\r\n a b \n"), "a b");
    EXPECT_EQ(trim_space("\xE3\x80\x80x\xC2\x85"), "x");      // U+3000, U+0085
    EXPECT_EQ(trim_space("\xC2\xA0x\xE2\x80\xA8"), "x");      // U+00A0, U+2028
    EXPECT_EQ(trim_space("\xEF\xBB\xBFx"), "\xEF\xBB\xBFx");  // U+FEFF is not a space
    EXPECT_EQ(trim_space("\xFF "), "\xFF");                   // invalid UTF-8 is not
    EXPECT_EQ(trim_space(" \xE2\x80"), "\xE2\x80");
    EXPECT_EQ(trim_space("   "), "");
    EXPECT_EQ(trim_space(""), "");
    const std::string s = "  keep  ";
    EXPECT_EQ(trim_space(s).data(), s.data() + 2);  // a view into the input
}

}  // namespace
}  // namespace strata::go::unicode
