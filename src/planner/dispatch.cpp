// Metadata instructions (ENV, ARG, LABEL, EXPOSE, USER, VOLUME, WORKDIR,
// STOPSIGNAL, SHELL, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD, MAINTAINER):
// expansion as BuildKit's Expand methods do it, the config change, and the
// history text exactly as dockerfile2llb records it.
#include "planner/dispatch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "planner/go_format.hpp"
#include "planner/instruction_checks.hpp"

namespace strata::planner {

using frontend::Instruction;

std::string StepCounter::next_prefix(bool onbuild) {
    if (total == 0) return {};
    std::string out = "[";
    if (!stage_name.empty()) out += stage_name + " ";
    ++index;
    const int width = static_cast<int>(1 + std::log10(static_cast<double>(total)));
    out += fmt::format("{:>{}}/{}] ", index, width, total);
    if (onbuild) out += "ONBUILD ";
    return out;
}

void StepExpander::note(const Expanded& e) {
    used_.insert(e.used.begin(), e.used.end());
}

std::string StepExpander::word(const std::string& text) {
    try {
        Expanded e = ctx_.expander.word(text, env_);
        note(e);
        return std::move(e.value);
    } catch (const ExpandError& err) {
        ctx_.loc.fail(ins_, err.message);
    }
}

std::vector<std::string> StepExpander::words(const std::string& text) {
    try {
        Expanded e = ctx_.expander.words(text, env_);
        note(e);
        return std::move(e.words);
    } catch (const ExpandError& err) {
        ctx_.loc.fail(ins_, err.message);
    }
}

std::string StepExpander::raw(const std::string& text) {
    try {
        Expanded e = ctx_.expander.raw(text, env_);
        note(e);
        return std::move(e.value);
    } catch (const ExpandError& err) {
        ctx_.loc.fail(ins_, err.message);
    }
}

void StepExpander::finish(Step& step) const {
    for (const std::string& name : used_) {
        step.used_vars.push_back(name);
        if (const auto v = env_.get(name)) {
            add_field(step, "var", name + "=" + *v);
        } else {
            add_field(step, "var-unset", name);
        }
    }
}

std::string uppercase_command(std::string_view text) {
    const size_t space = text.find(' ');
    std::string head(text.substr(0, space));
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return space == std::string_view::npos ? head : head + std::string(text.substr(space));
}

void add_field(Step& step, std::string name, std::string value) {
    step.key_fields.push_back({std::move(name), std::move(value)});
}

namespace {

std::vector<std::string> with_shell(const StageState& state, const std::vector<std::string>& args) {
    std::vector<std::string> out =
        state.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : state.shell;
    std::string joined;
    for (size_t i = 0; i < args.size(); ++i) {
        if (i > 0) joined += ' ';
        joined += args[i];
    }
    out.push_back(std::move(joined));
    return out;
}

// EXPOSE's history text: BuildKit prints the map that nat.ParsePortSpecs
// returns with Go's %v, which writes a map's keys sorted and once each:
// "map[443/tcp:{} 80/tcp:{}]".
std::string go_port_map(std::vector<std::string> ports) {
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    std::string out = "map[";
    for (size_t i = 0; i < ports.size(); ++i) {
        if (i > 0) out += ' ';
        out += ports[i] + ":{}";
    }
    return out + "]";
}

void history(Step& step, std::string created_by, bool empty_layer = true) {
    step.effect.history = ConfigEffect::History{std::move(created_by), empty_layer};
}

void dispatch_arg(Step& step, StageState& state, DispatchContext& ctx) {
    const auto& cmd = std::get<frontend::ArgCmd>(step.instruction.command);
    std::vector<std::string> commit;
    for (const frontend::ArgDef& def : cmd.args) {
        const auto build_arg = ctx.build_args.find(def.name);
        std::optional<std::string> value;
        if (build_arg != ctx.build_args.end()) {
            value = build_arg->second;
        } else if (def.default_value) {
            // Each default sees the ARGs before it on the same line.
            const EnvList now = state.env;
            StepExpander ex(ctx, step.instruction, now);
            value = ex.word(*def.default_value);
            ex.finish(step);
        } else if (const auto global = ctx.global_args.get(def.name)) {
            value = global;  // `ARG NAME` re-declares a global ARG (or a platform arg)
        }
        if (value) state.env.set(def.name, *value);
        state.args.push_back({def.name, value});
        ctx.declared_args.insert(def.name);
        commit.push_back(value ? def.name + "=" + *value : def.name);
        add_field(step, "arg", commit.back());
    }
    history(step, "ARG " + fmt::format("{}", fmt::join(commit, " ")));
}

void dispatch_key_values(Step& step, StageState& state, StepExpander& ex, bool env_cmd) {
    const auto& pairs = env_cmd ? std::get<frontend::EnvCmd>(step.instruction.command).vars
                                : std::get<frontend::LabelCmd>(step.instruction.command).labels;
    std::string commit = env_cmd ? "ENV" : "LABEL";
    std::vector<EnvVar> expanded;
    // Every pair expands against the environment before the instruction
    // (`ENV A=1 B=$A` gives B the old A), as BuildKit's Expand does.
    for (const frontend::KeyValue& kv : pairs)
        expanded.emplace_back(ex.word(kv.key), ex.word(kv.value));
    for (auto& [k, v] : expanded) {
        commit += " " + k + "=" + v;
        add_field(step, env_cmd ? "env" : "label", k + "=" + v);
        if (env_cmd) {
            state.env.set(k, v);
            step.effect.env.emplace_back(k, v);
        } else {
            step.effect.labels.emplace_back(k, v);
        }
    }
    history(step, commit);
}

std::string healthcheck_text(const Healthcheck& h) {
    return fmt::format(
        "HEALTHCHECK {{Test:{} Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{}}}",
        go_plain_list(h.test), go_duration(h.interval_ns), go_duration(h.timeout_ns),
        go_duration(h.start_period_ns), go_duration(h.start_interval_ns), h.retries);
}

void dispatch_metadata(Step& step, StageState& state, DispatchContext& ctx, StepCounter& counter,
                       const EnvList& env, StepExpander& ex) {
    const Instruction& ins = step.instruction;
    std::visit(
        [&](const auto& cmd) {
            using T = std::decay_t<decltype(cmd)>;
            if constexpr (std::is_same_v<T, frontend::EnvCmd>) {
                step.kind = StepKind::kEnv;
                dispatch_key_values(step, state, ex, true);
            } else if constexpr (std::is_same_v<T, frontend::LabelCmd>) {
                step.kind = StepKind::kLabel;
                dispatch_key_values(step, state, ex, false);
            } else if constexpr (std::is_same_v<T, frontend::ArgCmd>) {
                step.kind = StepKind::kArg;
                dispatch_arg(step, state, ctx);
            } else if constexpr (std::is_same_v<T, frontend::ExposeCmd>) {
                step.kind = StepKind::kExpose;
                std::vector<std::string> ports;
                for (const std::string& p : cmd.ports) {
                    for (const std::string& w : ex.words(p)) {
                        PortsOrError parsed = parse_port_spec(w);
                        if (!parsed.error.empty()) ctx.loc.fail(ins, parsed.error);
                        ports.insert(ports.end(), parsed.ports.begin(), parsed.ports.end());
                    }
                }
                for (const std::string& p : ports)
                    add_field(step, "port", p);
                step.effect.exposed_ports = ports;
                history(step, "EXPOSE " + go_port_map(ports));
            } else if constexpr (std::is_same_v<T, frontend::UserCmd>) {
                step.kind = StepKind::kUser;
                state.user = ex.word(cmd.user);
                step.effect.user = state.user;
                add_field(step, "user", state.user);
                history(step, "USER " + state.user);
            } else if constexpr (std::is_same_v<T, frontend::VolumeCmd>) {
                step.kind = StepKind::kVolume;
                for (const std::string& v : cmd.paths) {
                    std::string path = ex.word(v);
                    if (path.empty())
                        ctx.loc.fail(ins, "VOLUME specified can not be an empty string");
                    add_field(step, "volume", path);
                    step.effect.volumes.push_back(std::move(path));
                }
                history(step, "VOLUME " + go_plain_list(step.effect.volumes));
            } else if constexpr (std::is_same_v<T, frontend::WorkdirCmd>) {
                step.kind = StepKind::kWorkdir;
                const std::string wd = normalize_workdir(state.workdir, ex.word(cmd.path));
                state.workdir = wd;
                step.effect.working_dir = wd;
                add_field(step, "workdir", wd);
                add_field(step, "user", state.user);  // the directory is created as USER
                step.changes_filesystem = wd != "/";
                if (step.changes_filesystem) {
                    step.display =
                        counter.next_prefix(step.from_onbuild) +
                        uppercase_command(ctx.expander.display(ins.original, env, false));
                }
                history(step, "WORKDIR " + wd, !step.changes_filesystem);
            } else if constexpr (std::is_same_v<T, frontend::StopSignalCmd>) {
                step.kind = StepKind::kStopSignal;
                std::string sig = ex.word(cmd.signal);
                if (!is_valid_signal(sig)) ctx.loc.fail(ins, "Invalid signal: " + sig);
                add_field(step, "signal", sig);
                step.effect.stop_signal = sig;
                history(step, "STOPSIGNAL " + sig);
            } else if constexpr (std::is_same_v<T, frontend::ShellCmd>) {
                step.kind = StepKind::kShell;
                state.shell = cmd.shell;
                step.effect.shell = cmd.shell;
                for (const std::string& a : cmd.shell)
                    add_field(step, "shell", a);
                history(step, "SHELL " + go_plain_list(cmd.shell));
            } else if constexpr (std::is_same_v<T, frontend::MaintainerCmd>) {
                step.kind = StepKind::kMaintainer;
                step.effect.author = cmd.name;
                add_field(step, "author", cmd.name);
                history(step, "MAINTAINER " + cmd.name);
            } else if constexpr (std::is_same_v<T, frontend::CmdCmd> ||
                                 std::is_same_v<T, frontend::EntrypointCmd>) {
                constexpr bool is_cmd = std::is_same_v<T, frontend::CmdCmd>;
                step.kind = is_cmd ? StepKind::kCmd : StepKind::kEntrypoint;
                std::vector<std::string> args = cmd.command.args;
                if (cmd.command.shell_form) args = with_shell(state, args);
                for (const std::string& a : args)
                    add_field(step, "argv", a);
                if constexpr (is_cmd) {
                    state.cmd_set = true;
                    step.effect.cmd = args;
                    step.effect.args_escaped = true;
                    history(step, "CMD " + go_quoted_list(args));
                } else {
                    step.effect.entrypoint = args;
                    step.effect.clear_cmd = !state.cmd_set;
                    history(step, "ENTRYPOINT " + go_quoted_list(args));
                }
            } else if constexpr (std::is_same_v<T, frontend::HealthcheckCmd>) {
                step.kind = StepKind::kHealthcheck;
                Healthcheck h{cmd.test,
                              cmd.interval_ns,
                              cmd.timeout_ns,
                              cmd.start_period_ns,
                              cmd.start_interval_ns,
                              cmd.retries};
                const std::string text = healthcheck_text(h);
                add_field(step, "healthcheck", text);
                step.effect.healthcheck = std::move(h);
                history(step, text);
            } else if constexpr (std::is_same_v<T, frontend::OnbuildCmd>) {
                step.kind = StepKind::kOnbuild;
                step.effect.onbuild.push_back(cmd.expression);
                add_field(step, "onbuild", cmd.expression);  // BuildKit records no history
            } else {
                ctx.loc.fail(ins, fmt::format("{} is not allowed here", ins.keyword));
            }
        },
        ins.command);
}

}  // namespace

void dispatch_commands(StagePlan& stage, StageState& state, const std::vector<Command>& commands,
                       DispatchContext& ctx, StepCounter& counter) {
    for (const Command& c : commands) {
        Step step;
        step.instruction = c.ins;
        step.from_onbuild = c.from_onbuild;
        const EnvList env = state.env;  // what this instruction's words expand against
        add_field(step, "op", c.ins.keyword);
        if (std::holds_alternative<frontend::CopyCmd>(c.ins.command)) {
            dispatch_copy(step, state, ctx, counter, env);
        } else if (std::holds_alternative<frontend::RunCmd>(c.ins.command)) {
            dispatch_run(step, state, ctx, counter, env);
        } else {
            StepExpander ex(ctx, step.instruction, env);
            dispatch_metadata(step, state, ctx, counter, env, ex);
            ex.finish(step);
        }
        stage.steps.push_back(std::move(step));
    }
}

}  // namespace strata::planner
