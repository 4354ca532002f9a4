// DockerfileLexerBase: the state behind the context-sensitive parts of the
// generated DockerfileLexer (see grammar/DockerfileLexer.g4).
//
//  * Parser directives are recognised only before the first instruction,
//    comment or blank line; `# escape=` switches the escape character.
//  * A backslash or backtick before a newline (ESCAPE_NEWLINE) becomes a
//    CONTINUATION if it is the escape character and does not follow another
//    one (BuildKit's rule); otherwise it is split into text and a NEWLINE.
//    The grammar has no predicates on the escape character, so ANTLR can
//    cache its lexer DFA.
//  * At the end of an instruction line, the frontend decides from the whole
//    logical line which heredocs it opens (heredocs_opened_by()); the lexer
//    then reads their bodies in the HEREDOC mode, one token per line, and
//    marks each terminator line HEREDOC_END.
#pragma once

#include <antlr4-runtime.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/heredoc.hpp"
#include "frontend/logical_line.hpp"

namespace strata::frontend {
class SourceText;
}

namespace strata::grammar {

class DockerfileLexerBase : public antlr4::Lexer {
  public:
    struct Directive {
        std::string name;  // lower case
        std::string value;
        frontend::SourcePos pos;
    };
    struct Problem {
        frontend::SourcePos pos;
        size_t length;  // code points to underline
        std::string message;
    };

    explicit DockerfileLexerBase(antlr4::CharStream* input) : antlr4::Lexer(input) {}

    // Must be called before lexing: token bytes come from here.
    void setSource(const frontend::SourceText* source) { source_ = source; }

    std::unique_ptr<antlr4::Token> nextToken() override;

    char32_t escapeChar() const { return escape_; }
    const std::vector<Directive>& directives() const { return directives_; }
    const std::vector<Problem>& problems() const { return problems_; }

  protected:
    // Used by the grammar's actions.
    void onDirective();
    void onHeredocLine();

  private:
    std::string_view currentTokenBytes();
    std::string_view bytesOf(const antlr4::Token& t) const;
    bool isEscape(char c) const { return static_cast<unsigned char>(c) == escape_; }
    // Ends the current instruction; switches to HEREDOC if it opens bodies.
    void onInstructionEnd();
    // Splits `tok` after `at` code points: returns the first part with type
    // `first_type` and queues the rest with type `second_type`.
    std::unique_ptr<antlr4::Token> split(std::unique_ptr<antlr4::Token> tok, size_t at,
                                         size_t first_type, size_t second_type);
    std::unique_ptr<antlr4::Token> resolveEscapeNewline(std::unique_ptr<antlr4::Token> tok,
                                                        bool may_continue);

    // A token straight from the generated lexer and the mode it was lexed in.
    struct RawToken {
        std::unique_ptr<antlr4::Token> token;
        size_t mode = 0;
    };
    RawToken fetch();
    std::unique_ptr<antlr4::Token> process(RawToken raw);
    // Records one argument token in the logical line.
    void addArgumentToken(const antlr4::Token& tok);

    const frontend::SourceText* source_ = nullptr;
    char32_t escape_ = U'\\';
    bool directives_open_ = true;
    bool line_has_directive_ = false;
    bool prev_is_escape_ = false;  // the previous character on this line is the escape
    std::vector<Directive> directives_;
    std::vector<Problem> problems_;
    frontend::LogicalLineBuilder line_;
    std::deque<frontend::HeredocSpec> pending_heredocs_;
    std::deque<std::unique_ptr<antlr4::Token>> queued_;  // processed, ready to hand out
    std::optional<RawToken> lookahead_;                  // fetched, not yet processed
};

}  // namespace strata::grammar
