#include "executor/run/container_runner.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include "base/error.hpp"
#include "base/go/units.hpp"
#include "executor/copy/copy.hpp"
#include "planner/run_mount.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/chroot_isolation.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/user_namespace.hpp"

namespace strata::executor {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHostname = "buildkitsandbox";

std::string quoted_argv(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv)
        s += (s.empty() ? "" : " ") + a;
    return s;
}

// /etc/resolv.conf for the container: the host's, as BuildKit passes it.
std::string resolv_conf() {
    std::ifstream in("/etc/resolv.conf");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.empty() ? std::string("nameserver 127.0.0.1\n") : text;
}

// A cache mount's directory, made on first use with its uid/gid/mode.
void prepare_cache_dir(const planner::RunMount& m, const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir, ec)) return;
    fs::create_directories(dir, ec);
    if (ec) throw system_error("create cache mount directory", dir.string(), ec.value());
    auto opt = [&](const char* k, uint32_t def) {
        auto it = m.options.find(k);
        if (it == m.options.end()) return def;
        auto v = parse_id(it->second);
        return v ? *v : def;
    };
    uint32_t mode = 0755;
    if (auto it = m.options.find("mode"); it != m.options.end())
        mode = static_cast<uint32_t>(std::strtoul(it->second.c_str(), nullptr, 8));
    if (::chown(dir.c_str(), opt("uid", 0), opt("gid", 0)) != 0 || ::chmod(dir.c_str(), mode) != 0)
        throw system_error("prepare cache mount directory", dir.string());
}

// What `--mount` becomes in the sandbox's spec. Paths from the Dockerfile
// (source=, target=) are passed as they are: the sandbox resolves them
// inside their roots.
void add_mount(const ResolvedMount& rm, sandbox::Spec& spec) {
    const planner::RunMount& m = rm.mount;
    sandbox::Mount out;
    out.target = m.target;
    if (m.type == "tmpfs") {
        out.kind = sandbox::Mount::Kind::kTmpfs;
        if (auto it = m.options.find("size"); it != m.options.end())
            out.size_bytes = go::units::ram_in_bytes(it->second);  // "64m", as BuildKit
    } else if (m.type == "secret") {
        if (!rm.present) return;
        if (!m.env.empty()) spec.process.env.push_back(m.env + "=" + rm.secret);
        if (m.target.empty()) return;  // env= only: no file
        out.kind = sandbox::Mount::Kind::kSecret;
        out.content = rm.secret;
        out.mode = m.mode;
        out.uid = m.uid;
        out.gid = m.gid;
    } else if (m.type == "ssh") {
        if (!rm.present) return;
        out.kind = sandbox::Mount::Kind::kSocket;
        out.socket = rm.ssh_socket;
    } else if (m.type == "cache") {
        const fs::path dir = rm.sources.at(0);
        prepare_cache_dir(m, dir);
        out.source_root = dir;
        // source= shows that part of the cache, resolved inside it, and a
        // missing one fails the step (BuildKit's selector on the cache); a
        // cache seeded from= holds that part only (cache_dir_from).
        if (m.from.kind == planner::SourceRef::Kind::kScratch) out.source_path = m.source;
        out.read_only = false;
    } else {
        // bind: the context (one directory) or a stage's layers, merged by a
        // read-only overlay.
        if (rm.sources.size() == 1)
            out.source_root = rm.sources[0];
        else
            out.source_layers = rm.sources;  // empty: FROM scratch, an empty directory
        out.source_path = rm.subpath;
        // A writable bind: writes land in a throwaway overlay, never in the
        // context or the stage (BuildKit discards them too).
        out.read_only = m.read_only;
        out.discard_writes = !m.read_only;
    }
    spec.mounts.push_back(std::move(out));
}

}  // namespace

std::string run_failure_message(const std::vector<std::string>& argv, int exit_code) {
    return fmt::format("process \"{}\" did not complete successfully: exit code: {}",
                       quoted_argv(argv), exit_code);
}

ContainerRunner::ContainerRunner(fs::path init_binary, RunnerOptions options)
    : sandbox_(std::move(init_binary)), options_(std::move(options)) {}

ContainerRunner::~ContainerRunner() = default;

