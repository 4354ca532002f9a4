// Sandbox: a container's start (its scratch directory, init's spec, the
// root's overlay made beside init's start) and exec; the clone is
// launch.cpp's, the wait sandbox_process.cpp's.
#include "sandbox/sandbox.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "base/error.hpp"
#include "base/fd_passing.hpp"
#include "base/overlay_mount.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/chroot_isolation.hpp"
#include "sandbox/exec_target.hpp"
#include "sandbox/init_spec.hpp"
#include "sandbox/isolation_setup.hpp"
#include "sandbox/launch.hpp"
#include "sandbox/mount_stubs.hpp"
#include "sandbox/sandbox_process_state.hpp"
#include "sandbox/user_namespace.hpp"
#include "sandbox/zygote.hpp"

namespace strata::sandbox {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<fs::path> find_init() {
    if (const char* e = std::getenv("STRATA_INIT"); e && *e) return fs::path(e);
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return std::nullopt;
    for (const fs::path& p : {self.parent_path() / "strata-init",
                              self.parent_path() / "../libexec/strata/strata-init"}) {
        if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec);
    }
    return std::nullopt;
}

Result Sandbox::run(const Spec& spec, const OutputSink& output) const {
    SandboxProcess process = start(spec);
    return process.wait(output, /*leave_cleanup=*/true);
}

struct PreparedStart::State {
    // What it was made for.
    fs::path scratch_parent;
    Isolation isolation;
    std::string hosts, resolv_conf;
    // What it made, or found made.
    std::shared_ptr<TempDir> scratch;  // with rootfs/, hosts, resolv.conf
    std::optional<IsolationSetup> iso;

    bool fits(const Spec& spec) const {
        return scratch_parent == spec.scratch_parent && isolation == spec.isolation &&
               hosts == spec.process.hosts && resolv_conf == spec.process.resolv_conf;
    }
};

PreparedStart::PreparedStart() = default;
PreparedStart::PreparedStart(PreparedStart&&) noexcept = default;
PreparedStart& PreparedStart::operator=(PreparedStart&&) noexcept = default;
PreparedStart::~PreparedStart() = default;

namespace {

void write_scratch(const fs::path& path, const std::string& content) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw system_error("create", path.string());
    for (size_t off = 0; off < content.size();) {
        const ssize_t w = ::write(fd.get(), content.data() + off, content.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw system_error("write", path.string());
        off += static_cast<size_t>(w);
    }
}

// A scratch directory: rootfs/ (the root's mount point) and the files bound
// on /etc/hosts and /etc/resolv.conf.
std::shared_ptr<TempDir> make_scratch(const Spec& spec) {
    auto dir = std::make_shared<TempDir>(TempDir::create(spec.scratch_parent, "run-"));
    fs::create_directory(dir->path() / "rootfs");
    write_scratch(dir->path() / "hosts", spec.process.hosts);
    write_scratch(dir->path() / "resolv.conf", spec.process.resolv_conf);
    return dir;
}

}  // namespace

// Containers with the same hosts and resolv.conf share a scratch directory
// while any of them needs it: each mounts its root on rootfs/ in a mount
// namespace of its own, and binds the two files read-only. (A RUN step made
// and removed four entries in the store's tmp/ for it: ~0.2 ms of a
// step's CPU on this VM's ext4.) Whoever needs more of it has its own.
struct Sandbox::SharedScratch {
    std::mutex mu;
    std::map<std::tuple<fs::path, std::string, std::string>, std::weak_ptr<TempDir>> dirs;
};

Sandbox::Sandbox(fs::path init_binary)
    : init_(std::move(init_binary)), shared_(std::make_shared<SharedScratch>()) {}

std::shared_ptr<TempDir> Sandbox::shared_scratch(const Spec& spec) const {
    std::lock_guard lock(shared_->mu);
    auto& weak = shared_->dirs[{spec.scratch_parent, spec.process.hosts, spec.process.resolv_conf}];
    std::shared_ptr<TempDir> dir = weak.lock();
    if (!dir) {
        dir = make_scratch(spec);
        weak = dir;
    }
    return dir;
}

