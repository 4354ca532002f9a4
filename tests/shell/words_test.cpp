// Word splitting (expand_words): where white space separates words.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frontend/shell_expander.hpp"

using namespace strata::frontend;

namespace {

using Words = std::vector<std::string>;

struct Case {
    const char* input;
    Words expected;
};

const Env kEnv{{"V", "x  y"}, {"LEAD", " x"}, {"NBSP", "x\u00a0y"}, {"E", ""}, {"A", "a"}};

TEST(ShellWords, Splitting) {
    const Case cases[] = {
        {"", {}},
        {"   ", {}},
        {"a", {"a"}},
        {"a b", {"a", "b"}},
        {"  a \t b\n c  ", {"a", "b", "c"}},
        {"a\\ b", {"a b"}},
        {"\"a b\" c", {"a b", "c"}},
        {"'a  b'c d", {"a  bc", "d"}},
        {"\"\" a ''", {"a"}},  // empty quoted strings do not make words
        {"$V", {"x", "y"}},
        {"\"$V\"", {"x  y"}},
        {"p$V", {"px", "y"}},
        {"p$LEAD", {"p", "x"}},
        {"$E", {}},
        {"a${E}b", {"ab"}},
        {"$NBSP", {"x", "y"}},  // U+00A0 is white space to Go's unicode.IsSpace
        {"x\u3000y", {"x", "y"}},
        {"x\\\u00a0y", {"x\u00a0y"}},   // escaped: no split
        {"${U:-a b}", {"a", "b"}},      // a default word is split like any $ result
        {"${U:-\"a b\"}", {"a", "b"}},  // ... even when it was quoted inside ${}
        {"\"${U:-a b}\"", {"a b"}},
        {"$A$A $A", {"aa", "a"}},
        {"a\\", {"a"}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.input);
        Words actual;
        ASSERT_NO_THROW(actual = expand_words(c.input, kEnv).words);
        EXPECT_EQ(actual, c.expected);
    }
}

TEST(ShellWords, WordKeepsWhiteSpaceThatWordsSplitOn) {
    EXPECT_EQ(expand_word("  a $V ", kEnv).word, "  a x  y ");
    EXPECT_EQ(expand_words("  a $V ", kEnv).words, (Words{"a", "x", "y"}));
}

TEST(ShellWords, ErrorsAndReferences) {
    EXPECT_THROW(expand_words("a \"b", kEnv), ShellError);
    EXPECT_THROW(expand_words("${}", kEnv), ShellError);
    const auto r = expand_words("$A ${U:-$V}", kEnv);
    EXPECT_EQ(r.words, (Words{"a", "x", "y"}));
    EXPECT_EQ(r.referenced, (Words{"A", "U", "V"}));
    EXPECT_EQ(r.unset, (Words{"U"}));
}

}  // namespace