std::string ContainerRunner::unavailable_reason(const std::optional<fs::path>& init) {
    // Rootless strata runs as root of a user namespace of its own (the
    // strata command enters it at startup: src/cli/rootless.hpp).
    if (::geteuid() != 0)
        return "RUN steps need root, or root of a user namespace: run them through the strata "
               "command, which enters one when started by another user (docs/run.md, "
               "\"Rootless\")";
    if (sandbox::in_user_namespace()) {
        if (std::string why = sandbox::user_namespace_unsupported_reason(); !why.empty())
            return why;
    }
    if (!init)
        return "RUN steps need strata-init, which was not found next to the strata binary "
               "(set STRATA_INIT to its path)";
    return {};
}

namespace {

class UnavailableRunner final : public RunExecutor {
  public:
    explicit UnavailableRunner(std::string why) : why_(std::move(why)) {}
    void run(const RunRequest&) override { throw Error(ErrorKind::kUsage, why_); }

  private:
    std::string why_;
};

}  // namespace

std::unique_ptr<RunExecutor> make_run_executor(RunnerOptions options) {
    const auto init = sandbox::find_init();
    const std::string why = ContainerRunner::unavailable_reason(init);
    if (!why.empty()) return std::make_unique<UnavailableRunner>(why);
    return std::make_unique<ContainerRunner>(*init, std::move(options));
}

sandbox::Network ContainerRunner::network_for(const planner::RunStep& step) {
    std::string network =
        step.network.empty() || step.network == "default" ? options_.network : step.network;
    if (network.empty() || network == "default") return sandbox::Network::kPrivate;
    if (network == "host") return sandbox::Network::kHost;
    if (network == "none") return sandbox::Network::kNone;
    throw Error(ErrorKind::kUsage, "RUN --network=" + network + " is not supported");
}

const sandbox::PrivateNetwork& ContainerRunner::private_network() {
    std::lock_guard lock(network_mutex_);
    if (!network_) network_.emplace(sandbox::PrivateNetwork::start());
    return *network_;
}

sandbox::Isolation ContainerRunner::isolation_for_build(const fs::path& scratch) {
    std::lock_guard lock(isolation_mutex_);
    if (isolation_) return *isolation_;
    sandbox::Isolation iso;
    iso.mode = sandbox::IsolationMode::kSandbox;
    if (options_.isolation != sandbox::IsolationMode::kSandbox) {
        const sandbox::IsolationProbe probe = sandbox::probe_isolation_once_per_boot(scratch);
        if (options_.isolation == sandbox::IsolationMode::kChroot || !probe.sandbox_ok()) {
            iso.mode = sandbox::IsolationMode::kChroot;
            iso.chroot = probe.allowed;
            if (options_.isolation == sandbox::IsolationMode::kAuto)
                isolation_warning_ = probe.lost_isolation();
        }
    } else {
        // Asked for explicitly: refused here is an error that says why.
        const sandbox::IsolationProbe probe = sandbox::probe_isolation_once_per_boot(scratch);
        if (!probe.sandbox_ok())
            throw Error(ErrorKind::kUsage,
                        "--isolation=sandbox: the RUN sandbox cannot be made here (" +
                            probe.sandbox_refused +
                            "; namespaces or overlay mounts are refused, as in an unprivileged "
                            "container): use --isolation=chroot or --isolation=auto");
    }
    isolation_ = iso;
    return iso;
}

std::string ContainerRunner::take_isolation_warning() {
    std::lock_guard lock(isolation_mutex_);
    return std::exchange(isolation_warning_, std::string());
}