PreparedStart Sandbox::prepare(const Spec& spec) const {
    auto pre = std::make_unique<PreparedStart::State>();
    pre->scratch_parent = spec.scratch_parent;
    pre->isolation = spec.isolation;
    pre->hosts = spec.process.hosts;
    pre->resolv_conf = spec.process.resolv_conf;
    pre->scratch = shared_scratch(spec);
    // Capabilities, seccomp, cgroups, limits: isolation_setup.cpp.
    pre->iso.emplace(IsolationSetup::prepare(spec.isolation, spec.description));
    PreparedStart ready;
    ready.s_ = std::move(pre);
    return ready;
}

SandboxProcess Sandbox::start(const Spec& spec, const Stdio& io, PreparedStart ready) const {
    if (!ready || !ready.s_->fits(spec)) ready = prepare(spec);
    PreparedStart::State& pre = *ready.s_;
    auto st = std::make_unique<SandboxProcess::State>();
    st->description = spec.description;
    st->root = spec.root;
    // Chroot isolation: the root is a private copy of the layers
    // (chroot_isolation.hpp), diffed into the upper directory afterwards.
    st->chroot_mode = spec.isolation.mode == IsolationMode::kChroot;
    const bool chroot_mode = st->chroot_mode;
    // The shared scratch directory holds a root's mount point and the two
    // files; mounts, a root without lower layers or without an upper
    // directory (empty-N, ro-upper) and chroot isolation's copy make entries
    // of their own in it.
    const bool own_scratch =
        chroot_mode || !spec.mounts.empty() || spec.root.upper.empty() || spec.root.lower.empty();
    st->scratch = own_scratch ? make_scratch(spec) : std::move(pre.scratch);
    const fs::path scratch = st->scratch->path();
    st->rootfs = scratch / "rootfs";
    const fs::path& rootfs = st->rootfs;
    ExtraFds extra;
    if (chroot_mode) st->chroot_snapshot = prepare_chroot_root(spec, rootfs);

    json j;
    j["rootfs"] = rootfs.string();
    std::vector<fs::path> lower = spec.root.lower;
    if (!lower.empty()) j["layers_dir"] = spec.root.lower.front().parent_path().string();
    // overlayfs mounts a root without an upper directory only from two
    // lower directories or more ("at least 2 lowerdir are needed while
    // upperdir nonexistent"): empty ones go below.
    const bool throwaway_upper = spec.root.upper.empty() && spec.root.read_only && !chroot_mode;
    const size_t min_lower = spec.root.upper.empty() && !throwaway_upper ? 2 : 1;
    while (lower.size() < min_lower) {
        lower.insert(lower.begin(), scratch / fmt::format("empty-{}", lower.size()));
        fs::create_directories(lower.front());
    }
    j["lower"] = lowers_json(lower);
    if (!spec.root.upper.empty()) {
        j["upper"] = spec.root.upper.string();
        j["work"] = spec.root.work.string();
        j["volatile"] = spec.root.scratch_upper;
    } else if (throwaway_upper) {
        // Mount points the image lacks go to a throwaway upper directory.
        for (const char* d : {"ro-upper", "ro-work"})
            fs::create_directories(scratch / d);
        j["upper"] = (scratch / "ro-upper").string();
        j["work"] = (scratch / "ro-work").string();
        j["volatile"] = true;
    }
    j["read_only_root"] = spec.root.read_only;
    // The root's overlay is made on another thread while init starts, and
    // sent to it as a detached mount (init mounts its own where the kernel
    // refuses the new mount API here, or when this thread fails).
    std::jthread root_maker;
    if (!chroot_mode) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw system_error("socketpair (for the container's root)", spec.description);
        j["root_mount_socket"] = extra.add(UniqueFd(sv[1]));
        OverlaySpec o;
        for (auto it = lower.rbegin(); it != lower.rend(); ++it)
            o.lowers.push_back(it->string());
        o.upper = j.value("upper", std::string());
        o.work = j.value("work", std::string());
        o.userxattr = in_user_namespace();
        o.scratch_upper = j.value("volatile", false);
        // A RUN step's /etc/hosts and /etc/resolv.conf mount points are made
        // first in its empty upper directory when the layers surely lack
        // them: cheaper than init's copy-up of /etc through the overlay
        // (mount_stubs.hpp). The thread is joined before `st` is used.
        const bool stubs = spec.root.scratch_upper && !spec.root.upper.empty();
        root_maker = std::jthread([sock = UniqueFd(sv[0]), o = std::move(o),
                                   lower = stubs ? spec.root.lower : std::vector<fs::path>{},
                                   made_stubs = &st->premade_stubs] {
            if (!lower.empty()) *made_stubs = make_etc_stubs(lower, o.upper);
            UniqueFd made(make_detached_overlay(o));
            send_fd(sock.get(), made.get());  // no reader (init gone): nothing to do
        });
    }

    j["hosts"] = (scratch / "hosts").string();
    j["resolv"] = (scratch / "resolv.conf").string();
    j["hostname"] = spec.process.hostname;
    switch (spec.isolation.network) {
        case Network::kHost:
            j["network"] = "host";
            break;
        case Network::kNone:
            j["network"] = "none";
            break;
        case Network::kPrivate:
            j["network"] = "private";
            break;
    }

    json overlays = json::array(), mounts = json::array();
    for (size_t i = 0; i < spec.mounts.size(); ++i)
        mounts.push_back(mount_json(spec.mounts[i], i, scratch, overlays, extra));
    j["overlays"] = overlays;
    j["mounts"] = mounts;
    json files = json::array();
    for (const auto& f : spec.files)
        files.push_back({{"path", f.path}, {"content", f.content}, {"mode", f.mode}});
    j["files"] = files;
    add_process_json(j, spec.process);

    st->iso = std::move(pre.iso);
    const IsolationSetup& iso = *st->iso;
    add_isolation_json(j, iso, spec.isolation, extra);
    if (chroot_mode) {
        const ChrootAllowed& a = spec.isolation.chroot;
        j["chroot"] = {{"mounts", a.mount_ns},
                       {"pid", a.pid_ns},
                       {"uts", a.uts_ns},
                       {"net", a.net_ns && spec.isolation.network == Network::kNone}};
    }

    int flags =
        CLONE_VM | CLONE_VFORK | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
    if (spec.isolation.network == Network::kNone) flags |= CLONE_NEWNET;
    if (chroot_mode) flags = CLONE_VM | CLONE_VFORK | SIGCHLD | chroot_clone_flags(spec.isolation);
    // A RUN step's container (a scratch upper, no terminal) is started by
    // the zygote (zygote.hpp); `strata run`'s keep the thread-bound life.
    Zygote* zygote = spec.root.scratch_upper && !io.tty ? zygote_for(spec) : nullptr;
    launch(*st, init_, j, extra, io, flags,
           spec.isolation.network == Network::kPrivate ? spec.isolation.netns_fd : -1,
           !chroot_mode || spec.isolation.chroot.cgroup_ns, iso.cgroup_join_fds(), zygote);
    return SandboxProcess(std::move(st));
}

