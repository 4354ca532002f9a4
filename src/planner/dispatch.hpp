// Internal to the planner: turning one stage's instructions into Steps
// (BuildKit's dispatch*), given the stage's running state.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "frontend/instructions.hpp"
#include "frontend/locator.hpp"
#include "planner/build_plan.hpp"
#include "planner/expansion.hpp"

namespace strata::planner {

using frontend::Locator;

struct ArgDecl {
    std::string name;
    std::optional<std::string> value;
};

// What a stage carries from one instruction to the next, and to the stages
// built FROM it: the build environment (image Env, ENV and ARG values, one
// ordered list where the later assignment wins), WORKDIR, USER, SHELL and
// the ARGs declared so far (RUN's history text lists them).
struct StageState {
    EnvList env;
    std::string workdir;
    std::string user;
    std::vector<std::string> shell;
    std::vector<ArgDecl> args;
    bool cmd_set = false;  // CMD seen in this stage (not inherited)
};

struct Command {
    frontend::Instruction ins;
    bool from_onbuild = false;
};

// BuildKit's "[name i/n] " progress prefix.
struct StepCounter {
    std::string stage_name;
    size_t total = 0;
    size_t index = 0;
    std::string next_prefix(bool onbuild);
};

struct DispatchContext {
    const Locator& loc;
    const Expander& expander;
    const EnvList& global_args;
    const std::map<std::string, std::string>& build_args;
    // COPY --from / RUN --mount=from resolution (stage or image), located.
    std::function<SourceRef(const std::string& from, const frontend::Instruction& ins, bool mount)>
        resolve_from;
    std::set<std::string>& declared_args;
    const std::string& default_network;  // `build --network`: RUN steps without --network
};

// Appends one Step per command to stage.steps.
void dispatch_commands(StagePlan& stage, StageState& state, const std::vector<Command>& commands,
                       DispatchContext& ctx, StepCounter& counter);

// Split out of dispatch.cpp: COPY/ADD and RUN.
void dispatch_copy(Step& step, StageState& state, DispatchContext& ctx, StepCounter& counter,
                   const EnvList& env);
void dispatch_run(Step& step, StageState& state, DispatchContext& ctx, StepCounter& counter,
                  const EnvList& env);

// Expands the words of one instruction, remembering what they read and
// turning expansion errors into located ones.
class StepExpander {
  public:
    StepExpander(const DispatchContext& ctx, const frontend::Instruction& ins, const EnvList& env)
        : ctx_(ctx), ins_(ins), env_(env) {}
    std::string word(const std::string& text);
    std::vector<std::string> words(const std::string& text);
    std::string raw(const std::string& text);
    // Records the variables read into the step (used_vars and key fields).
    void finish(Step& step) const;

  private:
    void note(const Expanded& e);
    const DispatchContext& ctx_;
    const frontend::Instruction& ins_;
    const EnvList& env_;
    std::set<std::string> used_;
};

// The first step of a stage FROM a local named context: the context's
// files as the stage's first layer, as `COPY . /` of them (owned by 0:0, as
// the client sends them to BuildKit). Located at the FROM instruction.
Step context_files_step(const std::string& name, const frontend::Instruction& from,
                        StageState& state, const DispatchContext& ctx);

std::string uppercase_command(std::string_view text);
void add_field(Step& step, std::string name, std::string value);

}  // namespace strata::planner
