#include "frontend/lexer_base.hpp"

#include <DockerfileLexer.h>
#include <fmt/format.h>

#include "base/go/strings.hpp"
#include "frontend/line_parsers.hpp"
#include "frontend/source_text.hpp"

namespace strata::grammar {

using frontend::SourcePos;

namespace {

bool is_keyword_token(size_t type) {
    switch (type) {
        case DockerfileLexer::FROM:
        case DockerfileLexer::RUN:
        case DockerfileLexer::CMD:
        case DockerfileLexer::LABEL:
        case DockerfileLexer::MAINTAINER:
        case DockerfileLexer::EXPOSE:
        case DockerfileLexer::ENV:
        case DockerfileLexer::ADD:
        case DockerfileLexer::COPY:
        case DockerfileLexer::ENTRYPOINT:
        case DockerfileLexer::VOLUME:
        case DockerfileLexer::USER:
        case DockerfileLexer::WORKDIR:
        case DockerfileLexer::ARG:
        case DockerfileLexer::ONBUILD:
        case DockerfileLexer::STOPSIGNAL:
        case DockerfileLexer::HEALTHCHECK:
        case DockerfileLexer::SHELL:
        case DockerfileLexer::INSTRUCTION_NAME:
            return true;
        default:
            return false;
    }
}

SourcePos token_pos(const antlr4::Token& t) {
    return {static_cast<uint32_t>(t.getLine()),
            static_cast<uint32_t>(t.getCharPositionInLine() + 1)};
}

void set_type(antlr4::Token& t, size_t type) {
    static_cast<antlr4::CommonToken&>(t).setType(type);
}

}  // namespace

std::string_view DockerfileLexerBase::currentTokenBytes() {
    return source_->bytes(tokenStartCharIndex, getCharIndex());
}

std::string_view DockerfileLexerBase::bytesOf(const antlr4::Token& t) const {
    return source_->bytes(t.getStartIndex(), t.getStopIndex() + 1);
}

std::unique_ptr<antlr4::Token> DockerfileLexerBase::split(std::unique_ptr<antlr4::Token> tok,
                                                          size_t at, size_t first_type,
                                                          size_t second_type) {
    const size_t start = tok->getStartIndex();
    auto second =
        _factory->create({this, _input}, second_type, "", tok->getChannel(), start + at,
                         tok->getStopIndex(), tok->getLine(), tok->getCharPositionInLine() + at);
    auto first = _factory->create({this, _input}, first_type, "", tok->getChannel(), start,
                                  start + at - 1, tok->getLine(), tok->getCharPositionInLine());
    queued_.push_back(std::move(second));
    return first;
}

// `tok` is ESCAPE_NEWLINE: an escape candidate, blanks, a newline.
std::unique_ptr<antlr4::Token> DockerfileLexerBase::resolveEscapeNewline(
    std::unique_ptr<antlr4::Token> tok, bool may_continue) {
    const std::string_view bytes = bytesOf(*tok);
    if (isEscape(bytes[0]) && may_continue) {
        set_type(*tok, DockerfileLexer::CONTINUATION);
        line_.add_token(DockerfileLexer::CONTINUATION, bytes, token_pos(*tok));
        prev_is_escape_ = false;
        setMode(DockerfileLexer::CONT);
        return tok;
    }
    // Text (the character and the blanks after it), then the end of the line.
    size_t text_len = 0;
    while (text_len < bytes.size() && bytes[text_len] != '\r' && bytes[text_len] != '\n') {
        ++text_len;
    }
    auto first = split(std::move(tok), text_len, DockerfileLexer::TEXT, DockerfileLexer::NEWLINE);
    line_.add_token(DockerfileLexer::TEXT, bytes.substr(0, text_len), token_pos(*first));
    setMode(DEFAULT_MODE);
    onInstructionEnd();
    return first;
}

DockerfileLexerBase::RawToken DockerfileLexerBase::fetch() {
    RawToken raw;
    raw.mode = mode;
    raw.token = antlr4::Lexer::nextToken();
    return raw;
}

std::unique_ptr<antlr4::Token> DockerfileLexerBase::nextToken() {
    if (!queued_.empty()) {
        std::unique_ptr<antlr4::Token> tok = std::move(queued_.front());
        queued_.pop_front();
        return tok;
    }
    if (lookahead_) {
        RawToken raw = std::move(*lookahead_);
        lookahead_.reset();
        return process(std::move(raw));
    }
    return process(fetch());
}

void DockerfileLexerBase::addArgumentToken(const antlr4::Token& tok) {
    const std::string_view bytes = bytesOf(tok);
    const size_t type = tok.getType();
    line_.add_token(type, bytes, token_pos(tok));
    prev_is_escape_ = type != DockerfileLexer::CONT_COMMENT &&
                      type != DockerfileLexer::CONT_BLANK && !bytes.empty() &&
                      isEscape(bytes.back());
}

std::unique_ptr<antlr4::Token> DockerfileLexerBase::process(RawToken raw) {
    const size_t mode_before = raw.mode;
    std::unique_ptr<antlr4::Token> tok = std::move(raw.token);
    const size_t type = tok->getType();
    if (type == antlr4::Token::EOF) return tok;
    const std::string_view bytes = bytesOf(*tok);

    if (mode_before == DEFAULT_MODE) {
        if (type == DockerfileLexer::DIRECTIVE) {
            line_has_directive_ = true;
        } else if (type == DockerfileLexer::NEWLINE) {
            // A blank line ends the directives; a directive's own newline does not.
            if (!line_has_directive_) directives_open_ = false;
            line_has_directive_ = false;
        } else if (type != DockerfileLexer::LEADING_WS) {
            directives_open_ = false;  // a comment or an instruction
        }
        if (type == DockerfileLexer::ESCAPE_NEWLINE) {
            // An escape character alone on an instruction's first line
            // continues it; any other backslash/backtick is a one-character
            // (unknown) instruction.
            line_.clear();
            if (isEscape(bytes[0])) return resolveEscapeNewline(std::move(tok), true);
            auto first = split(std::move(tok), 1, DockerfileLexer::INSTRUCTION_NAME,
                               DockerfileLexer::NEWLINE);
            line_.add_token(DockerfileLexer::INSTRUCTION_NAME, bytes.substr(0, 1),
                            token_pos(*first));
            onInstructionEnd();
            return first;
        }
        if (is_keyword_token(type)) {
            line_.clear();
            line_.add_token(type, bytes, token_pos(*tok));
            prev_is_escape_ = !bytes.empty() && isEscape(bytes.back());
        }
        return tok;
    }
    if (mode_before == DockerfileLexer::ARGS || mode_before == DockerfileLexer::CONT) {
        if (type == DockerfileLexer::ESCAPE_NEWLINE) {
            // BuildKit: not a continuation right after another escape character.
            return resolveEscapeNewline(std::move(tok),
                                        mode_before == DockerfileLexer::CONT || !prev_is_escape_);
        }
        if (type == DockerfileLexer::NEWLINE) {
            setMode(DEFAULT_MODE);
            onInstructionEnd();
            return tok;
        }
        addArgumentToken(*tok);
        if (type == DockerfileLexer::TEXT || type == DockerfileLexer::ESCAPE_CHAR ||
            type == DockerfileLexer::CR) {
            // Merge a run of text tokens on one line into one TEXT token, so
            // that the parser's memory follows the number of lines, not of
            // escape characters.
            size_t stop = tok->getStopIndex();
            while (true) {
                RawToken next = fetch();
                const size_t t = next.token->getType();
                if (next.mode == DockerfileLexer::ARGS &&
                    (t == DockerfileLexer::TEXT || t == DockerfileLexer::ESCAPE_CHAR ||
                     t == DockerfileLexer::CR)) {
                    addArgumentToken(*next.token);
                    stop = next.token->getStopIndex();
                    continue;
                }
                lookahead_ = std::move(next);
                break;
            }
            if (stop != tok->getStopIndex()) {
                tok = _factory->create({this, _input}, DockerfileLexer::TEXT, "", tok->getChannel(),
                                       tok->getStartIndex(), stop, tok->getLine(),
                                       tok->getCharPositionInLine());
            }
        }
    }
    return tok;
}

void DockerfileLexerBase::onInstructionEnd() {
    prev_is_escape_ = false;
    std::vector<frontend::HeredocSpec> specs =
        frontend::heredocs_opened_by(line_.line().text, escape_);
    line_.clear();
    if (specs.empty()) return;
    pending_heredocs_.assign(specs.begin(), specs.end());
    setMode(DockerfileLexer::HEREDOC);
}

void DockerfileLexerBase::onHeredocLine() {
    if (pending_heredocs_.empty()) {  // cannot happen: HEREDOC mode implies a pending body
        setMode(DEFAULT_MODE);
        return;
    }
    std::string_view line = currentTokenBytes();
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    if (pending_heredocs_.front().chomp) {
        while (!line.empty() && line.front() == '\t')
            line.remove_prefix(1);
    }
    if (line != pending_heredocs_.front().name) return;
    setType(DockerfileLexer::HEREDOC_END);
    pending_heredocs_.pop_front();
    if (pending_heredocs_.empty()) setMode(DEFAULT_MODE);
}

void DockerfileLexerBase::onDirective() {
    if (!directives_open_) {  // too late to be a directive: a comment
        setType(DockerfileLexer::COMMENT);
        return;
    }
    // `#` blanks key blanks `=` value; the grammar guarantees the shape.
    std::string_view text = currentTokenBytes();
    const SourcePos pos{static_cast<uint32_t>(tokenStartLine),
                        static_cast<uint32_t>(tokenStartCharPositionInLine + 1)};
    size_t i = 1;
    while (i < text.size() && frontend::is_space_ascii(text[i]))
        ++i;
    const size_t key_start = i;
    while (i < text.size() && text[i] != '=' && !frontend::is_space_ascii(text[i]))
        ++i;
    const std::string key = frontend::to_lower_ascii(text.substr(key_start, i - key_start));
    const size_t eq = text.find('=', i);
    const std::string value(go::strings::trim_space(text.substr(eq + 1)));

    if ((key != "syntax" && key != "escape" && key != "check") || value.empty()) {
        // Not a directive: an ordinary comment, which ends the directives.
        setType(DockerfileLexer::COMMENT);
        directives_open_ = false;
        return;
    }
    for (const Directive& d : directives_) {
        if (d.name == key) {
            problems_.push_back({pos, static_cast<size_t>(text.size()),
                                 fmt::format("only one {} parser directive can be used", key)});
            return;
        }
    }
    if (key == "escape") {
        if (value == "\\" || value == "`") {
            escape_ = static_cast<char32_t>(value[0]);
        } else {
            problems_.push_back(
                {pos, static_cast<size_t>(text.size()),
                 fmt::format("invalid escape token '{}' does not match ` or \\", value)});
        }
    }
    directives_.push_back({key, value, pos});
}

}  // namespace strata::grammar
