// Reading the ignore file: ignorefile.ReadAll's line rules, then
// patternmatcher.New's per-pattern rules, and errors naming file and line.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "frontend/dockerignore.hpp"

using strata::Error;
using strata::ErrorKind;
using strata::frontend::DockerIgnore;

namespace {

// "!" prefixed for exceptions, to compare against expected lists.
std::vector<std::string> texts(const DockerIgnore& ig) {
    std::vector<std::string> out;
    for (const DockerIgnore::Pattern& p : ig.patterns()) {
        out.push_back((p.exception ? "!" : "") + p.text);
    }
    return out;
}

std::string parse_error(std::string_view text) {
    try {
        (void)DockerIgnore::parse(text, "ctx/.dockerignore");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kParse);
        return e.what();
    }
    return "no error";
}

TEST(DockerIgnoreParse, IgnorefileReadAllExpectations) {
    // The content of patternmatcher's ignorefile TestReadAll, minus its "!"
    // lines (which patternmatcher.New then rejects, tested below).
    const DockerIgnore ig = DockerIgnore::parse(
        "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n",
        ".dockerignore");
    EXPECT_EQ(texts(ig), (std::vector<std::string>{"test1", "test2", "a/file/here", "lastfile",
                                                   "!inverted/abs/path"}));
    std::vector<size_t> lines;
    for (const auto& p : ig.patterns())
        lines.push_back(p.line);
    EXPECT_EQ(lines, (std::vector<size_t>{1, 2, 3, 5, 7}));
    EXPECT_TRUE(ig.has_exceptions());
    EXPECT_EQ(ig.source(), ".dockerignore");
}

TEST(DockerIgnoreParse, LoneExclamationIsAnError) {
    EXPECT_EQ(parse_error("a\n!\n"), "ctx/.dockerignore:2: illegal exclusion pattern: \"!\"");
    EXPECT_EQ(parse_error("a\nb\n!   \n"), "ctx/.dockerignore:3: illegal exclusion pattern: \"!\"");
    // "!/" cleans to "!" in patternmatcher.New.
    EXPECT_EQ(parse_error("!/"), "ctx/.dockerignore:1: illegal exclusion pattern: \"!\"");
}

TEST(DockerIgnoreParse, LineEndingsAndBom) {
    EXPECT_EQ(texts(DockerIgnore::parse("a\r\nb\r\n!c\r\n", "f")),
              (std::vector<std::string>{"a", "b", "!c"}));
    EXPECT_EQ(texts(DockerIgnore::parse("a\nb", "f")), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(texts(DockerIgnore::parse("\xEF\xBB\xBF"
                                        "first\n",
                                        "f")),
              (std::vector<std::string>{"first"}));
    // A BOM-prefixed comment on line 1 is still a comment.
    EXPECT_TRUE(DockerIgnore::parse("\xEF\xBB\xBF# c\n", "f").empty());
    // Only line 1 loses its BOM.
    const DockerIgnore late = DockerIgnore::parse(
        "x\n\xEF\xBB\xBF"
        "bar\n",
        "f");
    EXPECT_FALSE(late.excluded("bar"));
    EXPECT_TRUE(
        late.excluded("\xEF\xBB\xBF"
                      "bar"));
    // A lone '\r' is not a line break.
    EXPECT_EQ(texts(DockerIgnore::parse("a\rb\n", "f")), (std::vector<std::string>{"a\rb"}));
}

TEST(DockerIgnoreParse, WhitespaceAndComments) {
    const DockerIgnore ig = DockerIgnore::parse(
        "  spaced\t\n"
        "\xC2\xA0nbsp\xE2\x80\x83\n"  // U+00A0 and U+2003 are Unicode white space
        "#comment\n"
        "  # not a comment\n"
        "!  exc  \n"
        "\n\t\n",
        "f");
    EXPECT_EQ(texts(ig), (std::vector<std::string>{"spaced", "nbsp", "# not a comment", "!exc"}));
}

TEST(DockerIgnoreParse, Cleaning) {
    const DockerIgnore ig = DockerIgnore::parse(
        "./a/../b\n"
        "a//b///\n"
        "/lead\n"
        "//double\n"
        "!/exc/./x\n"
        "/!bang\n"  // leading '/' removed, then the '!' makes it an exception
        "!!twice\n"
        ".\n"
        "/\n"
        "x/../..\n",
        "f");
    EXPECT_EQ(texts(ig), (std::vector<std::string>{"b", "a/b", "lead", "double", "!exc/x", "!bang",
                                                   "!!twice", ".", "/", ".."}));
}

TEST(DockerIgnoreParse, FromPatternsKeepsPatternmatcherRules) {
    // patternmatcher.New alone: no comments, no leading-slash removal.
    const DockerIgnore ig = DockerIgnore::from_patterns({"#x", "/abs", "  !y/  ", ""}, "--exclude");
    EXPECT_EQ(texts(ig), (std::vector<std::string>{"#x", "/abs", "!y"}));
    EXPECT_TRUE(ig.excluded("#x"));
    EXPECT_FALSE(ig.excluded("abs"));
}

TEST(DockerIgnoreParse, ErrorsNameFileAndLine) {
    EXPECT_EQ(parse_error("ok\n\n# c\n[\n"),
              "ctx/.dockerignore:4: invalid pattern \"[\": syntax error in pattern");
    EXPECT_EQ(parse_error("a\r\nb[z-a]\r\n"),
              "ctx/.dockerignore:2: invalid pattern \"b[z-a]\": error parsing regexp: invalid "
              "character class range: `z-a`");
}

TEST(DockerIgnoreParse, OverlongLinesAreErrors) {
    // Docker's line scanner stops at 64 KiB per line.
    const std::string fits(65535, 'a');
    EXPECT_EQ(DockerIgnore::parse(fits + "\n", "f").patterns().size(), 1u);
    const std::string msg = parse_error("x\n" + std::string(65536, 'a'));
    EXPECT_NE(msg.find("ctx/.dockerignore:2: line too long"), std::string::npos) << msg;
}

TEST(DockerIgnoreParse, EmptyInputs) {
    EXPECT_TRUE(DockerIgnore().empty());
    EXPECT_TRUE(DockerIgnore::parse("", "f").empty());
    EXPECT_TRUE(DockerIgnore::parse("\n\n  \n# only comments\n", "f").empty());
    EXPECT_FALSE(DockerIgnore::parse("\n\n  \n# only comments\n", "f").has_exceptions());
    EXPECT_FALSE(DockerIgnore().excluded("a"));
}

TEST(DockerIgnoreParse, BinaryGarbageDoesNotCrash) {
    std::string text;
    for (int i = 0; i < 4096; ++i)
        text.push_back(static_cast<char>((i * 7919 + 13) % 256));
    try {
        const DockerIgnore ig = DockerIgnore::parse(text, "f");
        (void)ig.excluded("a/b");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kParse) << e.what();
    }
}

}  // namespace
