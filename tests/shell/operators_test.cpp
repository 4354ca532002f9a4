// Every ${...} operator, table-driven. Rows marked "buildkit" are the cases
// of BuildKit's TestProcessWithMatches / TestShellParserMandatoryEnvVars
// (lex_test.go), with the names each one must report as used / unset.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frontend/shell_expander.hpp"

using namespace strata::frontend;

namespace {

struct Row {
    const char* input;
    Env env;
    const char* expected;  // nullptr: must fail
    std::vector<std::string> referenced = {};
    std::vector<std::string> unset = {};
};

const Env kFooBar{{"FOO", "xxx"}, {"BAR", ""}};

const std::vector<Row>& rows() {
    static const std::vector<Row> kRows = {
        // buildkit
        {"x", {{"DUMMY", "dummy"}}, "x"},
        {"x ${UNUSED}", {{"DUMMY", "dummy"}}, "x ", {"UNUSED"}, {"UNUSED"}},
        {"x ${FOO}", {{"FOO", "y"}}, "x y", {"FOO"}},
        {"${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", kFooBar, "xxx  ccc", {"BAR", "BAZ", "FOO"}, {"BAZ"}},
        {"${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
         kFooBar,
         "xxx bbb ccc",
         {"BAR", "BAZ", "FOO"},
         {"BAZ"}},
        {"${FOO:-}", kFooBar, "xxx", {"FOO"}},
        {"${FOO:-}", {}, "", {"FOO"}, {"FOO"}},
        {"${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", kFooBar, "aaa bbb ", {"BAR", "BAZ", "FOO"}, {"BAZ"}},
        {"${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", kFooBar, "aaa  ", {"BAR", "BAZ", "FOO"}, {"BAZ"}},
        {"${FOO?aaa}", kFooBar, "xxx", {"FOO"}},
        {"${BAR?bbb}", kFooBar, "", {"BAR"}},
        {"${BAZ?ccc}", kFooBar, nullptr},
        {"${FOO:?aaa}", kFooBar, "xxx", {"FOO"}},
        {"${BAR:?bbb}", kFooBar, nullptr},
        {"${BAZ:?ccc}", kFooBar, nullptr},
        {"${BAZ:?}", kFooBar, nullptr},
        {"${FOO=aaa}", kFooBar, nullptr},
        {"${FOO=:aaa}", kFooBar, nullptr},
        {"${FOO=}", {}, nullptr},
        {"${FOO#()[]{\\}^$.\\*\\?|\\\\}", {{"FOO", "()[]{}^$.*?|\\x"}}, "x", {"FOO"}},
        {"${FOO%%\\**}", {{"FOO", "xx**"}}, "xx", {"FOO"}},
        {"${FOO#*x*y}", {{"FOO", "xxyy"}}, "y", {"FOO"}},
        {"${FOO#*}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
        {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", "x"}}, "xyy", {"BAR", "FOO"}},
        {"${FOO#$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy", {"BAR", "FOO"}},
        {"${FOO#}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
        {"${FOO##*x}", {{"FOO", "xxyy"}}, "yy", {"FOO"}},
        {"${FOO##}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
        {"${FOO#?\\?}", {{"FOO", "???y"}}, "?y", {"FOO"}},
        {"${ABC:-.}${FOO%x}${ABC:-.}", {{"FOO", "xxyy"}}, ".xxyy.", {"ABC", "FOO"}, {"ABC"}},
        {"${FOO%%\\**\\*}", {{"FOO", "a***yy*"}}, "a", {"FOO"}},
        {"${FOO%}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
        {"${FOO%%$BAR}", {{"FOO", "xxyy"}, {"BAR", ""}}, "xxyy", {"BAR", "FOO"}},
        {"${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
         {{"FOO", "/foo*/*/*.txt"}, {"NEEDLE", "\\*/"}},
         "/foo.*/*.txt - /foo..*.txt",
         {"FOO", "NEEDLE"}},
        {"${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
         {{"FOO", "/tmp/tmp/bar.txt"}, {"NEEDLE", "/tmp"}},
         "/tmp/bar.txt - /bar.txt",
         {"FOO", "NEEDLE"}},
        {"${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
         {{"FOO", "/a/foo/b/c.txt"}, {"NEEDLE", "/?/"}, {"REPLACEMENT", "/"}},
         "/foo/b/c.txt - /foo/c.txt",
         {"FOO", "NEEDLE", "REPLACEMENT"}},
        {"${FOO/$NEEDLE/$REPLACEMENT}",
         {{"FOO", "http://google.de"}, {"NEEDLE", "http://"}, {"REPLACEMENT", "https://"}},
         "https://google.de",
         {"FOO", "NEEDLE", "REPLACEMENT"}},
        {"${FOO//\\//\\/}", {{"FOO", "/tmp/foo.txt"}}, "\\/tmp\\/foo.txt", {"FOO"}},
        {"${FOO/$BAR/ww}", {{"FOO", "xxyy"}, {"BAR", ""}}, "wwxxyy", {"BAR", "FOO"}},
        {"${FOO//ww}", {{"FOO", "xxyy"}}, nullptr},
        {"${FOO//}", {{"FOO", "xxyy"}}, nullptr},
        {"${FOO///}", {{"FOO", "xxyy"}}, "xxyy", {"FOO"}},
        {"${FOO///}", {}, "", {"FOO"}, {"FOO"}},
        {"something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
         {{"VERSION", "v1.2.3"},
          {"TARGETOS", "linux"},
          {"TARGETARCH", "arm"},
          {"TARGETVARIANT", "v7"}},
         "something-v1.2.3.linux-arm-v7.tar.gz",
         {"TARGETARCH", "TARGETOS", "TARGETVARIANT", "VERSION"}},
        {"${VAR:?message here$ARG}", {{"VAR", "plain"}, {"ARG", "x"}}, "plain", {"ARG", "VAR"}},
        {"${VAR?message here$ARG}", {{"VAR", ""}, {"ARG", "x"}}, "", {"ARG", "VAR"}},

        // Defaults and alternatives: unset vs set-but-empty.
        {"${E-d}|${E:-d}|${U-d}|${U:-d}", {{"E", ""}}, "|d|d|d", {"E", "U"}, {"U"}},
        {"${E+a}|${E:+a}|${U+a}|${U:+a}", {{"E", ""}}, "a|||", {"E", "U"}, {"U"}},
        {"${S+a}|${S:+a}", {{"S", "s"}}, "a|a", {"S"}},
        {"${U:-${V:-${W:-deep}}}", {}, "deep", {"U", "V", "W"}, {"U", "V", "W"}},
        {"${U:-'a  b'}", {}, "a  b", {"U"}, {"U"}},
        {"${U:-\"$S x\"}", {{"S", "s"}}, "s x", {"S", "U"}, {"U"}},
        {"${U:-a\\}b}", {}, "a}b", {"U"}, {"U"}},
        {"${U:-a\"}\"b}", {}, "a}b", {"U"}, {"U"}},
        {"${S:+[$S]}", {{"S", "s"}}, "[s]", {"S"}},

        // Prefix / suffix removal, shortest and longest.
        {"${F#*.}|${F##*.}|${F%.*}|${F%%.*}",
         {{"F", "archive.tar.gz"}},
         "tar.gz|gz|archive.tar|archive",
         {"F"}},
        {"${F#a}|${F#x}|${F%z}|${F%gz}",
         {{"F", "archive.tar.gz"}},
         "rchive.tar.gz|archive.tar.gz|archive.tar.g|archive.tar.",
         {"F"}},
        {"${IMAGE%:*}:stable", {{"IMAGE", "busybox:latest"}}, "busybox:stable", {"IMAGE"}},
        {"base${TARGETARCH#riscv64}", {{"TARGETARCH", "riscv64"}}, "base", {"TARGETARCH"}},
        {"${F#?}|${F%?}|${F#??????????}", {{"F", "héllo"}}, "éllo|héll|héllo", {"F"}},
        {"${U#x}|${U%x}", {}, "|", {"U"}, {"U"}},
        {"${F#\"*\"}|${F##\"*\"}", {{"F", "*a"}}, "*a|", {"F"}},  // quotes removed: a wildcard

        // Replacement.
        {"${F/ba/fo}|${F//ba/fo}", {{"F", "foobarbaz"}}, "fooforbaz|fooforfoz", {"F"}},
        {"${F/x/y}|${F//x/y}", {{"F", "abc"}}, "abc|abc", {"F"}},
        {"${F//a/}", {{"F", "banana"}}, "bnn", {"F"}},
        {"${F//*/z}", {{"F", "xxyy"}}, "z", {"F"}},
        {"${F//$E/-}", {{"F", "ab"}, {"E", ""}}, "-a-b-", {"E", "F"}},
        {"${URL//arm64/aarch64}", {{"URL", "foo-arm64.tar.gz"}}, "foo-aarch64.tar.gz", {"URL"}},
        // Go's ReplaceAllString expands $0 (the match) and `$$` in the replacement;
        // the lexer keeps the escape, so `\$0` reaches it. A single `/` splices literally.
        {"${F//x/<\\$0>}", {{"F", "axbx"}}, "a<\\x>b<\\x>", {"F"}},
        {"${F/x/<\\$0>}", {{"F", "axbx"}}, "a<\\$0>bx", {"F"}},
        {"${F//x/\\$\\$\\$y\\$}", {{"F", "x"}}, "\\$\\$\\\\$", {"F"}},
        {"${F//x/$R}",
         {{"F", "axb"}, {"R", "[$$|$0|${0}|$1|$x|${x]"}},
         "a[$|x|x|||${x]b",
         {"F", "R"}},

        // Positional and special parameters are just names.
        {"$1|${1}|$001|${@:-at}|$#|$$",
         {},
         "|||at||",
         {"#", "$", "001", "1", "@"},
         {"#", "$", "001", "1", "@"}},
        {"${1:-one}", {{"1", "set"}}, "set", {"1"}},
        {"$@@@", {}, "@@", {"@"}, {"@"}},
        {"$9lives", {}, "lives", {"9"}, {"9"}},

        // Errors.
        {"${U:=x}", {}, nullptr},
        {"${S:#x}", {{"S", "s"}}, nullptr},
        {"${S:%x}", {{"S", "s"}}, nullptr},
        {"${S!}", {{"S", "s"}}, nullptr},
        {"${S/x}", {{"S", "s"}}, nullptr},
        {"${S#\\q}", {{"S", "s"}}, nullptr},
        {"${S:", {{"S", "s"}}, nullptr},
        {"${S:-", {{"S", "s"}}, nullptr},
        {"${S:}", {{"S", "s"}}, nullptr},
        {"${S:}x}", {{"S", "s"}}, nullptr},
    };
    return kRows;
}

TEST(ShellOperators, Table) {
    for (const Row& row : rows()) {
        SCOPED_TRACE(row.input);
        if (row.expected == nullptr) {
            EXPECT_THROW(expand_word(row.input, row.env), ShellError);
            continue;
        }
        ExpansionResult r;
        ASSERT_NO_THROW(r = expand_word(row.input, row.env));
        EXPECT_EQ(r.word, row.expected);
        EXPECT_EQ(r.referenced, row.referenced);
        EXPECT_EQ(r.unset, row.unset);
    }
}

TEST(ShellOperators, MandatoryMessagesCarryTheExpandedWord) {
    const char* no_empty = "${VAR:?message here$ARG}";
    const char* no_unset = "${VAR?message here$ARG}";
    for (const Env& env : {Env{{"VAR", ""}, {"ARG", "x"}}, Env{{"ARG", "x"}}}) {
        try {
            expand_word(no_empty, env);
            ADD_FAILURE() << "no error";
        } catch (const ShellError& e) {
            EXPECT_EQ(e.detail(), "VAR: message herex");
        }
    }
    try {
        expand_word(no_unset, Env{{"ARG", "x"}});
        ADD_FAILURE() << "no error";
    } catch (const ShellError& e) {
        EXPECT_EQ(e.detail(), "VAR: message herex");
    }
}

TEST(ShellOperators, PatternsWithBracketExpressions) {
    const Env env{{"F", "bcd"}, {"N", "abc1x"}, {"D", "a1b22"}, {"L", "[a]b"}};
    EXPECT_EQ(expand_word("${F#[a-c]}", env).word, "cd");
    EXPECT_EQ(expand_word("${F##[a-c]*}", env).word, "");
    EXPECT_EQ(expand_word("${N%[!0-9]}", env).word, "abc1");
    EXPECT_EQ(expand_word("${N%[^0-9]}", env).word, "abc1");
    EXPECT_EQ(expand_word("${D//[[:digit:]]/#}", env).word, "a#b##");
    EXPECT_EQ(expand_word("${L#\\[}", env).word, "a]b");
    EXPECT_EQ(expand_word("${L#[}", env).word, "a]b");  // no closing ']': a plain '['
    // BuildKit's own rule: brackets are plain characters, `\[` is an invalid escape.
    ShellOptions buildkit;
    buildkit.bracket_patterns = false;
    EXPECT_EQ(expand_word("${L#[a]}", env, buildkit).word, "b");
    EXPECT_EQ(expand_word("${F#[a-c]}", env, buildkit).word, "bcd");
    EXPECT_THROW(expand_word("${L#\\[}", env, buildkit), ShellError);
}

TEST(ShellOperators, WildcardsDoNotCrossNewlines) {
    // BuildKit compiles `*` to Go's `.*`, which stops at '\n'.
    const Env env{{"V", "a\nb/c"}};
    EXPECT_EQ(expand_word("${V##*}", env).word, "\nb/c");
    EXPECT_EQ(expand_word("${V%%/*}", env).word, "a\nb");
    EXPECT_EQ(expand_word("${V#a?b}", env).word, "a\nb/c");
    EXPECT_EQ(expand_word("${V//?/.}", env).word, ".\n...");
}

}  // namespace
