// The parser driver: runs the ANTLR lexer and parser over a SourceText and
// turns the parse tree into Nodes (logical lines → per-instruction argument
// parsers → heredoc bodies), with every error located in the source.
#include <DockerfileLexer.h>
#include <DockerfileParser.h>
#include <fmt/format.h>

#include "base/go/strings.hpp"
#include "base/go/utf8.hpp"
#include "frontend/diagnostic.hpp"
#include "frontend/node.hpp"

namespace strata::frontend {
namespace {

using grammar::DockerfileLexer;
using grammar::DockerfileParser;

// Far beyond any real Dockerfile (BuildKit refuses lines over 64 KiB); bounds
// the memory a hostile input can make the parser use.
constexpr size_t kMaxDockerfileSize = size_t{32} << 20;

class CodePointStream : public antlr4::ANTLRInputStream {
  public:
    explicit CodePointStream(const std::u32string& cps) {
        _data = cps;
        p = 0;
    }
};

SourcePos pos_of(const antlr4::Token* t) {
    return {static_cast<uint32_t>(t->getLine()),
            static_cast<uint32_t>(t->getCharPositionInLine() + 1)};
}

size_t code_points(std::string_view s) {
    return go::utf8::rune_count(s);
}

class TreeBuilder {
  public:
    TreeBuilder(ParsedDockerfile& df, antlr4::CommonTokenStream& tokens)
        : df_(df), tokens_(tokens) {}

    [[noreturn]] void fail(SourcePos pos, size_t length, std::string message,
                           std::string hint = {}) {
        Diagnostic d;
        d.file = df_.file;
        d.pos = pos;
        d.length = length;
        d.message = std::move(message);
        d.hint = std::move(hint);
        d.line_text = df_.line_text(pos.line);
        throw ParseError(std::move(d));
    }

    void warn(SourcePos pos, size_t length, std::string message, std::string hint = {}) {
        Diagnostic d;
        d.severity = Severity::kWarning;
        d.file = df_.file;
        d.pos = pos;
        d.length = length;
        d.message = std::move(message);
        d.hint = std::move(hint);
        d.line_text = df_.line_text(pos.line);
        df_.warnings.push_back(std::move(d));
    }

    void build(DockerfileParser::DockerfileContext* root) {
        std::vector<std::string> comments;
        for (DockerfileParser::LineContext* line : root->line()) {
            if (auto* c = line->comment()) {
                std::string_view text = token_bytes(c->COMMENT()->getSymbol());
                comments.emplace_back(go::strings::trim_space(text.substr(1)));
                check_late_directive(c->COMMENT()->getSymbol(), text);
            } else if (auto* ins = line->instruction()) {
                Node node = build_instruction(ins);
                node.comments = std::move(comments);
                comments.clear();
                df_.nodes.push_back(std::move(node));
            } else if (line->NEWLINE() != nullptr) {
                comments.clear();
            }
        }
    }

  private:
    std::string_view token_bytes(const antlr4::Token* t) const {
        return df_.source->bytes(t->getStartIndex(), t->getStopIndex() + 1);
    }

    // Position of the last character of a token (line terminators excluded).
    SourcePos end_pos_of(const antlr4::Token* t) const {
        std::string_view text = token_bytes(t);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
            text.remove_suffix(1);
        SourcePos p = pos_of(t);
        const size_t n = code_points(text);
        if (n > 0) p.column += static_cast<uint32_t>(n - 1);
        return p;
    }

    // A comment that looks like a parser directive but comes too late to be
    // one: Docker ignores it silently; we say so.
    void check_late_directive(const antlr4::Token* t, std::string_view text) {
        size_t i = 1;
        while (i < text.size() && is_space_ascii(text[i]))
            ++i;
        size_t k = i;
        while (k < text.size() && std::isalnum(static_cast<unsigned char>(text[k])))
            ++k;
        const std::string key = to_lower_ascii(text.substr(i, k - i));
        while (k < text.size() && is_space_ascii(text[k]))
            ++k;
        if ((key == "escape" || key == "syntax" || key == "check") && k < text.size() &&
            text[k] == '=') {
            warn(pos_of(t), code_points(text),
                 fmt::format("'{}' parser directive is ignored here: directives must come before "
                             "any instruction, comment or blank line",
                             key),
                 "move it to the top of the file");
        }
    }