sandbox::Spec ContainerRunner::start_spec(const planner::RunStep& step,
                                          const fs::path& scratch_parent) {
    sandbox::Spec spec;
    spec.scratch_parent = scratch_parent;
    const sandbox::Isolation chosen = isolation_for_build(spec.scratch_parent);
    spec.isolation.mode = chosen.mode;
    spec.isolation.chroot = chosen.chroot;
    spec.isolation.network = network_for(step);
    // Chroot isolation without a network namespace: the host's network.
    if (chosen.mode == sandbox::IsolationMode::kChroot && !chosen.chroot.net_ns)
        spec.isolation.network = sandbox::Network::kHost;
    spec.isolation.limits = options_.limits;
    sandbox::Process& p = spec.process;
    p.hostname = step.hostname.empty() ? std::string(kHostname) : step.hostname;
    p.hosts = fmt::format("127.0.0.1\tlocalhost {}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                          p.hostname);
    if (spec.isolation.network == sandbox::Network::kPrivate) {
        const sandbox::PrivateNetwork& net = private_network();
        spec.isolation.netns_fd = net.netns_fd();
        p.resolv_conf = net.resolv_conf();
    } else {
        p.resolv_conf = resolv_conf();
    }
    return spec;
}

void ContainerRunner::warm_up(const planner::RunStep& step, const fs::path& scratch_parent) {
    try {
        if (step.security == "insecure") return;
        // Claimed here, so that the first step's cgroup (made below, or by
        // the step) never runs the sweep itself while the pool has not yet
        // taken it up.
        if (sandbox::claim_stale_cgroups_sweep())
            sweep_.submit([] { sandbox::remove_stale_cgroups(); });
        const sandbox::Spec spec = start_spec(step, scratch_parent);
        sandbox_.warm_up(spec);
        {
            std::lock_guard lock(prepared_mutex_);
            if (prepared_) return;  // made already, by the step before
        }
        prepare_next(spec);
    } catch (const std::exception&) {
        // Made again, and reported, when the step runs.
    }
}

sandbox::PreparedStart ContainerRunner::take_prepared() {
    std::lock_guard lock(prepared_mutex_);
    return std::move(prepared_);
}

// While a step's command runs: what the next step's start needs, made with
// this step's settings (a next step with others drops it). A failure here
// comes again, and is reported, at that start.
void ContainerRunner::prepare_next(const sandbox::Spec& spec) {
    try {
        sandbox::PreparedStart next = sandbox_.prepare(spec);
        std::lock_guard lock(prepared_mutex_);
        prepared_ = std::move(next);
    } catch (const std::exception&) {
    }
}

void ContainerRunner::run(const RunRequest& r) {
    const planner::RunStep& step = *r.step;
    if (step.security == "insecure")
        throw Error(ErrorKind::kUsage, "RUN --security=insecure is not supported");

    sandbox::Spec spec = start_spec(step, r.upper_dir.parent_path());
    if (const std::string w = take_isolation_warning(); !w.empty() && r.output)
        r.output("warning: " + w);
    spec.description = r.description;
    spec.root.lower = r.lower_layers;
    spec.root.upper = r.upper_dir;
    spec.root.work = r.work_dir;
    spec.root.scratch_upper = true;  // the layer is made durable as its blob

    sandbox::Process& p = spec.process;
    p.argv = step.argv;
    for (const auto& [k, v] : step.env)
        p.env.push_back(k + "=" + v);
    for (const auto& [k, v] : step.proxy_env)
        p.env.push_back(k + "=" + v);
    p.user = step.user;  // resolved by init in the container's /etc/passwd
    p.cwd = step.workdir.empty() ? std::string("/") : step.workdir;
    for (const auto& f : step.files)
        spec.files.push_back({"/dev/pipes/" + f.name, f.content, f.mode});
    for (const auto& m : r.mounts)
        add_mount(m, spec);

    sandbox::SandboxProcess process = sandbox_.start(spec, {}, take_prepared());
    if (r.run_follows) prepare_next(spec);
    sandbox::Result res = process.wait(r.output, /*leave_cleanup=*/true);
    // A failed step ends the build: nothing prepared is left behind.
    if (res.exit_code != 0 || !res.setup_error.empty()) take_prepared();
    if (!res.warning.empty() && r.output) r.output("warning: " + res.warning);
    if (!res.setup_error.empty()) {
        if (res.exit_code == 126 || res.exit_code == 127)
            throw RunFailed(fmt::format("{}: {}", run_failure_message(step.argv, res.exit_code),
                                        res.setup_error),
                            res.exit_code, res.output_tail);
        throw Error(ErrorKind::kSystem,
                    "the RUN container could not be set up: " + res.setup_error);
    }
    if (res.exit_code != 0) {
        std::string why = run_failure_message(step.argv, res.exit_code);
        if (res.oom_killed)
            why += fmt::format(
                " (out of memory: the step's memory limit of {} bytes was reached; "
                "raise it with --memory)",
                options_.limits.memory_bytes.value_or(0));
        else if (res.pids_limit_hit)
            why +=
                " (the step's pids limit was reached: a process could not be started; raise "
                "it with --pids-limit)";
        throw RunFailed(why, res.exit_code, res.output_tail);
    }
    if (r.leftovers)
        for (auto& l : res.leftovers)
            r.leftovers->push_back(std::move(l));
}

}  // namespace strata::executor
