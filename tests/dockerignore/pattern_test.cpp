// One pattern at a time: the pattern alone (patternmatcher's Pattern.match,
// exposed as pattern_matches) and with parent directories (excluded, i.e.
// MatchesOrParentMatches). Rows marked "patternmatcher" and "go" are the
// expectations of moby/patternmatcher's TestMatches and of the Go
// filepath.Match tables it reuses; "quirk" rows follow from how Docker
// translates patterns into Go regular expressions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "frontend/dockerignore.hpp"

using strata::Error;
using strata::ErrorKind;
using strata::frontend::DockerIgnore;

namespace {

enum Expect { kFail, kExact, kParent };  // no match / matches itself / only via a parent

struct Row {
    const char* pattern;
    const char* path;
    Expect expect;
};

const Row kRows[] = {
    // patternmatcher TestMatches.
    {"**", "file", kExact},
    {"**", "file/", kExact},
    {"**/", "file", kExact},
    {"**/", "file/", kExact},
    {"**", "/", kExact},
    {"**/", "/", kExact},
    {"**", "dir/file", kExact},
    {"**/", "dir/file", kExact},
    {"**", "dir/file/", kExact},
    {"**/", "dir/file/", kExact},
    {"**/**", "dir/file", kExact},
    {"**/**", "dir/file/", kExact},
    {"dir/**", "dir/file", kExact},
    {"dir/**", "dir/file/", kExact},
    {"dir/**", "dir/dir2/file", kExact},
    {"dir/**", "dir/dir2/file/", kExact},
    {"**/dir", "dir", kExact},
    {"**/dir", "dir/file", kParent},
    {"**/dir2/*", "dir/dir2/file", kExact},
    {"**/dir2/*", "dir/dir2/file/", kParent},
    {"**/dir2/**", "dir/dir2/dir3/file", kExact},
    {"**/dir2/**", "dir/dir2/dir3/file/", kExact},
    {"**file", "file", kExact},
    {"**file", "dir/file", kExact},
    {"**/file", "dir/file", kExact},
    {"**file", "dir/dir/file", kExact},
    {"**/file", "dir/dir/file", kExact},
    {"**/file*", "dir/dir/file", kExact},
    {"**/file*", "dir/dir/file.txt", kExact},
    {"**/file*txt", "dir/dir/file.txt", kExact},
    {"**/file*.txt", "dir/dir/file.txt", kExact},
    {"**/file*.txt*", "dir/dir/file.txt", kExact},
    {"**/**/*.txt", "dir/dir/file.txt", kExact},
    {"**/**/*.txt2", "dir/dir/file.txt", kFail},
    {"**/*.txt", "file.txt", kExact},
    {"**/**/*.txt", "file.txt", kExact},
    {"a**/*.txt", "a/file.txt", kExact},
    {"a**/*.txt", "a/dir/file.txt", kExact},
    {"a**/*.txt", "a/dir/dir/file.txt", kExact},
    {"a/*.txt", "a/dir/file.txt", kFail},
    {"a/*.txt", "a/file.txt", kExact},
    {"a/*.txt**", "a/file.txt", kExact},
    {"a[b-d]e", "ae", kFail},
    {"a[b-d]e", "ace", kExact},
    {"a[b-d]e", "aae", kFail},
    {"a[^b-d]e", "aze", kExact},
    {".*", ".foo", kExact},
    {".*", "foo", kFail},
    {"abc.def", "abcdef", kFail},
    {"abc.def", "abc.def", kExact},
    {"abc.def", "abcZdef", kFail},
    {"abc?def", "abcZdef", kExact},
    {"abc?def", "abcdef", kFail},
    {"**/foo/bar", "foo/bar", kExact},
    {"**/foo/bar", "dir/foo/bar", kExact},
    {"**/foo/bar", "dir/dir2/foo/bar", kExact},
    {"abc/**", "abc", kFail},
    {"abc/**", "abc/def", kExact},
    {"abc/**", "abc/def/ghi", kExact},
    {"**/.foo", ".foo", kExact},
    {"**/.foo", "bar.foo", kFail},
    {"a(b)c/def", "a(b)c/def", kExact},
    {"a(b)c/def", "a(b)c/xyz", kFail},
    {"a.|)$(}+{bc", "a.|)$(}+{bc", kExact},
    {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", kExact},
    {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", kExact},
    {"a\\\\", "a\\", kExact},
    {"a\\*b", "a*b", kExact},

    // go: filepath.Match's table as patternmatcher runs it.
    {"abc", "abc", kExact},
    {"*", "abc", kExact},
    {"*c", "abc", kExact},
    {"a*", "a", kExact},
    {"a*", "abc", kExact},
    {"a*", "ab/c", kParent},
    {"a*/b", "abc/b", kExact},
    {"a*/b", "a/c/b", kFail},
    {"a*b*c*d*e*/f", "axbxcxdxe/f", kExact},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/f", kExact},
    {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", kFail},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", kFail},
    {"a*b?c*x", "abxbbxdbxebxczzx", kExact},
    {"a*b?c*x", "abxbbxdbxebxczzy", kFail},
    {"ab[c]", "abc", kExact},
    {"ab[b-d]", "abc", kExact},
    {"ab[e-g]", "abc", kFail},
    {"ab[^c]", "abc", kFail},
    {"ab[^b-d]", "abc", kFail},
    {"ab[^e-g]", "abc", kExact},
    {"a\\*b", "ab", kFail},
    {"a?b", "a\u263Ab", kExact},
    {"a[^a]b", "a\u263Ab", kExact},
    {"a???b", "a\u263Ab", kFail},
    {"a[^a][^a][^a]b", "a\u263Ab", kFail},
    {"[a-\u03B6]*", "\u03B1", kExact},
    {"*[a-\u03B6]", "A", kFail},
    {"a?b", "a/b", kFail},
    {"a*b", "a/b", kFail},
    {"[\\]a]", "]", kExact},
    {"[\\-]", "-", kExact},
    {"[x\\-]", "x", kExact},
    {"[x\\-]", "-", kExact},
    {"[x\\-]", "z", kFail},
    {"[\\-x]", "x", kExact},
    {"[\\-x]", "-", kExact},
    {"[\\-x]", "a", kFail},
    {"*x", "xxx", kExact},

    // Common shapes: `*` stays in one directory, `**` spans any number.
    {"*.go", "dir/x.go", kFail},
    {"*", "dir/x", kParent},
    {"**/*.go", "x.go", kExact},
    {"**/*.go", "a/b/x.go", kExact},
    {"a/**/b", "a/b", kExact},
    {"a/**/b", "a/x/y/b", kExact},
    {"a/**/b", "a/xb", kFail},
    {"a/**/b", "a/x/b/c", kParent},
    {"foo**", "foobar", kExact},
    {"foo**", "foo", kExact},
    {"foo**", "foo/x", kExact},
    {"foo**", "fo", kFail},
    {"**/node_modules", "a/node_modules/x/y", kParent},
    {"?", "\u00E9", kExact},  // one rune, two bytes
    {"??", "\u00E9", kFail},
    {"?", "\xFF", kExact},  // an invalid byte is one rune (U+FFFD) for Go
    {"??", "\xFF\xFE", kExact},
    {"\u65E5\u672C*", "\u65E5\u672C\u8A9E.txt", kExact},
    {"a\\.b", "a.b", kExact},
    {"a\\.b", "axb", kFail},
    {"\\ a", " a", kExact},
    {"[a-c][0-9]", "b7", kExact},
    {"[a-c][0-9]", "d7", kFail},
    {"dir/", "dir/x", kParent},  // cleaned to "dir"

    // quirk: `**` followed by text at the start is a plain suffix test.
    {"**.go", "x.go", kExact},
    {"**.go", "a/b/x.go", kExact},
    {"**.go", "x.go.bak", kFail},
    {"**foo", "afoo", kExact},
    {"**/foo", "afoo", kFail},
    // ...but elsewhere `**` must be followed by a directory boundary.
    {"**foo*", "afoo", kFail},
    {"**foo*", "a/foobar", kExact},
    {"a**b", "ab", kExact},
    {"a**b", "a/b", kExact},
    {"a**b", "ax/b", kExact},
    {"a**b", "axb", kFail},
    // quirk: only '^' negates a class, '!' is a member.
    {"[!a]x", "!x", kExact},
    {"[!a]x", "ax", kExact},
    {"[!a]x", "bx", kFail},
    // quirk: a negated class also matches '/'.
    {"a[^b]c", "a/c", kExact},
    // quirk: `*` and `?` inside brackets become "[^/]*" and "[^/]", which
    // close the class early: "[*]" is the regexp "[[^/]*]".
    {"[*]", "*", kFail},
    {"[*]", "]", kExact},
    {"[*]", "[^]", kExact},
    {"[?]", "?", kFail},
    {"[?]", "[]", kExact},
    // quirk: escapes are regexp escapes.
    {"v\\d", "v1", kExact},
    {"v\\d", "vd", kFail},
    {"\\x41b", "Ab", kExact},
    {"\\Qa*", "a[^/]*$", kExact},
    {"\\Qa*", "ab", kFail},
    // quirk: POSIX classes are regexp classes.
    {"[[:digit:]]x", "5x", kExact},
    {"[[:digit:]]x", "dx", kFail},
    // quirk: '^' is literal in a pattern without other metacharacters, an
    // anchor in one with them.
    {"a^b", "a^b", kExact},
    {"a^b*", "a^b", kFail},
    {"a^b*", "a^bc", kFail},
};

std::string describe(const Row& row) {
    return std::string("pattern \"") + row.pattern + "\" path \"" + row.path + "\"";
}

TEST(DockerIgnorePattern, MatchesAlone) {
    for (const Row& row : kRows) {
        const DockerIgnore ig = DockerIgnore::from_patterns({row.pattern}, "test");
        ASSERT_EQ(ig.patterns().size(), 1u) << describe(row);
        EXPECT_EQ(ig.pattern_matches(0, row.path), row.expect == kExact) << describe(row);
    }
}

TEST(DockerIgnorePattern, MatchesWithParents) {
    for (const Row& row : kRows) {
        const DockerIgnore ig = DockerIgnore::from_patterns({row.pattern}, "test");
        EXPECT_EQ(ig.excluded(row.path), row.expect != kFail) << describe(row);
    }
}

TEST(DockerIgnorePattern, ExceptionMirrorsInclude) {
    // "**" then "!<pattern>": excluded exactly where the pattern does not match.
    for (const Row& row : kRows) {
        const std::string path = row.path;
        if (path.empty() || path[0] == '/') continue;
        const DockerIgnore ig =
            DockerIgnore::from_patterns({"**", std::string("!") + row.pattern}, "test");
        EXPECT_EQ(ig.excluded(path), row.expect == kFail) << describe(row);
    }
}

TEST(DockerIgnorePattern, RootIsNeverExcluded) {
    const DockerIgnore ig = DockerIgnore::from_patterns({"**", "."}, "test");
    EXPECT_FALSE(ig.excluded(""));
    EXPECT_FALSE(ig.excluded("."));
    EXPECT_TRUE(ig.excluded("a"));
}

// Patterns Docker rejects: filepath.Match syntax errors, a lone "!", and
// regular expressions Go's regexp package refuses to compile.
const char* const kInvalid[] = {
    "[]a]",          "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "!", "a/[b",
    "[z-a]",          // Go regexp: invalid character class range
    "[Local-Only]/",  // patternmatcher's regression test: l-O is a reversed range
    "\\q",            // invalid escape sequence
    "\\C",            // \C is not supported by Go
    "\\1",            // backreference
    "\\x4g",          // bad hex escape
    "\\\u00E9",       // escaped non-ASCII character
    "[[:foo:]]",      // unknown POSIX class
    "x[[:alpha:]",    // the POSIX class eats the only ']'
};

TEST(DockerIgnorePattern, InvalidPatternsAreErrors) {
    for (const char* pattern : kInvalid) {
        try {
            (void)DockerIgnore::from_patterns({"ok", pattern}, "exclude");
            ADD_FAILURE() << "accepted invalid pattern \"" << pattern << "\"";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kParse) << pattern;
            EXPECT_NE(std::string(e.what()).find("exclude:2:"), std::string::npos)
                << pattern << ": " << e.what();
        }
    }
}

TEST(DockerIgnorePattern, ErrorMessagesSayWhy) {
    const auto message = [](const char* pattern) {
        try {
            (void)DockerIgnore::from_patterns({pattern}, ".dockerignore");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message("a["), ".dockerignore:1: invalid pattern \"a[\": syntax error in pattern");
    EXPECT_EQ(message("!"), ".dockerignore:1: illegal exclusion pattern: \"!\"");
    EXPECT_EQ(message("[z-a]"),
              ".dockerignore:1: invalid pattern \"[z-a]\": error parsing regexp: invalid "
              "character class range: `z-a`");
    EXPECT_EQ(message("\\q"),
              ".dockerignore:1: invalid pattern \"\\q\": error parsing regexp: invalid escape "
              "sequence: `\\q`");
}

TEST(DockerIgnorePattern, UnicodeClassesAreRejectedNotIgnored) {
    // Docker accepts \pL (a Unicode letter); strata does not implement Unicode
    // tables and must say so rather than match differently.
    EXPECT_THROW((void)DockerIgnore::from_patterns({"\\pL"}, "t"), Error);
    EXPECT_THROW((void)DockerIgnore::from_patterns({"[\\p{Greek}]"}, "t"), Error);
}

}  // namespace