    bool is_escape_byte(char c) const {
        return static_cast<unsigned char>(c) == static_cast<unsigned char>(df_.escape);
    }

    Node build_instruction(DockerfileParser::InstructionContext* ins) {
        const antlr4::Token* first = ins->keyword()->getStart();
        // The keyword and the argument tokens: everything up to the newline
        // (or the end of the file) that ends the instruction line.
        std::vector<const antlr4::Token*> toks;
        const size_t stop = ins->getStop()->getTokenIndex();
        for (size_t i = first->getTokenIndex(); i <= stop; ++i) {
            const antlr4::Token* t = tokens_.get(i);
            if (t->getType() == DockerfileLexer::NEWLINE || t->getType() == antlr4::Token::EOF)
                break;
            toks.push_back(t);
        }

        LogicalLineBuilder builder;
        const antlr4::Token* last = first;
        bool empty_continuation_line = false;
        for (const antlr4::Token* t : toks) {
            builder.add_token(t->getType(), token_bytes(t), pos_of(t));
            if (t->getType() == DockerfileLexer::CONT_BLANK) empty_continuation_line = true;
            if (t->getType() != DockerfileLexer::CONT_COMMENT &&
                t->getType() != DockerfileLexer::CONT_BLANK) {
                last = t;
            }
        }
        LogicalLine line = builder.take();
        if (ins->NEWLINE() == nullptr) drop_continuation_at_eof(line);
        if (empty_continuation_line) {
            warn(pos_of(first), 1, "empty continuation line",
                 "Docker warns that empty continuation lines will become errors; remove the "
                 "blank line or the escape character before it");
        }
        Node node = parse_line(std::move(line), 0);
        node.range.start = pos_of(first);
        node.range.end = end_pos_of(last);
        attach_heredocs(node, ins);
        return node;
    }

