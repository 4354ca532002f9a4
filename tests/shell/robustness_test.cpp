// Hostile input: invalid UTF-8, NUL bytes, very long words, deep nesting,
// random garbage. Expansion must return or throw ShellError, never crash,
// hang or overflow the stack.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

#include "frontend/shell_expander.hpp"

using namespace strata::frontend;
using namespace std::string_literals;

namespace {

const Env kEnv{{"A", "x"}, {"BIN", "\xff\xfe"s}, {"NUL", "a\0b"s}};

TEST(ShellRobustness, InvalidUtf8PassesThroughByteForByte) {
    EXPECT_EQ(expand_word("\xff$A\xfe", kEnv).word, "\xffx\xfe");
    EXPECT_EQ(expand_word("$A\xff", kEnv).word, "x\xff");  // the name stops at the bad byte
    EXPECT_EQ(expand_word("${U:-\xc3}", kEnv).word, "\xc3");
    EXPECT_EQ(expand_word("\"\xe2\x82\" '\xf0'", kEnv).word, "\xe2\x82 \xf0");
    EXPECT_EQ(expand_word("\\\xff", kEnv).word, "\xff");
    EXPECT_EQ(expand_word("${BIN#?}|${BIN%?}|${BIN//?/.}", kEnv).word, "\xfe|\xff|..");
    EXPECT_EQ(expand_words("\xff \xfe$BIN", kEnv).words,
              (std::vector<std::string>{"\xff", "\xfe\xff\xfe"}));
}

TEST(ShellRobustness, LeadingByteOrderMarkIsDropped) {
    EXPECT_EQ(expand_word("\xEF\xBB\xBF$A", kEnv).word, "x");
    EXPECT_EQ(expand_word("\xEF\xBB\xBFplain", kEnv).word, "plain");
    EXPECT_EQ(expand_words("\xEF\xBB\xBF a b", kEnv).words, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(expand_word("a\xEF\xBB\xBF", kEnv).word, "a\xEF\xBB\xBF");  // elsewhere: kept
    try {
        expand_word(
            "\xEF\xBB\xBF"
            "ab'",
            kEnv);
        FAIL() << "no error";
    } catch (const ShellError& e) {
        EXPECT_EQ(e.offset(), 5u);  // offsets count the mark's bytes
    }
}

TEST(ShellRobustness, NulBytesAreOrdinaryCharacters) {
    EXPECT_EQ(expand_word("a\0$A\0b"s, kEnv).word, "a\0x\0b"s);
    EXPECT_EQ(expand_word("$NUL", kEnv).word, "a\0b"s);
    EXPECT_EQ(expand_word("${NUL#a?}", kEnv).word, "b");
    EXPECT_EQ(expand_word("'\0'"s, kEnv).word, "\0"s);
    EXPECT_THROW(expand_word("\"\0"s, kEnv), ShellError);
}

TEST(ShellRobustness, VeryLongInputs) {
    const std::string plain(1 << 20, 'a');
    EXPECT_EQ(expand_word(plain, kEnv).word, plain);
    EXPECT_EQ(expand_words(plain, kEnv).words.size(), 1u);

    std::string refs;
    for (int i = 0; i < 100000; ++i)
        refs += "$A";
    EXPECT_EQ(expand_word(refs, kEnv).word, std::string(100000, 'x'));

    const std::string quoted = "'" + plain + "'\"" + plain + "\"";
    EXPECT_EQ(expand_word(quoted, kEnv).word.size(), 2u << 20);

    std::string spaced;
    for (int i = 0; i < 100000; ++i)
        spaced += "w ";
    EXPECT_EQ(expand_words(spaced, kEnv).words.size(), 100000u);
}

TEST(ShellRobustness, PatternsStayLinear) {
    // Patterns that make a backtracking matcher explode.
    const Env env{{"V", std::string(50000, 'a')}};
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(expand_word("${V##*a*a*a*a*a*a*a*a*b}", env).word.size(), 50000u);
    EXPECT_EQ(expand_word("${V%%*a*a*a*a*a*a*a*a*b}", env).word.size(), 50000u);
    EXPECT_EQ(expand_word("${V//*a*a*a*b/x}", env).word.size(), 50000u);
    EXPECT_EQ(expand_word("${V//?/xy}", env).word.size(), 100000u);
    EXPECT_EQ(expand_word("${V//a/}", env).word, "");
    const auto secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(secs, 20.0);
}

std::string nest(int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i)
        s += "${v" + std::to_string(i) + ":-";
    s += "end";
    s += std::string(static_cast<size_t>(depth), '}');
    return s;
}

TEST(ShellRobustness, NestingIsBounded) {
    EXPECT_EQ(expand_word(nest(kMaxNesting), kEnv).word, "end");
    try {
        expand_word(nest(kMaxNesting + 1), kEnv);
        FAIL() << "no error";
    } catch (const ShellError& e) {
        EXPECT_NE(e.detail().find("nested more than"), std::string::npos) << e.what();
    }
    // Far deeper input, with and without double quotes in between: an error,
    // not a stack overflow.
    EXPECT_THROW(expand_word(nest(200000), kEnv), ShellError);
    std::string quoted;
    for (int i = 0; i < 100000; ++i)
        quoted += "\"${a:-";
    EXPECT_THROW(expand_word(quoted, kEnv), ShellError);
    std::string open(100000, '$');
    for (char& c : open)
        c = (&c - open.data()) % 2 ? '{' : '$';
    EXPECT_THROW(expand_word(open, kEnv), ShellError);
}

TEST(ShellRobustness, RandomInputNeverCrashes) {
    static const char kAlphabet[] = {'$',  '{',  '}', ':',    '-',    '+',   '?', '#', '%',
                                     '/',  '\\', '`', '\'',   '"',    'a',   'A', '_', '1',
                                     ' ',  '\n', '*', '[',    ']',    '!',   '^', '@', '.',
                                     '\0', 'x',  '=', '\xff', '\xc3', '\xa9'};
    std::mt19937 rng(12345);
    const Env env{{"a", "v*a l"}, {"A", ""}, {"_", "[x]"}, {"1", "one"}};
    int ok = 0;
    int errors = 0;
    for (int i = 0; i < 30000; ++i) {
        std::string input;
        const size_t len = rng() % 40;
        for (size_t j = 0; j < len; ++j)
            input += kAlphabet[rng() % sizeof(kAlphabet)];
        ShellOptions opts;
        opts.escape = rng() % 2 ? '\\' : '`';
        opts.raw_quotes = rng() % 4 == 0;
        opts.raw_escapes = rng() % 4 == 0;
        opts.skip_unset_env = rng() % 4 == 0;
        opts.skip_process_quotes = rng() % 4 == 0;
        opts.bracket_patterns = rng() % 2 == 0;
        try {
            const auto r = expand_word(input, env, opts);
            const auto w = expand_words(input, env, opts);  // same input: same verdict
            EXPECT_EQ(r.referenced, w.referenced) << input;
            ++ok;
        } catch (const ShellError& e) {
            EXPECT_LE(e.offset(), input.size()) << input;
            EXPECT_THROW(expand_words(input, env, opts), ShellError) << input;
            ++errors;
        }
    }
    EXPECT_GT(ok, 1000);
    EXPECT_GT(errors, 1000);
}

}  // namespace
