// The typed AST: a Dockerfile as global ARGs and stages, each stage a list of
// instructions with validated flags and typed arguments. Built from the
// parser stage's Nodes by build_ast(); knows nothing of ANTLR.
//
// Variables are not expanded here: that needs build args and the stage's
// environment, and happens in the planner.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "frontend/node.hpp"

namespace strata::frontend {

// A flag as written: `--name=value`, or `--name` (has_value false).
struct Flag {
    std::string name;
    std::string value;
    bool has_value = false;
    SourcePos pos;
    size_t offset = 0;  // of the `--name...` word in the instruction's logical line
    size_t length = 0;
    bool operator==(const Flag&) const = default;
};

struct KeyValue {
    std::string key;
    std::string value;
    bool operator==(const KeyValue&) const = default;
};

// RUN/CMD/ENTRYPOINT/HEALTHCHECK command: exec form (argv) or shell form (one
// string run through the SHELL).
struct CommandLine {
    std::vector<std::string> args;
    bool shell_form = false;
    bool operator==(const CommandLine&) const = default;
};

struct FromCmd {
    std::string image;       // unexpanded, e.g. "${BASE}" or "alpine:3.20"
    std::string stage_name;  // lower case, empty if no AS
    std::string platform;    // --platform, unexpanded
    bool operator==(const FromCmd&) const = default;
};
struct RunCmd {
    CommandLine command;
    std::vector<std::string> mounts;  // --mount values
    std::string network;              // --network
    std::string security;             // --security
    bool operator==(const RunCmd&) const = default;
};
struct CmdCmd {
    CommandLine command;
    bool operator==(const CmdCmd&) const = default;
};
struct EntrypointCmd {
    CommandLine command;
    bool operator==(const EntrypointCmd&) const = default;
};
// An inline source from a heredoc: `COPY <<EOF /dst`.
struct InlineSource {
    std::string name;
    std::string content;  // tabs already stripped for <<-
    bool expand = true;
    bool operator==(const InlineSource&) const = default;
};
struct CopyCmd {  // COPY and ADD
    bool is_add = false;
    std::vector<std::string> sources;
    std::vector<InlineSource> inline_sources;
    std::string dest;
    std::string from;  // COPY --from
    std::string chown, chmod, checksum;
    bool link = false, parents = false, keep_git_dir = false;
    std::optional<bool> unpack;  // ADD --unpack[=BOOL]; unset: BuildKit's default
    std::vector<std::string> excludes;
    bool operator==(const CopyCmd&) const = default;
};
struct EnvCmd {
    std::vector<KeyValue> vars;
    bool operator==(const EnvCmd&) const = default;
};
struct LabelCmd {
    std::vector<KeyValue> labels;
    bool operator==(const LabelCmd&) const = default;
};
struct ArgDef {
    std::string name;
    std::optional<std::string> default_value;
    bool operator==(const ArgDef&) const = default;
};
struct ArgCmd {
    std::vector<ArgDef> args;
    bool operator==(const ArgCmd&) const = default;
};
struct ExposeCmd {
    std::vector<std::string> ports;
    bool operator==(const ExposeCmd&) const = default;
};
struct VolumeCmd {
    std::vector<std::string> paths;
    bool operator==(const VolumeCmd&) const = default;
};
struct UserCmd {
    std::string user;
    bool operator==(const UserCmd&) const = default;
};
struct WorkdirCmd {
    std::string path;
    bool operator==(const WorkdirCmd&) const = default;
};
struct StopSignalCmd {
    std::string signal;
    bool operator==(const StopSignalCmd&) const = default;
};
struct ShellCmd {
    std::vector<std::string> shell;
    bool operator==(const ShellCmd&) const = default;
};
struct MaintainerCmd {
    std::string name;
    bool operator==(const MaintainerCmd&) const = default;
};
struct HealthcheckCmd {
    bool none = false;              // HEALTHCHECK NONE
    std::vector<std::string> test;  // ["CMD", ...] or ["CMD-SHELL", "..."]
    int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
    int retries = 0;
    bool operator==(const HealthcheckCmd&) const = default;
};
struct Instruction;
struct OnbuildCmd {
    std::string expression;  // the trigger's source text, as the image config records it
    std::shared_ptr<const Instruction> trigger;
    // The triggers compared by value (instructions.cpp).
    bool operator==(const OnbuildCmd& o) const;
};

using Command = std::variant<FromCmd, RunCmd, CmdCmd, EntrypointCmd, CopyCmd, EnvCmd, LabelCmd,
                             ArgCmd, ExposeCmd, VolumeCmd, UserCmd, WorkdirCmd, StopSignalCmd,
                             ShellCmd, MaintainerCmd, HealthcheckCmd, OnbuildCmd>;

struct Instruction {
    std::string keyword;   // upper case, e.g. "COPY"
    std::string original;  // the logical line, e.g. "COPY --from=build /a /b"
    SourceRange range;
    std::vector<Flag> flags;
    std::vector<std::string> args;  // as the parser stage split them
    bool json = false;
    std::vector<Heredoc> heredocs;
    Command command;
    bool operator==(const Instruction&) const = default;
};

struct Stage {
    size_t index = 0;
    std::string name;  // lower case; empty when unnamed
    std::string base;  // FROM's image or stage reference, unexpanded
    std::string platform;
    SourceRange range;
    Instruction from;
    std::vector<Instruction> instructions;  // after FROM
    bool operator==(const Stage&) const = default;
};

struct Dockerfile {
    std::string file;
    char32_t escape = U'\\';
    std::vector<DirectiveEntry> directives;
    std::vector<Instruction> global_args;  // ARGs before the first FROM
    std::vector<Stage> stages;
    std::vector<Diagnostic> warnings;
    bool operator==(const Dockerfile&) const = default;
};

// Validates and types the parsed nodes. Throws ParseError, located at the
// offending text, for unknown instructions and flags, wrong argument counts,
// instructions before the first FROM other than ARG, bad stage names, ...
Dockerfile build_ast(const ParsedDockerfile& parsed);

// parse_dockerfile + build_ast.
Dockerfile load_dockerfile(std::string bytes, std::string file_name);

// The closest of `candidates` to `word` (case-insensitive edit distance), or
// empty if none is close.
std::string suggest(std::string_view word, const std::vector<std::string>& candidates);

// BuildKit's suggest.WrapError: `message` plus " (did you mean X?)" where X
// is the first option within edit distance 2 of `value` (a closer one
// replaces it); no suggestion when `value` is itself an option.
std::string with_suggestion(std::string message, std::string_view value,
                            const std::vector<std::string>& options);

}  // namespace strata::frontend
