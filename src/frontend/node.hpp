// The parser stage's output: one Node per instruction, BuildKit-compatible
// (what `strata parse --format tree` dumps), with exact source locations.
// Typed instructions and stages are built from these in instructions.hpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frontend/diagnostic.hpp"
#include "frontend/heredoc.hpp"
#include "frontend/line_parsers.hpp"
#include "frontend/logical_line.hpp"
#include "frontend/source_text.hpp"

namespace strata::frontend {

struct Node {
    std::string keyword;  // as written, e.g. "copy"
    std::string name;     // lower case
    std::vector<FlagWord> flags;
    std::vector<std::string> args;
    bool json = false;              // exec (JSON array) form
    std::unique_ptr<Node> trigger;  // ONBUILD's instruction
    std::vector<Heredoc> heredocs;
    LogicalLine line;                   // the logical line and its source map
    size_t args_offset = 0;             // where the arguments start in line.text
    SourceRange range;                  // first and last source position, heredocs included
    std::vector<std::string> comments;  // comment lines right before the instruction
};

struct DirectiveEntry {
    std::string name;  // syntax, escape, check
    std::string value;
    SourcePos pos;
    bool operator==(const DirectiveEntry&) const = default;
};

struct ParsedDockerfile {
    std::string file;  // the name used in diagnostics
    std::shared_ptr<const SourceText> source;
    char32_t escape = U'\\';
    std::vector<DirectiveEntry> directives;
    std::vector<Node> nodes;
    std::vector<Diagnostic> warnings;

    std::string line_text(uint32_t line) const;
};

// Parses a Dockerfile. Throws ParseError (with a located Diagnostic) for
// anything the parser stage rejects; never crashes on any input.
ParsedDockerfile parse_dockerfile(std::string bytes, std::string file_name);

// BuildKit's AST dump of one node / of the whole file (`--format tree`).
std::string dump_node(const Node& node);
std::string dump_tree(const ParsedDockerfile& df);

}  // namespace strata::frontend
