// `strata parse [-f FILE] [--format=json|tree]`
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/commands.hpp"
#include "frontend/ast_json.hpp"
#include "frontend/node.hpp"

namespace strata::cli {
namespace {

struct ParseOptions {
    std::string file = "Dockerfile";
    std::string format = "tree";
};

std::string read_input(const std::string& file) {
    if (file == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw system_error("open", file);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw system_error("read", file);
    return ss.str();
}

int run_parse(const ParseOptions& opts) {
    const std::string name = opts.file == "-" ? "<stdin>" : opts.file;
    try {
        // `tree` is the parser stage alone (BuildKit's dump, checked against its
        // corpus); `json` is the validated, typed AST.
        frontend::ParsedDockerfile df = frontend::parse_dockerfile(read_input(opts.file), name);
        for (const auto& w : df.warnings)
            fmt::print(stderr, "{}", frontend::render(w));
        if (opts.format == "tree") {
            fmt::print("{}\n", frontend::dump_tree(df));
        } else {
            fmt::print("{}\n", frontend::to_json(frontend::build_ast(df))
                                   .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
        }
    } catch (const frontend::ParseError& e) {
        fmt::print(stderr, "{}", frontend::render(e.diagnostic()));
        return 1;
    }
    return 0;
}

}  // namespace

void add_parse_command(CLI::App& app) {
    auto opts = std::make_shared<ParseOptions>();
    CLI::App* cmd = app.add_subcommand("parse", "Parse a Dockerfile and print its syntax tree");
    cmd->add_option("-f,--file", opts->file, "Dockerfile to parse ('-' for stdin)")
        ->capture_default_str();
    cmd->add_option("--format", opts->format,
                    "tree: the parse tree in BuildKit's dump format; json: the AST")
        ->check(CLI::IsMember({"tree", "json"}))
        ->capture_default_str();
    cmd->callback([opts] {
        const int rc = run_parse(*opts);
        if (rc != 0) throw ExitCode{rc};
    });
}

}  // namespace strata::cli