    // An escape character (and blanks) at the very end of the file continues
    // the line into nothing (BuildKit: the continue-at-eof case), unless it
    // follows another escape character on the same line.
    void drop_continuation_at_eof(LogicalLine& line) const {
        std::string& t = line.text;
        size_t e = t.size();
        while (e > 0 &&
               (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\f' || t[e - 1] == '\v')) {
            --e;
        }
        if (e == 0 || !is_escape_byte(t[e - 1])) return;
        const size_t esc = e - 1;
        if (esc == 0 || line.pos_at(esc).column == 1 || !is_escape_byte(t[esc - 1])) t.resize(esc);
    }

    // Parses a logical line (or, for ONBUILD's trigger, the part of one that
    // starts at `from`) into a Node.
    Node parse_line(LogicalLine line, size_t from) {
        Node node;
        const std::string_view text = std::string_view(line.text).substr(from);
        CommandSplit split = split_command(text);
        node.keyword = split.keyword;
        node.name = to_lower_ascii(split.keyword);
        node.flags = std::move(split.flags);
        for (FlagWord& f : node.flags)
            f.offset += from;
        node.args_offset = from + split.args_offset;
        const ArgSyntax syntax = arg_syntax_of(node.name);
        if (syntax == ArgSyntax::kSubCommand) {
            if (!split.args.empty()) {
                node.trigger = std::make_unique<Node>(parse_line(line, node.args_offset));
            }
        } else {
            try {
                ParsedArgs parsed = parse_args(syntax, split.args, node.keyword, df_.escape);
                node.args = std::move(parsed.args);
                node.json = parsed.json;
            } catch (const ArgsError& e) {
                const size_t at = node.args_offset + e.offset;
                fail(line.pos_at(at), code_points(std::string_view(line.text).substr(at, e.length)),
                     e.message);
            }
        }
        node.line = std::move(line);
        return node;
    }

    void attach_heredocs(Node& node, DockerfileParser::InstructionContext* ins) {
        const std::vector<HeredocSpec> specs = heredocs_opened_by(node.line.text, df_.escape);
        const auto bodies = ins->heredocBody();
        for (size_t i = 0; i < specs.size(); ++i) {
            Heredoc h;
            h.spec = specs[i];
            h.terminated = false;
            if (i < bodies.size()) {
                for (auto* line : bodies[i]->HEREDOC_LINE()) {
                    h.content.append(token_bytes(line->getSymbol()));
                }
                h.terminated = bodies[i]->HEREDOC_END() != nullptr;
                h.first_line = static_cast<uint32_t>(bodies[i]->getStart()->getLine());
                const antlr4::Token* stop = bodies[i]->getStop();
                node.range.end = end_pos_of(stop);
            }
            if (!h.terminated) {
                fail(node.line.pos_at(h.spec.offset),
                     code_points(
                         std::string_view(node.line.text).substr(h.spec.offset, h.spec.length)),
                     fmt::format("unterminated heredoc: no line '{}' ends it", h.spec.name),
                     fmt::format("end the heredoc with a line containing only {}{}",
                                 h.spec.chomp ? "tabs and " : "", h.spec.name));
            }
            if (node.trigger) node.trigger->heredocs.push_back(h);
            node.heredocs.push_back(std::move(h));
        }
    }

    ParsedDockerfile& df_;
    antlr4::CommonTokenStream& tokens_;
};

}  // namespace

std::string ParsedDockerfile::line_text(uint32_t line) const {
    return source ? std::string(source->line_text(line)) : std::string();
}

ParsedDockerfile parse_dockerfile(std::string bytes, std::string file_name) {
    ParsedDockerfile df;
    df.file = std::move(file_name);
    if (bytes.size() >= 3 && bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) bytes.erase(0, 3);
    if (bytes.size() > kMaxDockerfileSize) {
        Diagnostic d;
        d.file = df.file;
        d.message =
            fmt::format("the Dockerfile is {} bytes; strata reads Dockerfiles of up to {} MiB",
                        bytes.size(), kMaxDockerfileSize >> 20);
        throw ParseError(std::move(d));
    }
    df.source = std::make_shared<SourceText>(std::move(bytes));

    CodePointStream input(df.source->code_points());
    DockerfileLexer lexer(&input);
    lexer.setSource(df.source.get());
    lexer.removeErrorListeners();
    antlr4::CommonTokenStream tokens(&lexer);
    DockerfileParser parser(&tokens);
    parser.removeErrorListeners();
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);

    DockerfileParser::DockerfileContext* root = nullptr;
    try {
        root = parser.dockerfile();
    } catch (const antlr4::ParseCancellationException&) {
        // The grammar accepts every token sequence the lexer makes; reaching
        // this is a bug, but still a located error, not a crash.
        const antlr4::Token* t = parser.getCurrentToken();
        Diagnostic d;
        d.file = df.file;
        d.pos = pos_of(t);
        d.message = "internal parser error: unexpected token here";
        d.line_text = df.line_text(d.pos.line);
        throw ParseError(std::move(d));
    }

    df.escape = lexer.escapeChar();
    for (const auto& d : lexer.directives())
        df.directives.push_back({d.name, d.value, d.pos});
    TreeBuilder builder(df, tokens);
    if (!lexer.problems().empty()) {
        const auto& p = lexer.problems().front();
        builder.fail(p.pos, p.length, p.message);
    }
    builder.build(root);
    if (df.nodes.empty()) {
        const uint32_t lines = static_cast<uint32_t>(df.source->line_count());
        builder.fail({0, 0}, 1, "file with no instructions",
                     lines > 0 && !df.source->text().empty()
                         ? "a Dockerfile needs at least a FROM instruction"
                         : "the Dockerfile is empty");
    }
    return df;
}

}  // namespace strata::frontend
