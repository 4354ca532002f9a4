// Error messages (BuildKit's wording) and the byte offsets they point at.
#include <gtest/gtest.h>

#include <string>

#include "base/error.hpp"
#include "frontend/shell_expander.hpp"

using namespace strata::frontend;

namespace {

struct Case {
    const char* input;
    size_t offset;
    const char* detail;
};

const Env kEnv{{"S", "s"}, {"E", ""}, {"B", "b"}};

TEST(ShellErrors, MessagesAndOffsets) {
    const Case cases[] = {
        {"he'llo", 2, "unexpected end of statement while looking for matching single-quote"},
        {"\"hello", 0, "unexpected end of statement while looking for matching double-quote"},
        {"ok \"hello\\\"", 3,
         "unexpected end of statement while looking for matching double-quote"},
        {"ab${}", 2, "syntax error: bad substitution"},
        {"${{x}", 0, "syntax error: bad substitution"},
        {"${:-x}", 0, "syntax error: bad substitution"},
        {"${", 0, "syntax error: missing '}'"},
        {"${aaa", 0, "syntax error: missing '}'"},
        {"x${aaa:-bbb", 1, "syntax error: missing '}'"},
        {"x${aaa:-bbb ${foo}", 1, "syntax error: missing '}'"},
        {"${S:-\"a}", 0, "syntax error: missing '}'"},  // unterminated inside ${...}
        {"${S/x", 0, "syntax error: missing '/' in ${}"},
        {"${S/x/y", 0, "syntax error: missing '}'"},
        {"${U:?}", 0, "U: is not allowed to be unset"},
        {"${U?}", 0, "U: is not allowed to be unset"},
        {"${E:?}", 0, "E: is not allowed to be empty"},
        {"--${U:?need $B}", 2, "U: need b"},
        {"${E:?'must be set'}", 0, "E: must be set"},
        {"${S:=x}", 3, "unsupported modifier (:=) in substitution"},
        {"${S=x}", 3, "unsupported modifier (=) in substitution"},
        {"${S:#x}", 3, "unsupported modifier (:#) in substitution"},
        {"${S:%x}", 3, "unsupported modifier (:%) in substitution"},
        {"${S.}", 3, "unsupported modifier (.) in substitution"},
        {"${S€}", 3, "unsupported modifier (€) in substitution"},
        {"${S:YYY}", 3, "unsupported modifier (:Y) in substitution"},
        {"${S#\\q}", 0, "invalid pattern (\\q) in substitution: invalid escape '\\q'"},
        {"${S//\\a/b}", 0, "invalid pattern (\\a) in substitution: invalid escape '\\a'"},
        // Errors inside nested words surface as they are...
        {"${S:-${}}", 5, "syntax error: bad substitution"},
        {"${S:-${X:?boom}}", 5, "X: boom"},
        // ... unless the input ran out, which BuildKit reports as the outer
        // substitution's missing '}'.
        {"${S:-${X:?boom}", 0, "syntax error: missing '}'"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.input);
        try {
            const auto r = expand_word(c.input, kEnv);
            ADD_FAILURE() << "no error, got [" << r.word << "]";
        } catch (const ShellError& e) {
            EXPECT_EQ(e.detail(), c.detail);
            EXPECT_EQ(e.offset(), c.offset);
            const std::string what = e.what();
            EXPECT_EQ(what.rfind("failed to process \"", 0), 0u) << what;
            EXPECT_EQ(what.size() - what.rfind(c.detail), std::string(c.detail).size()) << what;
        }
    }
}

TEST(ShellErrors, WhatQuotesTheInputLikeGo) {
    try {
        expand_word("a\"b\\\n\t'", kEnv);
        FAIL() << "no error";
    } catch (const ShellError& e) {
        EXPECT_STREQ(e.what(),
                     "failed to process \"a\\\"b\\\\\\n\\t'\": unexpected end of statement while "
                     "looking for matching double-quote");
    }
    try {
        expand_word(std::string("\x01\xff한${", 7), kEnv);
        FAIL() << "no error";
    } catch (const ShellError& e) {
        EXPECT_STREQ(e.what(), "failed to process \"\\x01\\xff한${\": syntax error: missing '}'");
    }
}

TEST(ShellErrors, LongInputsAreCutInTheMessage) {
    const std::string input = std::string(10000, 'a') + "${";
    try {
        expand_word(input, kEnv);
        FAIL() << "no error";
    } catch (const ShellError& e) {
        EXPECT_EQ(e.offset(), 10000u);
        EXPECT_LT(std::string(e.what()).size(), 400u);
        EXPECT_NE(std::string(e.what()).find("...: syntax error: missing '}'"), std::string::npos);
    }
}

TEST(ShellErrors, IsAStrataParseError) {
    try {
        expand_words("${}", kEnv);
        FAIL() << "no error";
    } catch (const strata::Error& e) {
        EXPECT_EQ(e.kind(), strata::ErrorKind::kParse);
        EXPECT_NE(dynamic_cast<const ShellError*>(&e), nullptr);
    }
}

}  // namespace
