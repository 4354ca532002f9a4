// Go's strconv.Quote (base/go/strconv.hpp): the cases of Go's quote tests
// plus the Unicode classes it relies on.
#include "base/go/strconv.hpp"

#include <gtest/gtest.h>

namespace strata::go::strconv {
namespace {

TEST(GoStrconv, QuoteLikeGo) {
    const struct {
        const char* in;
        const char* want;
    } cases[] = {
        {"", R"("")"},
        {"abc", R"("abc")"},
        {"\a\b\f\r\n\t\v", R"("\a\b\f\r\n\t\v")"},
        {"\\", R"("\\")"},
        {"say \"hi\"", R"("say \"hi\"")"},
        {"'", R"("'")"},
        {"abc\xff"
         "def",
         R"("abc\xffdef")"},
        {"\xE2\x98\xBA", "\"\xE2\x98\xBA\""},     // ☺ stays as it is
        {"\xF4\x8F\xBF\xBF", R"("\U0010ffff")"},  // unassigned
        {"\x04", R"("\x04")"},
        {"\x7F", R"("\x7f")"},
        {"!\xC2\xA0!\xE2\x80\x80!\xE3\x80\x80!", R"("!\u00a0!\u2000!\u3000!")"},
        {"\xC2\xAD", R"("\u00ad")"},                   // soft hyphen (Cf)
        {"\xEF\xBB\xBF", R"("\ufeff")"},               // BOM
        {"\xEE\x80\x80", R"("\ue000")"},               // private use
        {"\xC2\x85", R"("\u0085")"},                   // C1 control
        {"\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""},  // emoji stays
        {"\xED\xA0\x80", R"("\xed\xa0\x80")"},         // surrogate bytes, one by one
        {"\xC0\xAF", R"("\xc0\xaf")"},                 // overlong
        {"\xEF\xBF\xBD", "\"\xEF\xBF\xBD\""},          // a real U+FFFD is printable
        {"tab\there", R"("tab\there")"},
    };
    for (const auto& c : cases)
        EXPECT_EQ(quote(c.in), c.want) << c.in;
    EXPECT_EQ(quote(std::string_view("a\0b", 3)), R"("a\x00b")");
}

}  // namespace
}  // namespace strata::go::strconv
