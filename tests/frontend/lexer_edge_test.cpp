// Table-driven checks of the lexer's context-sensitive rules against what
// BuildKit's parser does with the same text (continuations and the escape
// character, directives, heredocs, line endings).
#include <gtest/gtest.h>

#include <random>

#include "frontend/instructions.hpp"
#include "frontend/node.hpp"

using namespace strata::frontend;

namespace {

struct Row {
    const char* name;
    std::string input;
    std::string dump;  // expected `--format tree` output
};

std::string dump(const std::string& input) {
    try {
        return dump_tree(parse_dockerfile(input, "Dockerfile"));
    } catch (const ParseError& e) {
        return std::string("error: ") + e.diagnostic().message;
    }
}

class LexerEdge : public ::testing::TestWithParam<Row> {};

TEST_P(LexerEdge, DumpsLikeBuildKit) {
    const Row& row = GetParam();
    EXPECT_EQ(dump(row.input), row.dump) << "input: " << row.input;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, LexerEdge,
    ::testing::Values(
        Row{"escaped_escape_is_not_a_continuation", "RUN a \\\\\nb\n", "(run \"a \\\\\\\\\")\n(b)"},
        Row{"escape_after_escape_is_not_a_continuation", "RUN a \\\\\\\nb\n",
            "(run \"a \\\\\\\\\\\\\")\n(b)"},
        Row{"backslash_is_text_with_backtick_escape", "# escape=`\nRUN a \\\nb\n",
            "(run \"a \\\\\")\n(b)"},
        Row{"backtick_continues_with_backtick_escape", "# escape=`\nRUN a `\nb\n", "(run \"a b\")"},
        Row{"blanks_after_the_escape", "RUN a \\  \t\nb\n", "(run \"a b\")"},
        Row{"indented_comment_in_continuation", "RUN a \\\n   # note\n  b\n", "(run \"a   b\")"},
        Row{"blank_lines_in_continuation", "RUN a \\\n\n  \n b\n", "(run \"a  b\")"},
        Row{"escape_alone_before_instruction", "\\\nFROM x\n", "(from \"x\")"},
        Row{"continuation_at_eof", "FROM x\nRUN echo \\", "(from \"x\")\n(run \"echo\")"},
        Row{"continuation_with_blanks_at_eof", "FROM x\nRUN echo \\  ",
            "(from \"x\")\n(run \"echo\")"},
        Row{"crlf_heredoc", "RUN <<EOF\r\nhi\r\nEOF\r\nCMD x\r\n", "(run \"<<EOF\")\n(cmd \"x\")"},
        Row{"json_form_opens_no_heredoc", "RUN [\"cat\", \"<<EOF\"]\nEOF\n",
            "(run \"cat\" \"<<EOF\")\n(eof)"},
        Row{"blank_line_ends_directives", "# escape=`\n\n# escape=\\\nRUN a `\nb\n",
            "(run \"a b\")"},
        Row{"byte_order_mark", "\xEF\xBB\xBF# escape=`\nRUN a `\nb\n", "(run \"a b\")"},
        Row{"chomped_terminator", "RUN <<-EOF\n\techo\n\t\tEOF\nCMD x\n",
            "(run \"<<-EOF\")\n(cmd \"x\")"},
        Row{"mixed_case_keywords", "fRoM x\nrUn y\n", "(from \"x\")\n(run \"y\")"},
        Row{"onbuild_heredoc", "ONBUILD RUN <<EOF\necho\nEOF\n", "(onbuild (run \"<<EOF\"))"},
        Row{"two_heredocs_one_line", "RUN <<A <<B\na\nA\nb\nB\nCMD x\n",
            "(run \"<<A <<B\")\n(cmd \"x\")"},
        Row{"heredoc_needs_blank_before", "RUN cat<<EOF\nEOF\n", "(run \"cat<<EOF\")\n(eof)"},
        Row{"keyword_glued_by_continuation", "RUN\\\necho\n", "(runecho)"},
        Row{"comment_with_trailing_escape_is_not_a_continuation", "# a \\\nFROM x\n",
            "(from \"x\")"},
        Row{"nul_bytes", std::string("FROM x\nRUN a\0b\n", 15), "(from \"x\")\n(run \"a\\x00b\")"},
        Row{"invalid_utf8", "FROM x\nRUN \xff\xfe\n", "(from \"x\")\n(run \"\\xff\\xfe\")"},
        Row{"lone_cr_is_whitespace", "FROM x\rRUN y\n", "(from \"x\" \"RUN\" \"y\")"},
        Row{"empty", "", "error: file with no instructions"}),
    [](const ::testing::TestParamInfo<Row>& info) { return std::string(info.param.name); });

TEST(LexerEdge, HeredocContentAndFlags) {
    ParsedDockerfile df =
        parse_dockerfile("RUN 3<<-\"EOF\" cat\n\tline one\n\t\tline two\n\tEOF\n", "Dockerfile");
    ASSERT_EQ(df.nodes.size(), 1u);
    ASSERT_EQ(df.nodes[0].heredocs.size(), 1u);
    const Heredoc& h = df.nodes[0].heredocs[0];
    EXPECT_EQ(h.spec.name, "EOF");
    EXPECT_EQ(h.spec.fd, 3u);
    EXPECT_TRUE(h.spec.chomp);
    EXPECT_FALSE(h.spec.expand);
    EXPECT_EQ(h.content, "\tline one\n\t\tline two\n");
    EXPECT_EQ(chomp_heredoc_content(h.content), "line one\nline two\n");
}

TEST(LexerEdge, LocationsFollowContinuations) {
    try {
        load_dockerfile("FROM x\nCOPY \\\n  # c\n     --bad=1 b c\n", "Dockerfile");
        FAIL() << "must fail";
    } catch (const ParseError& e) {
        // The flag is not first on its line: errors point into the file, not
        // into the joined logical line.
        EXPECT_EQ(e.diagnostic().message, "unknown flag: --bad");
        EXPECT_EQ(e.diagnostic().pos.line, 4u);
        EXPECT_EQ(e.diagnostic().pos.column, 6u);
    }
}

// `--chown=` with nothing after it: BuildKit takes it as no --chown; so
// does strata, with a located warning (also in an ONBUILD trigger). A flag
// with no `=` at all, or an empty --mount=, is still an error.
TEST(LexerEdge, AnEmptyFlagValueIsIgnoredWithAWarning) {
    const Dockerfile df = load_dockerfile(
        "FROM --platform= x\nCOPY --chown= --from= a /b\nONBUILD RUN --network= true\n",
        "Dockerfile");
    ASSERT_EQ(df.warnings.size(), 4u);
    EXPECT_EQ(df.warnings[0].message, "empty value on flag --platform: the flag is ignored");
    EXPECT_EQ(df.warnings[1].pos.line, 2u);
    EXPECT_EQ(df.warnings[1].pos.column, 6u);
    EXPECT_EQ(df.warnings[2].message, "empty value on flag --from: the flag is ignored");
    EXPECT_EQ(df.warnings[3].pos.line, 3u);
    const auto& copy = std::get<CopyCmd>(df.stages[0].instructions[0].command);
    EXPECT_EQ(copy.chown, "");
    EXPECT_EQ(copy.from, "");
    for (const char* text : {"FROM x\nCOPY --chown a /b\n", "FROM x\nRUN --mount= true\n"}) {
        try {
            load_dockerfile(text, "Dockerfile");
            ADD_FAILURE() << text << " must fail";
        } catch (const ParseError& e) {
            EXPECT_EQ(e.diagnostic().message.rfind("missing a value on flag: --", 0), 0u)
                << e.diagnostic().message;
        }
    }
}

TEST(LexerEdge, LateDirectiveWarns) {
    ParsedDockerfile df = parse_dockerfile("FROM x\n# escape=`\nRUN a\n", "Dockerfile");
    ASSERT_EQ(df.warnings.size(), 1u);
    EXPECT_EQ(df.warnings[0].pos.line, 2u);
    EXPECT_EQ(df.escape, U'\\');
}

// Random bytes and random mixes of Dockerfile fragments: every input either
// parses or fails with a located ParseError — never anything else.
TEST(Robustness, RandomInputsNeverCrash) {
    std::mt19937 rng(12345);
    const std::vector<std::string> pieces = {"FROM x",
                                             "RUN ",
                                             "COPY ",
                                             "<<EOF",
                                             "<<-'E'",
                                             "EOF",
                                             "\n",
                                             "\r\n",
                                             "\\",
                                             "`",
                                             " ",
                                             "\t",
                                             "#",
                                             "# escape=`",
                                             "# escape=\\",
                                             "[\"a\"",
                                             "]",
                                             "\"",
                                             "'",
                                             "--from=",
                                             "ONBUILD ",
                                             "HEALTHCHECK ",
                                             "ENV a=b",
                                             "\xff",
                                             std::string(1, '\0'),
                                             "${A:-b}",
                                             "\\\n",
                                             "`\n"};
    for (int i = 0; i < 3000; ++i) {
        std::string input;
        const int n = static_cast<int>(rng() % 40);
        for (int k = 0; k < n; ++k) {
            if (rng() % 5 == 0) {
                input.push_back(static_cast<char>(rng() % 256));
            } else {
                input += pieces[rng() % pieces.size()];
            }
        }
        try {
            Dockerfile df = load_dockerfile(input, "Dockerfile");
            (void)df;
        } catch (const ParseError& e) {
            EXPECT_FALSE(e.diagnostic().message.empty());
            EXPECT_FALSE(render(e.diagnostic()).empty());
        }
    }
}

TEST(Robustness, HugeInputsAreBounded) {
    const std::string line = "FROM x\nRUN " + std::string(10 << 20, 'a') + "\n";
    ParsedDockerfile df = parse_dockerfile(line, "Dockerfile");
    ASSERT_EQ(df.nodes.size(), 2u);
    EXPECT_EQ(df.nodes[1].args[0].size(), size_t{10} << 20);
    EXPECT_THROW(parse_dockerfile(std::string(33 << 20, '#'), "Dockerfile"), ParseError);
}

}  // namespace
