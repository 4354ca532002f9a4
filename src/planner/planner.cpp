// plan_build(): global ARGs, the stage graph (FROM <stage>, COPY --from,
// RUN --mount=from), the target and what it needs, ONBUILD triggers, then
// each needed stage dispatched in Dockerfile order (which is a topological
// order: a stage can only use stages defined before it).
#include "planner/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

#include "frontend/instructions.hpp"
#include "planner/dispatch.hpp"
#include "planner/run_mount.hpp"

namespace strata::planner {

using frontend::Instruction;

namespace {

constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::array<std::string_view, 9> kPlatformArgs = {
    "BUILDPLATFORM", "BUILDOS",    "BUILDARCH",     "BUILDVARIANT", "TARGETPLATFORM",
    "TARGETOS",      "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE",
};

std::string lower(std::string_view s) {
    return frontend::to_lower_ascii(s);
}

// strconv.Atoi
std::optional<long long> go_atoi(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::string_view digits = s;
    bool negative = false;
    if (digits[0] == '+' || digits[0] == '-') {
        negative = digits[0] == '-';
        digits.remove_prefix(1);
    }
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size())
        return std::nullopt;
    return negative ? -v : v;
}

struct StageEntry {
    const frontend::Stage* stage = nullptr;
    std::string base;  // FROM's reference, expanded
    StagePlan::BaseKind kind = StagePlan::BaseKind::kImage;
    size_t base_stage = 0;
    std::map<size_t, const Instruction*> deps;  // stages its commands use → the first such command
    std::vector<Command> triggers;
    bool triggers_done = false;
    BaseImage image;
    bool resolved = false;
    // The named context (its key) the stage starts from: FROM names it, or
    // it has the stage's own name and replaces the stage (`replaced`: the
    // stage's instructions are not run, as in BuildKit). Empty: none.
    std::string context;
    bool replaced = false;
};

class Planner {
  public:
    Planner(const frontend::Dockerfile& df, const PlanOptions& opts, ImageResolver& images)
        : df_(df),
          opts_(opts),
          build_args_(opts.build_args),
          images_(images),
          loc_(df.file, opts.source_text),
          expander_(df.escape) {}

    BuildPlan run();

  private:
    void global_args();
    void source_date_epoch(BuildPlan& plan);
    void stage_table();
    void command_deps(StageEntry& entry, const Instruction& ins);
    std::optional<size_t> find_stage(const std::string& ref, bool allow_index) const;
    std::optional<std::string> named_context(const std::string& ref) const;
    void start_from_context(StageEntry& e, const std::string& key) const;
    SourceRef context_ref(const std::string& key, const Instruction& at);
    bool local_context(const StageEntry& e) const;
    void check_cycles();
    size_t target();
    std::set<size_t> reachable(size_t target) const;
    void init_triggers(size_t index);
    Command parse_trigger(const std::string& expression, const frontend::Stage& stage) const;
    const BaseImage& resolve_image(const std::string& ref, const Instruction& at);
    std::string stage_label(size_t index) const;
    void dispatch(size_t index, BuildPlan& plan);
    void apply_no_cache(BuildPlan& plan);

