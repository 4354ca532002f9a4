// Quotes, the escape character (both `\` and `` ` ``) and the lexer options
// (raw quotes, raw escapes, skip unset env, skip processing quotes).
#include <gtest/gtest.h>

#include <string>

#include "frontend/shell_expander.hpp"

using namespace strata::frontend;

namespace {

const Env kEnv{{"A", "x"}, {"SP", "a b"}, {"EMPTY", ""}};

ShellOptions with_escape(char esc) {
    ShellOptions o;
    o.escape = esc;
    return o;
}

struct Case {
    const char* input;
    const char* expected;  // nullptr: must fail
};

void check(const Case& c, const ShellOptions& opts) {
    SCOPED_TRACE(c.input);
    if (c.expected == nullptr) {
        EXPECT_THROW(expand_word(c.input, kEnv, opts), ShellError);
        return;
    }
    std::string actual;
    ASSERT_NO_THROW(actual = expand_word(c.input, kEnv, opts).word);
    EXPECT_EQ(actual, c.expected);
}

TEST(ShellQuoting, BackslashEscape) {
    const Case cases[] = {
        {"plain text", "plain text"},
        {"a\\ b", "a b"},
        {"a\\$A", "a$A"},
        {"a\\\\$A", "a\\x"},
        {"\\'x\\'", "'x'"},
        {"\\\"x\\\"", "\"x\""},
        {"a\\nb", "anb"},
        {"trailing\\", "trailing"},
        {"\\한", "한"},
        {"'single $A \\ \"'", "single $A \\ \""},
        {"'it'\\''s'", "it's"},
        {"\"double $A\"", "double x"},
        {"\"a\\\"b\"", "a\"b"},
        {"\"a\\$A\"", "a$A"},
        {"\"a\\\\b\"", "a\\b"},
        {"\"a\\b\"", "a\\b"},  // only " $ \ can be escaped inside double quotes
        {"\"a'b\"", "a'b"},
        {"'a\"b'", "a\"b"},
        {"\"\"''", ""},
        {"\"$SP\"", "a b"},
        {"\"${A:-\"q\"}\"", "x"},
        {"\"${U:-\"q r\"}\"", "q r"},
        {"a`b", "a`b"},
        {"'unterminated", nullptr},
        {"\"unterminated", nullptr},
        {"\"ends in escape\\", nullptr},
        {"\"ends in escaped quote\\\"", nullptr},
    };
    for (const Case& c : cases)
        check(c, {});
}

TEST(ShellQuoting, BacktickEscape) {
    // `# escape=`` `: backslashes are ordinary (Windows paths), the backtick escapes.
    const ShellOptions opts = with_escape('`');
    const Case cases[] = {
        {"C:\\path\\to\\$A", "C:\\path\\to\\x"},
        {"a`$A", "a$A"},
        {"a``$A", "a`x"},
        {"a` b", "a b"},
        {"trailing`", "trailing"},
        {"\"a`\"b\"", "a\"b"},
        {"\"a`$A\"", "a$A"},
        {"\"a``b\"", "a`b"},
        {"\"a`b\"", "a`b"},
        {"\"a\\b\"", "a\\b"},
        {"\"a\\\"", "a\\"},  // the backslash does not escape the closing quote
        {"'a`b'", "a`b"},
        {"${U:-a`}b}", "a}b"},
        {"\"`", nullptr},
    };
    for (const Case& c : cases)
        check(c, opts);
}

TEST(ShellQuoting, RawQuotesKeepQuoteCharacters) {
    ShellOptions opts;
    opts.raw_quotes = true;
    const Case cases[] = {
        {"'a $A'", "'a $A'"}, {"\"a $A\"", "\"a x\""},
        {"x\"\"y", "x\"\"y"}, {"\"a\\\"b\"", "\"a\"b\""},
        {"\\'", "'"},
    };
    for (const Case& c : cases)
        check(c, opts);
}

TEST(ShellQuoting, RawEscapesKeepEscapeCharacters) {
    ShellOptions opts;
    opts.raw_escapes = true;
    const Case cases[] = {
        {"a\\ b", "a\\ b"},
        {"a\\$A", "a\\$A"},
        {"trailing\\", "trailing\\"},
        {"\"a\\$A\"", "a\\$A"},
        {"\"a\\\"b\"", "a\\\"b"},
        // BuildKit writes a non-escaping backslash inside double quotes twice.
        {"\"a\\b\"", "a\\\\b"},
        // The words of ${x:-word} are lexed without raw escapes, as in BuildKit.
        {"${U:-a\\$A}", "a$A"},
    };
    for (const Case& c : cases)
        check(c, opts);
}

TEST(ShellQuoting, SkipUnsetEnvLeavesReferencesAsWritten) {
    ShellOptions opts;
    opts.skip_unset_env = true;
    const Case cases[] = {
        {"$U", "$U"},
        {"${U}", "${U}"},
        {"$A$U", "x$U"},
        {"${U:-d}", "${U:-d}"},
        {"${U-$A}", "${U-x}"},
        {"${U:+a}", "${U:+a}"},
        {"${U:?boom}", "${U:?boom}"},  // no error: it is left for later
        {"${U#*.}", "${U#*.}"},
        {"${U%%.*}", "${U%%.*}"},
        {"${U/a/b}", "${U/a/b}"},
        {"${U//a/$A}", "${U//a/x}"},
        {"${U:=x}", "${U:=x}"},
        {"$1 $@", "$1 $@"},
        {"${EMPTY:-d}", "d"},
        {"${A:+y}", "y"},
        {"$", "$"},
        {"${A:=x}", nullptr},  // set: the unsupported modifier is still an error
    };
    for (const Case& c : cases)
        check(c, opts);
}

TEST(ShellQuoting, SkipProcessQuotesTreatsQuotesAsText) {
    ShellOptions opts;
    opts.skip_process_quotes = true;
    const Case cases[] = {
        {"'$A'", "'x'"},
        {"\"$A\"", "\"x\""},
        {"it's", "it's"},
        {"\"unterminated $A", "\"unterminated x"},
        {"\\$A '\\$A'", "$A '$A'"},
        {"${U:-'}'}", "''}"},
    };
    for (const Case& c : cases)
        check(c, opts);
}

TEST(ShellQuoting, HeredocDetectionOptions) {
    // The combination BuildKit's parser uses to find heredoc names.
    ShellOptions opts;
    opts.raw_quotes = true;
    opts.raw_escapes = true;
    opts.skip_unset_env = true;
    const auto r = expand_words("cat <<\"EOF\" <<-'X' >$OUT \\\n", Env{}, opts);
    EXPECT_EQ(r.words, (std::vector<std::string>{"cat", "<<\"EOF\"", "<<-'X'", ">$OUT", "\\\n"}));
}

}  // namespace
