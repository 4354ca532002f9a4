// COPY/ADD and RUN: the filesystem steps. Expansion, checks and history text
// follow BuildKit's dispatchCopy and dispatchRun.
#include <fmt/format.h>

#include <algorithm>

#include "frontend/git_url.hpp"
#include "frontend/heredoc.hpp"
#include "planner/cache_key.hpp"
#include "planner/copy_dest.hpp"
#include "planner/dispatch.hpp"
#include "planner/instruction_checks.hpp"
#include "planner/planner.hpp"
#include "planner/run_mount.hpp"

namespace strata::planner {

using frontend::Instruction;

namespace {

std::string bool_text(bool b) {
    return b ? "true" : "false";
}

// go-digest's Parse: "algorithm:hex" with the hex length of the algorithm.
bool is_valid_digest(std::string_view d) {
    const size_t colon = d.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view algo = d.substr(0, colon);
    const std::string_view hex = d.substr(colon + 1);
    size_t want = 0;
    if (algo == "sha256") want = 64;
    if (algo == "sha384") want = 96;
    if (algo == "sha512") want = 128;
    if (want == 0 || hex.size() != want) return false;
    return std::all_of(hex.begin(), hex.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string source_ref_field(const SourceRef& ref) {
    switch (ref.kind) {
        case SourceRef::Kind::kContext:
            return ref.context.empty() ? "context" : "context:" + ref.context;
        case SourceRef::Kind::kScratch:
            return "scratch";
        case SourceRef::Kind::kStage:
            return "stage";  // the stage's key is added by KeyComputer
        case SourceRef::Kind::kImage:
            return "image:" + ref.image + "@" + ref.image_digest;
    }
    return {};
}

std::string summarize_heredoc(std::string_view doc) {
    const auto first = doc.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = doc.find_last_not_of(" \t\r\n");
    const std::string_view trimmed = doc.substr(first, last - first + 1);
    const size_t nl = trimmed.find('\n');
    std::string summary(trimmed.substr(0, nl));
    if (!summary.empty() && summary.back() == '\r') summary.pop_back();
    if (nl != std::string_view::npos) summary += "...";
    return summary;
}

// "RUN |2 A=1 B=2 /bin/sh -c …": the declared ARGs with their values (the
// environment's value wins over the declared one), then the argv.
std::string run_command_string(const std::vector<std::string>& argv,
                               const std::vector<ArgDecl>& args, const EnvList& env) {
    std::vector<EnvVar> shown;
    for (const ArgDecl& a : args) {
        std::string v = env.get(a.name).value_or(a.value.value_or(""));
        auto it = std::find_if(shown.begin(), shown.end(),
                               [&](const EnvVar& e) { return e.first == a.name; });
        if (it != shown.end()) {
            it->second = std::move(v);
        } else {
            shown.emplace_back(a.name, std::move(v));
        }
    }
    std::vector<std::string> parts;
    if (!shown.empty()) parts.push_back(fmt::format("|{}", shown.size()));
    for (const auto& [k, v] : shown)
        parts.push_back(k + "=" + v);
    parts.insert(parts.end(), argv.begin(), argv.end());
    return fmt::format("{}", fmt::join(parts, " "));
}

std::vector<std::string> with_shell(const StageState& state, const std::string& command) {
    std::vector<std::string> out =
        state.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : state.shell;
    out.push_back(command);
    return out;
}

}  // namespace

void dispatch_copy(Step& step, StageState& state, DispatchContext& ctx, StepCounter& counter,
                   const EnvList& env) {
    const Instruction& ins = step.instruction;
    const auto& c = std::get<frontend::CopyCmd>(ins.command);
    step.kind = StepKind::kCopy;
    step.changes_filesystem = true;
    StepExpander ex(ctx, ins, env);
    CopyStep& out = step.copy;
    out.is_add = c.is_add;
    if (!c.from.empty()) out.from = ctx.resolve_from(c.from, ins, false);
    out.chown = ex.word(c.chown);
    out.chmod = ex.word(c.chmod);
    if (c.is_add) out.checksum = ex.word(c.checksum);
    for (const std::string& s : c.sources)
        out.sources.push_back(ex.word(s));
    for (const frontend::InlineSource& inl : c.inline_sources)
        out.inline_sources.push_back(
            {inl.name, inl.expand ? ex.raw(inl.content) : inl.content, 0644});
    out.dest = ex.word(c.dest);
    out.dest_path = copy_dest(state.workdir, out.dest);
    out.workdir = state.workdir.empty() ? "/" : state.workdir;
    out.link = c.link;
    out.parents = c.parents;
    out.keep_git_dir = c.keep_git_dir;
    out.unpack = c.unpack;
    out.excludes = c.excludes;

    if (!out.chmod.empty()) {
        if (std::string err = check_chmod(out.chmod); !err.empty())
            ctx.loc.fail_flag(ins, "chmod", err,
                              "write an octal mode such as 0755 or a symbolic one such as "
                              "u+x,go-w");
    }
    for (const std::string& s : out.sources) {
        if (!c.is_add && is_url_source(s)) ctx.loc.fail(ins, "source can't be a URL for COPY");
        if (!c.is_add && frontend::is_git_url(s))
            ctx.loc.fail(ins, "source can't be a Git URL for COPY", "use ADD for a Git source");
    }
    if (!out.checksum.empty()) {
        if (out.sources.size() != 1 || !out.inline_sources.empty()) {
            ctx.loc.fail_flag(ins, "checksum", "checksum can't be specified for multiple sources");
        }
        if (!is_url_source(out.sources[0]) && !frontend::is_git_url(out.sources[0])) {
            ctx.loc.fail_flag(ins, "checksum", "checksum requires HTTP(S) or Git sources");
        }
        const bool git = frontend::is_git_url(out.sources[0]);
        if (git && out.checksum.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
            ctx.loc.fail_flag(
                ins, "checksum",
                fmt::format("invalid checksum {} for Git URL, expected hex commit hash",
                            out.checksum));
        }
        if (!git && !is_valid_digest(out.checksum)) {
            ctx.loc.fail_flag(ins, "checksum",
                              fmt::format("invalid checksum digest format: {}", out.checksum),
                              "write --checksum=sha256:<64 hex digits>");
        }
    }

    std::string commit = c.is_add ? "ADD" : "COPY";
    if (out.parents) commit += " --parents";
    if (!out.chown.empty()) commit += " --chown=" + out.chown;
    if (!out.chmod.empty()) commit += " --chmod=" + out.chmod;
    for (const std::string& s : out.sources)
        commit += " " + s;
    for (const InlineFile& f : out.inline_sources)
        commit += " <<" + f.name;
    commit += " " + out.dest + " # buildkit";
    step.effect.history = ConfigEffect::History{commit, false};
    step.display = counter.next_prefix(step.from_onbuild) +
                   uppercase_command(ctx.expander.display(ins.original, env, false));

    add_field(step, "from", source_ref_field(out.from));
    for (const std::string& s : out.sources)
        add_field(step, "src", s);
    for (const InlineFile& f : out.inline_sources) {
        add_field(step, "inline-name", f.name);
        add_field(step, "inline-content", f.content);
    }
    add_field(step, "dest", out.dest_path);
    add_field(step, "chown", out.chown);
    add_field(step, "chmod", out.chmod);
    add_field(step, "link", bool_text(out.link));
    add_field(step, "parents", bool_text(out.parents));
    std::vector<std::string> excludes = out.excludes;  // a set: order does not matter
    std::sort(excludes.begin(), excludes.end());
    excludes.erase(std::unique(excludes.begin(), excludes.end()), excludes.end());
    for (const std::string& e : excludes)
        add_field(step, "exclude", e);
    if (c.is_add) {
        add_field(step, "checksum", out.checksum);
        add_field(step, "keep-git-dir", bool_text(out.keep_git_dir));
        if (out.unpack) add_field(step, "unpack", bool_text(*out.unpack));
    }
    ex.finish(step);
}

Step context_files_step(const std::string& name, const frontend::Instruction& from,
                        StageState& state, const DispatchContext& ctx) {
    Step step;
    step.instruction.keyword = "COPY";
    step.instruction.original = "COPY . /";
    step.instruction.range = from.range;
    frontend::CopyCmd copy;
    copy.sources = {"."};
    copy.dest = "/";
    copy.from = name;
    step.instruction.command = copy;
    DispatchContext own = ctx;
    own.resolve_from = [&name](const std::string&, const frontend::Instruction&, bool) {
        SourceRef ref;
        ref.context = name;
        return ref;
    };
    StepCounter counter;
    add_field(step, "op", "COPY");
    dispatch_copy(step, state, own, counter, state.env);
    step.display = fmt::format("[context {}] COPY . /", name);
    step.effect.history = ConfigEffect::History{"local source for context:" + name, false};
    return step;
}

void dispatch_run(Step& step, StageState& state, DispatchContext& ctx, StepCounter& counter,
                  const EnvList& env) {
    const Instruction& ins = step.instruction;
    const auto& r = std::get<frontend::RunCmd>(ins.command);
    step.kind = StepKind::kRun;
    step.changes_filesystem = true;
    StepExpander ex(ctx, ins, env);
    RunStep& out = step.run;

    size_t ssh_mounts = 0;
    for (const std::string& value : r.mounts) {
        MountSpec raw;
        MountSpec m;
        SecretMountInfo info;
        try {
            raw = parse_mount(value);  // from= is resolved unexpanded, as BuildKit does
            m = parse_mount(value, [&](const std::string& v) { return ex.word(v); });
            if (m.type == "secret" || m.type == "ssh")
                info = secret_mount_info(m, m.type == "ssh" ? ssh_mounts++ : 0);
        } catch (const MountError& e) {
            ctx.loc.fail_flag(ins, "mount", e.message);
        }
        RunMount rm;
        rm.type = m.type;
        rm.target = m.target;
        rm.source = m.source;
        rm.id = m.id;
        rm.read_only = m.read_only;
        rm.options = m.options;
        if (m.type == "secret" || m.type == "ssh") {
            rm.id = info.id;
            rm.target = info.target;
            rm.env = info.env;
            rm.required = info.required;
            rm.mode = info.mode;
            rm.uid = info.uid;
            rm.gid = info.gid;
            rm.read_only = true;  // BuildKit mounts both read-only, whatever rw says
        }
        if (m.type == "tmpfs" || m.type == "secret" || m.type == "ssh") {
            rm.from.kind = SourceRef::Kind::kScratch;
        } else if (!raw.from.empty()) {
            rm.from = ctx.resolve_from(raw.from, ins, true);
        } else if (m.type == "cache") {
            rm.from.kind = SourceRef::Kind::kScratch;
        }
        out.mounts.push_back(std::move(rm));
    }

    std::string display_suffix;
    std::vector<std::string> args = r.command.args;
    if (!ins.heredocs.empty()) {
        if (args.size() != 1 || !r.command.shell_form) {
            ctx.loc.fail(ins, "parsing produced an invalid run command");
        }
        const auto specs = frontend::heredocs_opened_by("RUN " + args[0], U'\\');
        const bool single = ins.heredocs.size() == 1 && specs.size() == 1 && specs[0].offset == 4 &&
                            specs[0].length == args[0].size();
        if (single) {
            const frontend::Heredoc& h = ins.heredocs[0];
            const std::string data =
                h.spec.chomp ? frontend::chomp_heredoc_content(h.content) : h.content;
            if (data.rfind("#!", 0) == 0) {
                // A script with a shebang: mounted as a file and executed.
                out.files.push_back({h.spec.name, data, 0755});
                args = {"/dev/pipes/" + h.spec.name};
            } else {
                args = {data};
            }
            display_suffix = " (" + summarize_heredoc(h.content) + ")";
        } else {
            std::string joined = args[0];
            for (const frontend::Heredoc& h : ins.heredocs)
                joined += "\n" + h.content + h.spec.name;
            args = {joined};
        }
    }
    if (r.command.shell_form) {
        std::string command;
        for (size_t i = 0; i < args.size(); ++i) {
            if (i > 0) command += ' ';
            command += args[i];
        }
        args = with_shell(state, command);
    }
    out.argv = args;
    out.env = state.env.vars();
    // As BuildKit's ExecOp: SSH_AUTH_SOCK names the first agent socket unless
    // the step's environment already has it.
    for (const RunMount& m : out.mounts) {
        if (m.type != "ssh") continue;
        const bool set = std::any_of(out.env.begin(), out.env.end(),
                                     [](const EnvVar& e) { return e.first == "SSH_AUTH_SOCK"; });
        if (!set) out.env.emplace_back("SSH_AUTH_SOCK", m.target);
        break;
    }
    // BuildKit appends its proxy variables after the step's env; a spelling the
    // step already has (a declared ARG or an ENV) keeps the step's value here.
    for (EnvVar& p : proxy_env_from_build_args(ctx.build_args)) {
        if (!state.env.has(p.first)) out.proxy_env.push_back(std::move(p));
    }
    // dockerui reads these two from the build args only, never from an ARG default.
    if (const auto h = ctx.build_args.find("BUILDKIT_SANDBOX_HOSTNAME"); h != ctx.build_args.end())
        out.hostname = h->second;
    if (const auto ns = ctx.build_args.find("BUILDKIT_CACHE_MOUNT_NS");
        ns != ctx.build_args.end() && !ns->second.empty()) {
        bool any = false;
        for (RunMount& m : out.mounts) {  // BuildKit's cache id: "<ns>/<id>"
            if (m.type != "cache") continue;
            m.id = ns->second + "/" + (m.id.empty() ? m.target : m.id);
            any = true;
        }
        if (any) add_field(step, "cache-namespace", ns->second);
    }
    out.user = state.user;
    out.workdir = state.workdir.empty() ? "/" : state.workdir;
    out.network = r.network.empty() ? ctx.default_network : r.network;
    out.security = r.security;

    step.effect.history = ConfigEffect::History{
        "RUN " + run_command_string(out.argv, state.args, state.env) + " # buildkit", false};
    step.display = counter.next_prefix(step.from_onbuild) +
                   uppercase_command(ctx.expander.display(ins.original, env, true)) +
                   display_suffix;

    for (size_t i = 0; i < out.argv.size(); ++i) {
        // The command string of the shell form: blanks the shell ignores do not count.
        const bool command =
            r.command.shell_form && ins.heredocs.empty() && i + 1 == out.argv.size();
        add_field(step, "argv", command ? normalize_shell_spacing(out.argv[i]) : out.argv[i]);
    }
    std::vector<EnvVar> sorted_env = out.env;  // the process sees a set, not a sequence
    std::sort(sorted_env.begin(), sorted_env.end());
    for (const auto& [k, v] : sorted_env)
        add_field(step, "env", k + "=" + v);
    add_field(step, "user", out.user);
    add_field(step, "cwd", out.workdir);
    add_field(step, "network", out.network);
    add_field(step, "security", out.security);
    if (!out.hostname.empty()) add_field(step, "hostname", out.hostname);
    for (const RunMount& m : out.mounts) {
        if (m.type == "secret" || m.type == "ssh") {
            // What BuildKit's LLB holds: the id and where and how it is
            // mounted, never the value (so a new value does not bust the
            // cache, as in BuildKit); defaults applied, so spelling out
            // target=/run/secrets/ID or mode=0400 keys the same.
            add_field(step, "mount",
                      fmt::format("type={},id={},target={},env={},required={},mode={:o},uid={},"
                                  "gid={}",
                                  m.type, m.id, m.target, m.env, bool_text(m.required), m.mode,
                                  m.uid, m.gid));
            continue;
        }
        std::string text = "from=" + source_ref_field(m.from);
        for (const auto& [k, v] : m.options) {  // std::map: sorted, so flag order never matters
            if (k != "from") text += "," + k + "=" + v;
        }
        text += ",readonly=" + bool_text(m.read_only);
        add_field(step, "mount", text);
    }
    for (const InlineFile& f : out.files)
        add_field(step, "file", fmt::format("{}:{:o}:{}", f.name, f.mode, f.content));
    // RUN's variables are in its env fields; the mount values' are noted too.
    ex.finish(step);
}

}  // namespace strata::planner