    const frontend::Dockerfile& df_;
    const PlanOptions& opts_;
    // opts_.build_args, with SOURCE_DATE_EPOCH normalized (or dropped when empty).
    std::map<std::string, std::string> build_args_;
    ImageResolver& images_;
    Locator loc_;
    Expander expander_;
    EnvList global_;
    std::set<std::string> declared_;
    std::vector<StageEntry> entries_;
    std::map<std::string, size_t> names_;  // lower-case stage name → index
    bool single_state_ = false;            // BuildKit drops the stage name from progress then
    std::map<std::string, BaseImage> image_cache_;
    std::map<size_t, StageState> final_states_;
};

void Planner::global_args() {
    const Platform& b = opts_.build_platform;
    const Platform& t = opts_.target_platform;
    // As BuildKit: --target as given, else the last stage's name, else "default".
    std::string target_stage = opts_.target;
    if (target_stage.empty() && !df_.stages.empty()) target_stage = df_.stages.back().name;
    if (target_stage.empty()) target_stage = "default";
    const std::array<std::string, 9> values = {b.str(),        b.os,      b.architecture,
                                               b.variant,      t.str(),   t.os,
                                               t.architecture, t.variant, target_stage};
    for (size_t i = 0; i < kPlatformArgs.size(); ++i) {
        const std::string name(kPlatformArgs[i]);
        const auto over = build_args_.find(name);
        global_.set(name, over != build_args_.end() ? over->second : values[i]);
    }
    for (const Instruction& ins : df_.global_args) {
        for (const frontend::ArgDef& def : std::get<frontend::ArgCmd>(ins.command).args) {
            declared_.insert(def.name);
            const auto arg = build_args_.find(def.name);
            if (arg != build_args_.end()) {
                global_.set(def.name, arg->second);
            } else if (def.default_value) {
                try {
                    global_.set(def.name, expander_.word(*def.default_value, global_).value);
                } catch (const ExpandError& e) {
                    loc_.fail(ins, e.message);
                }
            }
        }
    }
}

// BuildKit: the --build-arg value, else a non-empty global ARG value. A
// number (strconv.ParseInt) is the epoch, normalized ("+05" → "5") where ARG
// SOURCE_DATE_EPOCH reads it; an empty one means none. "context" is the
// commit time of a Git context (PlanOptions::context_time) and none for a
// local one, as in BuildKit. BuildKit also takes a named context or a stage
// name and reads a time from its source; strata does not
// (docs/conformance.md) and says so.
void Planner::source_date_epoch(BuildPlan& plan) {
    constexpr std::string_view kName = "SOURCE_DATE_EPOCH";
    const std::string name(kName);
    const auto arg = build_args_.find(name);
    const std::optional<std::string> global = global_.get(name);
    std::string value;
    if (arg != build_args_.end()) {
        value = arg->second;
    } else if (global && !global->empty()) {
        value = *global;
    } else {
        return;
    }
    if (value == "context") {
        if (opts_.context_time)
            value = std::to_string(*opts_.context_time);
        else
            value.clear();  // a local context has no time to give
    }
    if (value.empty()) {
        build_args_.erase(name);
        global_.erase(name);
        return;
    }
    // What BuildKit would read a time from instead: a stage or a named context.
    const auto names_source = [&](const std::string& v) {
        return named_context(v) ||
               std::any_of(df_.stages.begin(), df_.stages.end(),
                           [&](const frontend::Stage& st) { return st.name == lower(v); });
    };
    const std::optional<long long> n = go_atoi(value);
    if (!n || *n < 0) {
        std::string message = fmt::format("invalid SOURCE_DATE_EPOCH: {}", value);
        std::string hint;
        if (n) {
            hint = "strata needs a time at or after 1970-01-01";
        } else if (names_source(value)) {
            hint =
                "strata takes a number of seconds since 1970 here, not a stage or context "
                "to read a time from";
        } else {
            message += fmt::format(": strconv.ParseInt: parsing \"{}\": invalid syntax", value);
            hint = "give a number of seconds since 1970, e.g. $(git log -1 --format=%ct)";
        }
        // Located at the global ARG when the value is its default.
        if (arg == build_args_.end()) {
            for (const Instruction& ins : df_.global_args) {
                for (const frontend::ArgDef& def : std::get<frontend::ArgCmd>(ins.command).args) {
                    if (def.name == name) loc_.fail(ins, message, hint);
                }
            }
        }
        throw Error(ErrorKind::kUsage, message + " (" + hint + ")");
    }
    plan.source_date_epoch = *n;
    const std::string normalized = std::to_string(*n);
    if (arg != build_args_.end()) build_args_[name] = normalized;
    if (global) global_.set(name, normalized);
}

std::optional<size_t> Planner::find_stage(const std::string& ref, bool allow_index) const {
    if (allow_index) {
        if (const auto n = go_atoi(ref)) {
            if (*n < 0 || static_cast<size_t>(*n) >= entries_.size()) return std::nullopt;
            return static_cast<size_t>(*n);
        }
    }
    const auto it = names_.find(lower(ref));
    if (it == names_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> Planner::named_context(const std::string& ref) const {
    if (opts_.named_contexts.empty() || lower(ref) == "scratch") return std::nullopt;
    std::optional<std::string> key = opts_.context_key ? opts_.context_key(ref) : ref;
    if (!key || opts_.named_contexts.count(*key) == 0) return std::nullopt;
    return key;
}

void Planner::start_from_context(StageEntry& e, const std::string& key) const {
    const NamedContext& nc = opts_.named_contexts.at(key);
    e.context = key;
    if (nc.kind == NamedContext::Kind::kImage) {
        e.kind = StagePlan::BaseKind::kImage;
        e.base = nc.image;
    } else {
        e.kind = StagePlan::BaseKind::kScratch;  // a local one's files are its first step
    }
}

bool Planner::local_context(const StageEntry& e) const {
    return !e.context.empty() &&
           opts_.named_contexts.at(e.context).kind == NamedContext::Kind::kLocal;
}

SourceRef Planner::context_ref(const std::string& key, const Instruction& at) {
    const NamedContext& nc = opts_.named_contexts.at(key);
    SourceRef ref;
    switch (nc.kind) {
        case NamedContext::Kind::kLocal:
            ref.kind = SourceRef::Kind::kContext;
            ref.context = key;
            break;
        case NamedContext::Kind::kScratch:
            ref.kind = SourceRef::Kind::kScratch;
            break;
        case NamedContext::Kind::kImage:
            ref.kind = SourceRef::Kind::kImage;
            ref.image = nc.image;
            ref.image_digest = resolve_image(nc.image, at).digest;
            break;
    }
    return ref;
}

void Planner::command_deps(StageEntry& entry, const Instruction& ins) {
    if (const auto* copy = std::get_if<frontend::CopyCmd>(&ins.command);
        copy && !copy->from.empty()) {
        const std::string& from = copy->from;
        std::string plain;
        try {
            plain = expander_.word(from, EnvList{}).value;
        } catch (const ExpandError&) {
            plain.clear();
        }
        if (plain != from) {
            loc_.fail_flag(
                ins, "from",
                "variable expansion is not supported for --from, define a new stage with "
                "FROM using ARG from global scope as a workaround");
        }
        if (const auto n = go_atoi(from)) {
            if (*n < 0 || static_cast<size_t>(*n) >= entries_.size()) {
                loc_.fail_flag(
                    ins, "from", fmt::format("invalid stage index {}", *n),
                    fmt::format("the Dockerfile has {} stages, numbered from 0", entries_.size()));
            }
        }
        if (const auto j = find_stage(from, true); j && !entries_[*j].replaced)
            entry.deps.emplace(*j, &ins);
        return;
    }
    if (const auto* run = std::get_if<frontend::RunCmd>(&ins.command)) {
        for (const std::string& value : run->mounts) {
            MountSpec m;
            try {
                m = parse_mount(value);
            } catch (const MountError& e) {
                loc_.fail_flag(ins, "mount", e.message);
            }
            if (m.from.empty() || m.type == "tmpfs") continue;
            if (const auto j = find_stage(m.from, false); j && !entries_[*j].replaced)
                entry.deps.emplace(*j, &ins);
        }
    }
}

void Planner::stage_table() {
    entries_.resize(df_.stages.size());
    size_t external_refs = 0;
    for (size_t i = 0; i < df_.stages.size(); ++i) {
        const frontend::Stage& st = df_.stages[i];
        StageEntry& e = entries_[i];
        e.stage = &st;
        try {
            e.base = expander_.word(st.base, global_).value;
        } catch (const ExpandError& err) {
            loc_.fail(st.from, err.message);
        }
        if (e.base.empty()) {
            loc_.fail(st.from, fmt::format("base name ({}) should not be blank", st.base),
                      "declare the ARG before the first FROM, or pass it with --build-arg");
        }
        // Only stages defined before this FROM can be its base; a later name
        // is an image reference, as in BuildKit. A named context with the
        // stage's name replaces the stage; one FROM names comes before an
        // image of that name.
        const auto base = names_.find(lower(e.base));
        std::optional<std::string> context;
        if (!st.name.empty()) context = named_context(st.name);
        if (context) {
            start_from_context(e, *context);
            e.replaced = true;
            e.triggers_done = true;  // BuildKit runs neither its nor its image's
        } else if (e.base == "scratch") {
            e.kind = StagePlan::BaseKind::kScratch;
        } else if (base != names_.end()) {
            e.kind = StagePlan::BaseKind::kStage;
            e.base_stage = base->second;
        } else if ((context = named_context(e.base))) {
            start_from_context(e, *context);
        }
        if (!st.name.empty()) names_[st.name] = i;
    }
    for (size_t i = 0; i < df_.stages.size(); ++i) {
        if (entries_[i].replaced) continue;
        for (const Instruction& ins : df_.stages[i].instructions) {
            command_deps(entries_[i], ins);
            if (const auto* copy = std::get_if<frontend::CopyCmd>(&ins.command)) {
                if (!copy->from.empty() && !find_stage(copy->from, true)) ++external_refs;
            } else if (const auto* run = std::get_if<frontend::RunCmd>(&ins.command)) {
                for (const std::string& v : run->mounts) {
                    const MountSpec m = parse_mount(v);
                    const std::string from =
                        m.from.empty() && m.type == "cache" ? "scratch" : m.from;
                    if (!from.empty() && m.type != "tmpfs" && !find_stage(from, false))
                        ++external_refs;
                }
            }
        }
    }
    single_state_ = df_.stages.size() + external_refs == 1;
}

std::string Planner::stage_label(size_t index) const {
    const frontend::Stage& st = df_.stages[index];
    return st.name.empty() ? fmt::format("stage-{}", index) : st.name;
}

void Planner::check_cycles() {
    // Depth-first over command dependencies, as BuildKit's
    // validateCircularDependency: report the stage where the search started
    // and locate the first command on the cycle.
    std::vector<int> state(entries_.size(), 0);  // 0 new, 1 on path, 2 done
    std::vector<const Instruction*> path;        // the commands leading here
    std::function<bool(size_t)> visit = [&](size_t i) -> bool {
        state[i] = 1;
        for (const auto& [dep, ins] : entries_[i].deps) {
            path.push_back(ins);
            if (state[dep] == 1 || (state[dep] == 0 && visit(dep))) return true;
            path.pop_back();
        }
        state[i] = 2;
        return false;
    };
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (state[i] == 0 && visit(i)) {
            loc_.fail(*path.front(),
                      fmt::format("circular dependency detected on stage: {}", stage_label(i)));
        }
    }
}

size_t Planner::target() {
    if (opts_.target.empty()) return entries_.size() - 1;
    const auto it = names_.find(lower(opts_.target));
    if (it != names_.end()) return it->second;
    std::vector<std::string> names;
    for (const frontend::Stage& s : df_.stages) {
        if (!s.name.empty()) names.push_back(s.name);
    }
    std::string message = fmt::format("target stage \"{}\" could not be found", opts_.target);
    const std::string best = frontend::suggest(opts_.target, names);
    if (!best.empty()) message += fmt::format(" (did you mean {}?)", best);
    throw Error(ErrorKind::kUsage, message);
}

std::set<size_t> Planner::reachable(size_t target) const {
    std::set<size_t> out;
    std::vector<size_t> todo{target};
    while (!todo.empty()) {
        const size_t i = todo.back();
        todo.pop_back();
        if (!out.insert(i).second) continue;
        const StageEntry& e = entries_[i];
        if (e.kind == StagePlan::BaseKind::kStage) todo.push_back(e.base_stage);
        for (const auto& [dep, ins] : e.deps)
            todo.push_back(dep);
    }
    return out;
}

const BaseImage& Planner::resolve_image(const std::string& ref, const Instruction& at) {
    const auto it = image_cache_.find(ref);
    if (it != image_cache_.end()) return it->second;
    try {
        return image_cache_[ref] = images_.resolve(ref, opts_.target_platform);
    } catch (const frontend::ParseError&) {
        throw;
    } catch (const Error& e) {
        throw frontend::ParseError(loc_.error(at, e.what()), e.kind());
    }
}

Command Planner::parse_trigger(const std::string& expression, const frontend::Stage& stage) const {
    frontend::Dockerfile parsed;
    try {
        parsed = frontend::load_dockerfile("FROM scratch\n" + expression + "\n", df_.file);
    } catch (const frontend::ParseError& e) {
        loc_.fail(stage.from,
                  fmt::format("ONBUILD trigger \"{}\": {}", expression, e.diagnostic().message));
    }
    if (parsed.stages.size() != 1 || parsed.stages[0].instructions.size() != 1) {
        loc_.fail(stage.from,
                  fmt::format("onbuild trigger should be a single expression: {}", expression));
    }
    Command c{std::move(parsed.stages[0].instructions[0]), true};
    if (std::holds_alternative<frontend::OnbuildCmd>(c.ins.command)) {
        loc_.fail(stage.from, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    }
    if (std::holds_alternative<frontend::MaintainerCmd>(c.ins.command)) {
        loc_.fail(stage.from, "MAINTAINER isn't allowed as an ONBUILD trigger");
    }
    // Errors in a trigger point at the FROM that brought it in.
    c.ins.range = stage.from.range;
    for (frontend::Flag& f : c.ins.flags)
        f.pos = {};
    return c;
}

void Planner::init_triggers(size_t index) {
    StageEntry& e = entries_[index];
    if (e.triggers_done) return;
    e.triggers_done = true;
    std::vector<std::string> expressions;
    if (e.kind == StagePlan::BaseKind::kImage) {
        e.image = resolve_image(e.base, e.stage->from);
        e.resolved = true;
        expressions = e.image.onbuild;
    } else if (e.kind == StagePlan::BaseKind::kStage) {
        for (const Instruction& ins : df_.stages[e.base_stage].instructions) {
            if (const auto* ob = std::get_if<frontend::OnbuildCmd>(&ins.command))
                expressions.push_back(ob->expression);
        }
    }
    for (const std::string& expr : expressions) {
        e.triggers.push_back(parse_trigger(expr, *e.stage));
    }
    for (const Command& c : e.triggers)
        command_deps(e, c.ins);
}

void Planner::dispatch(size_t index, BuildPlan& plan) {
    StageEntry& e = entries_[index];
    const frontend::Stage& st = *e.stage;
    StagePlan sp;
    sp.index = index;
    sp.name = st.name;
    sp.display_name = single_state_ ? "" : stage_label(index);
    sp.range = st.range;
    sp.base_kind = e.kind;
    sp.base_ref = e.base;
    sp.platform = opts_.target_platform;
    if (!st.platform.empty()) {
        std::string text;
        try {
            text = expander_.word(st.platform, global_).value;
        } catch (const ExpandError& err) {
            loc_.fail_flag(st.from, "platform", err.message);
        }
        if (text.empty()) {
            loc_.fail_flag(st.from, "platform",
                           fmt::format("empty platform value from expression {}", st.platform));
        }
        const auto p = parse_platform(text);
        if (!p)
            loc_.fail_flag(st.from, "platform", fmt::format("failed to parse platform {}", text));
        if (!(*p == opts_.target_platform)) {
            loc_.fail_flag(st.from, "platform",
                           fmt::format("platform {} is not supported: strata builds for the host "
                                       "platform {} only",
                                       p->str(), opts_.target_platform.str()),
                           "drop --platform, or use --platform=$BUILDPLATFORM");
        }
    }

    StageState state;
    StepCounter counter;
    counter.stage_name = sp.display_name;
    sp.start_effect.clear_onbuild = true;  // triggers never carry over to the next image
    if (e.kind == StagePlan::BaseKind::kImage && !e.resolved) {  // a replaced stage's image
        e.image = resolve_image(e.base, st.from);
        e.resolved = true;
    }
    if (e.kind == StagePlan::BaseKind::kStage) {
        state = final_states_.at(e.base_stage);
        state.cmd_set = false;
        sp.base_stage = e.base_stage;
        sp.depends_on.push_back(e.base_stage);
    } else {
        if (e.kind == StagePlan::BaseKind::kImage) {
            sp.base_image = e.image;
            state.env = env_from_config(e.image.env);
            state.workdir = e.image.working_dir;
            state.user = e.image.user;
            state.shell = e.image.shell;
            counter.total = 1;
        }
        if (!state.env.has("PATH")) {  // BuildKit makes sure PATH is always set
            state.env.set("PATH", std::string(kDefaultPath));
            sp.start_effect.env.emplace_back("PATH", std::string(kDefaultPath));
        }
    }
    std::vector<Command> commands = e.triggers;
    if (!e.replaced) {
        for (const Instruction& ins : st.instructions)
            commands.push_back({ins, false});
    }
    for (const Command& c : commands) {
        const Instruction& ins = c.ins;
        if (std::holds_alternative<frontend::CopyCmd>(ins.command) ||
            std::holds_alternative<frontend::RunCmd>(ins.command) ||
            std::holds_alternative<frontend::WorkdirCmd>(ins.command))
            ++counter.total;
        else if (c.from_onbuild)
            ++counter.total;
    }
    if (e.kind == StagePlan::BaseKind::kImage && !e.image.empty_rootfs) {
        const std::string ref = e.image.canonical_ref.empty() ? e.base : e.image.canonical_ref;
        if (!e.context.empty()) {  // BuildKit's vertex of a named context, not a step
            --counter.total;
            sp.from_display = fmt::format("[context {}] {}", e.context, ref);
        } else {
            sp.from_display = counter.next_prefix(false) + "FROM " + ref;
        }
    }

    DispatchContext ctx{
        loc_,
        expander_,
        global_,
        build_args_,
        [&](const std::string& from, const Instruction& ins, bool mount) -> SourceRef {
            SourceRef ref;
            const auto j = find_stage(from, !mount);
            if (j && entries_[*j].replaced) return context_ref(entries_[*j].context, ins);
            if (j) {
                if (final_states_.count(*j) == 0) {
                    loc_.fail_flag(ins, mount ? "mount" : "from",
                                   fmt::format("cannot copy from stage \"{}\", it needs to be "
                                               "defined before current stage \"{}\"",
                                               from, sp.display_name));
                }
                ref.kind = SourceRef::Kind::kStage;
                ref.stage = *j;
                if (std::find(sp.depends_on.begin(), sp.depends_on.end(), *j) ==
                    sp.depends_on.end())
                    sp.depends_on.push_back(*j);
                return ref;
            }
            if (from == "scratch") {
                ref.kind = SourceRef::Kind::kScratch;
                return ref;
            }
            if (const auto key = named_context(from)) return context_ref(*key, ins);
            ref.kind = SourceRef::Kind::kImage;
            ref.image = from;
            ref.image_digest = resolve_image(from, ins).digest;
            return ref;
        },
        declared_,
        opts_.default_network};
    if (local_context(e)) sp.steps.push_back(context_files_step(e.context, st.from, state, ctx));
    dispatch_commands(sp, state, commands, ctx, counter);
    final_states_[index] = std::move(state);
    plan.stages.push_back(std::move(sp));
}

void Planner::apply_no_cache(BuildPlan& plan) {
    // A step run again may give a different result under the same key, so
    // whatever chains on it runs again too: the rest of its stage, stages
    // FROM it, and RUN steps that mount it. COPY --from needs no such care:
    // its key holds a digest of the files it copies.
    std::map<size_t, bool> tainted;
    for (StagePlan& sp : plan.stages) {
        sp.no_cache = opts_.no_cache;
        for (const std::string& f : opts_.no_cache_filter) {
            if (!sp.name.empty() && lower(f) == sp.name) sp.no_cache = true;
        }
        bool chain =
            sp.no_cache || (sp.base_kind == StagePlan::BaseKind::kStage && tainted[sp.base_stage]);
        for (Step& step : sp.steps) {
            bool t = chain;
            for (const RunMount& m : step.run.mounts) {
                if (m.from.kind == SourceRef::Kind::kStage && tainted[m.from.stage]) t = true;
            }
            step.no_cache = t || sp.no_cache;
            if (t && step.changes_filesystem) chain = true;
        }
        tainted[sp.index] = chain;
    }
}

BuildPlan Planner::run() {
    BuildPlan plan;
    plan.file = df_.file;
    plan.platform = opts_.target_platform;
    plan.warnings = df_.warnings;
    global_args();
    source_date_epoch(plan);
    plan.build_args = build_args_;
    stage_table();
    check_cycles();
    const size_t t = target();
    plan.target = t;
    // ONBUILD triggers can add dependencies: repeat until nothing new is needed.
    std::set<size_t> needed;
    while (true) {
        needed = reachable(t);
        bool changed = false;
        for (size_t i : needed) {
            if (entries_[i].triggers_done) continue;
            const size_t before = entries_[i].deps.size();
            init_triggers(i);
            changed = changed || entries_[i].deps.size() != before;
        }
        if (!changed) break;
        check_cycles();
    }
    for (size_t i : needed)  // std::set: Dockerfile order
        dispatch(i, plan);
    apply_no_cache(plan);

    for (const auto& [name, value] : build_args_) {
        if (!is_builtin_arg(name) && declared_.count(name) == 0)
            plan.unused_build_args.push_back(name);
    }
    return plan;
}

}  // namespace

std::map<std::string, std::string> resolve_build_args(
    const std::vector<std::string>& cli_values,
    const std::function<std::optional<std::string>(const std::string&)>& getenv) {
    std::map<std::string, std::string> out;
    for (const std::string& v : cli_values) {
        const size_t eq = v.find('=');
        if (eq != std::string::npos) {
            out[v.substr(0, eq)] = v.substr(eq + 1);
            continue;
        }
        const auto value = getenv ? getenv(v) : std::nullopt;
        if (value) {
            out[v] = *value;
        } else {
            out.erase(v);  // the docker CLI drops a name that is unset in its environment
        }
    }
    return out;
}

std::vector<EnvVar> proxy_env_from_build_args(const std::map<std::string, std::string>& args) {
    static const std::array<std::string_view, 5> kKinds = {"http_proxy", "https_proxy", "ftp_proxy",
                                                           "no_proxy", "all_proxy"};
    std::array<std::optional<std::string>, 5> values;
    for (const auto& [name, value] : args) {  // std::map: Go's sorted key order
        for (size_t i = 0; i < kKinds.size(); ++i) {
            if (lower(name) == kKinds[i]) values[i] = value;
        }
    }
    std::vector<EnvVar> out;
    for (size_t i = 0; i < kKinds.size(); ++i) {
        if (!values[i] || values[i]->empty()) continue;  // BuildKit skips empty values
        std::string upper(kKinds[i]);
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        out.emplace_back(upper, *values[i]);
        out.emplace_back(std::string(kKinds[i]), *values[i]);
    }
    return out;
}

bool is_builtin_arg(std::string_view name) {
    return is_proxy_arg(name) || name.rfind("BUILDKIT_", 0) == 0 || name == "SOURCE_DATE_EPOCH" ||
           std::find(kPlatformArgs.begin(), kPlatformArgs.end(), name) != kPlatformArgs.end();
}

bool is_proxy_arg(std::string_view name) {
    static const std::array<std::string_view, 10> kProxy = {
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
        "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy",
    };
    return std::find(kProxy.begin(), kProxy.end(), name) != kProxy.end();
}

BuildPlan plan_build(const frontend::Dockerfile& dockerfile, const PlanOptions& options,
                     ImageResolver& images) {
    if (dockerfile.stages.empty()) {
        throw Error(ErrorKind::kParse, "dockerfile contains no stages to build");
    }
    return Planner(dockerfile, options, images).run();
}

}  // namespace strata::planner