Zygote* Sandbox::zygote_for(const Spec& spec) const {
    return spec.isolation.mode == IsolationMode::kChroot ? nullptr : Zygote::of(init_);
}

void Sandbox::warm_up(const Spec& spec) const {
    zygote_for(spec);
}

SandboxProcess Sandbox::exec(const ExecSpec& spec, const Stdio& io) const {
    ExecTarget target = open_exec_target(spec.pid, spec.pid_start);
    auto st = std::make_unique<SandboxProcess::State>();
    st->description = spec.description;
    ExtraFds extra;
    json j;
    j["exec"] = {{"pidfd", extra.add(std::move(target.pidfd))},
                 {"root", extra.add(std::move(target.root))}};
    add_process_json(j, spec.process);
    // The container's capabilities and seccomp profile; its cgroups are
    // joined, not made.
    Isolation isolation = spec.isolation;
    isolation.cgroups = false;
    const IsolationSetup& iso =
        st->iso.emplace(IsolationSetup::prepare(isolation, spec.description));
    add_isolation_json(j, iso, spec.isolation, extra);
    const std::vector<int> join = target.cgroup_join_fds();
    launch(*st, init_, j, extra, io, CLONE_VM | CLONE_VFORK | SIGCHLD, -1, false, join);
    return SandboxProcess(std::move(st));
}

}  // namespace strata::sandbox
