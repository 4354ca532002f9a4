#include "sandbox/sandbox.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "base/container_entry.hpp"
#include "base/error.hpp"
#include "base/fd_passing.hpp"
#include "base/in_root.hpp"
#include "base/overlay_mount.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "base/zygote_protocol.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/chroot_isolation.hpp"
#include "sandbox/exec_target.hpp"
#include "sandbox/isolation_setup.hpp"
#include "sandbox/mount_stubs.hpp"
#include "sandbox/user_namespace.hpp"
#include "sandbox/zygote.hpp"

namespace strata::sandbox {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// init's fixed descriptors: 0-2 the process's stdio (by default /dev/null
// and the output pipe twice), 3 the status pipe, 4 the spec; the spec names
// the rest (5, 6, ...).
[[maybe_unused]] constexpr int kStatusFd = 3;  // placed by position in fd_sources below
constexpr int kSpecFd = zygote::kSpecFd;
constexpr int kFirstExtraFd = 5;

class OutputTail {
  public:
    void add(std::string line) {
        lines_.push_back(std::move(line));
        if (lines_.size() > Sandbox::kTailLines) lines_.pop_front();
    }
    std::string str() const {
        std::string s;
        for (const auto& l : lines_)
            s += l + "\n";
        return s;
    }

  private:
    std::deque<std::string> lines_;
};

struct Pipe {
    UniqueFd read, write;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error("pipe", "");
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
};

void read_output(int fd, const OutputSink& sink, OutputTail& tail) {
    std::string pending;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (n == 0) break;
        pending.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (sink) sink(line);
            tail.add(std::move(line));
        }
    }
    if (!pending.empty()) {
        if (sink) sink(pending);
        tail.add(pending);
    }
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

// An anonymous in-memory file holding `content`: how the spec, secrets and
// the seccomp program reach init without touching the disk.
UniqueFd memfd_with(const char* name, std::string_view content) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_create, name, MFD_CLOEXEC)));
    if (!fd) throw system_error("memfd_create", name);
    for (size_t off = 0; off < content.size();) {
        const ssize_t w = ::write(fd.get(), content.data() + off, content.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw system_error("write", name);
        off += static_cast<size_t>(w);
    }
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw system_error("lseek", name);
    return fd;
}

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

json lowers_json(const std::vector<fs::path>& lowest_first) {
    json a = json::array();
    for (auto it = lowest_first.rbegin(); it != lowest_first.rend(); ++it)
        a.push_back(it->string());
    return a;
}

// The descriptors init gets beyond 0-4, numbered from kFirstExtraFd in the
// order they are added.
class ExtraFds {
  public:
    // Closes strata's copies (after the clone: init has its own).
    void clear() { fds_.clear(); }
    int add(UniqueFd fd) {
        fds_.push_back(std::move(fd));
        return kFirstExtraFd + static_cast<int>(fds_.size()) - 1;
    }
    std::vector<int> sources() const {
        std::vector<int> s;
        for (const auto& f : fds_)
            s.push_back(f.get());
        return s;
    }

  private:
    std::vector<UniqueFd> fds_;
};

// What one mount becomes in init's spec.
json mount_json(const Mount& m, size_t index, const fs::path& scratch, json& overlays,
                ExtraFds& fds) {
    json j{{"target", m.target}};
    switch (m.kind) {
        case Mount::Kind::kTmpfs:
            j["type"] = "tmpfs";
            if (m.size_bytes) j["size"] = *m.size_bytes;
            if (m.tmpfs_mode) j["mode"] = *m.tmpfs_mode & 07777;
            return j;
        case Mount::Kind::kSecret:
            j["type"] = "secret";
            j["fd"] = fds.add(memfd_with("strata-secret", m.content));
            j["mode"] = m.mode;
            j["uid"] = m.uid;
            j["gid"] = m.gid;
            j["tmp"] = (scratch / fmt::format("secret-{}", index)).string();
            fs::create_directories(j["tmp"].get<std::string>());
            return j;
        case Mount::Kind::kSocket:
            j["type"] = "socket";
            j["source"] = m.socket.string();
            return j;
        case Mount::Kind::kBind:
            break;
    }
    j["type"] = "bind";
    // The root the source path is resolved in: a trusted host directory, or
    // the read-only overlay of a stage's layers that init mounts first.
    fs::path root;
    if (!m.source_root.empty()) {
        root = m.source_root;
    } else {
        root = scratch / fmt::format("mount-{}", index);
        fs::create_directories(root);
        if (!m.source_layers.empty())
            overlays.push_back(
                {{"lower", lowers_json(m.source_layers)}, {"target", root.string()}});
    }
    j["root"] = root.string();
    j["path"] = m.source_path;
    j["readonly"] = m.read_only;
    if (m.discard_writes) {
        const fs::path base = scratch / fmt::format("rw-{}", index);
        for (const char* d : {"upper", "work", "merged"})
            fs::create_directories(base / d);
        j["discard"] = {{"upper", (base / "upper").string()},
                        {"work", (base / "work").string()},
                        {"merged", (base / "merged").string()}};
    }
    return j;
}

// The process part of init's spec (run and exec alike).
void add_process_json(json& j, const Process& p) {
    j["env"] = p.env;
    j["argv"] = p.argv;
    j["user"] = p.user;
    j["cwd"] = p.cwd.empty() ? std::string("/") : p.cwd;
}

// Capabilities, seccomp, no_new_privs, privileged, rlimits (run and exec alike).
void add_isolation_json(json& j, const IsolationSetup& iso, const Isolation& isolation,
                        ExtraFds& extra) {
    json caps = json::array();
    for (const auto& c : iso.capabilities())
        if (auto n = capability_number(c)) caps.push_back(*n);
    j["caps"] = caps;
    if (!iso.seccomp_bpf().empty())
        j["seccomp_fd"] = extra.add(memfd_with("strata-seccomp", iso.seccomp_bpf()));
    j["no_new_privileges"] = isolation.no_new_privileges;
    j["privileged"] = isolation.privileged;
    j["rlimit_nofile"] = {kNofileSoft, kNofileHard};
    // In a user namespace (rootless): init binds device nodes, binds the
    // host's /sys, mounts overlays with `userxattr`.
    j["rootless"] = in_user_namespace();
}

// What the child of clone() needs, all prepared before: it runs on strata's
// memory (CLONE_VM) until it execs, and may only make system calls.
struct ChildArgs {
    const int* fd_sources;  // dup'ed to 0, 1, 2, 3, 4, 5, ...
    int fd_count;
    const int* cgroup_join_fds;
    int cgroup_join_count;
    int netns_fd;
    char* const* argv;
    char* const* envp;
    bool new_cgroup_ns = true;  // false: chroot isolation where it is refused
};

int child_main(void* p) {
    const auto* a = static_cast<const ChildArgs*>(p);
    if (!enter_container(a->fd_sources, a->fd_count, a->cgroup_join_fds, a->cgroup_join_count,
                         a->netns_fd, a->new_cgroup_ns))
        _exit(124);
    ::execve(a->argv[0], a->argv, a->envp);
    _exit(125);
}

}  // namespace

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

// A started process, from start() or exec() until wait() or the end of
// its SandboxProcess.
struct SandboxProcess::State {
    pid_t pid = -1;
    bool waited = false;
    mutable std::optional<uint64_t> start_time;
    std::string description;
    UniqueFd out_read;        // the line pipe, when stdout or stderr is the default
    UniqueFd pty;             // Stdio::tty: the master, until taken
    std::string status_text;  // what init wrote to the status pipe before the command ran
    // start() only: what wait() finishes.
    std::shared_ptr<TempDir> scratch;  // shared with other containers, or its own
    std::optional<IsolationSetup> iso;
    RootFs root;
    fs::path rootfs;
    bool chroot_mode = false;
    std::optional<TreeSnapshot> chroot_snapshot;
    std::vector<std::string> premade_stubs;  // make_etc_stubs: removed like init's

    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    // Not waited for: init is killed (in a container, the PID namespace goes
    // with it) and reaped; then the cgroup (iso) and the scratch go.
    ~State() {
        if (pid > 0 && !waited) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    }
};

SandboxProcess::SandboxProcess(std::unique_ptr<State> state) : s_(std::move(state)) {}

bool SandboxProcess::failed_to_start() const {
    // Status lines other than mount-point stubs are init's errors.
    const std::string& text = s_->status_text;
    for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        if (nl > pos && text.compare(pos, 6, "stub:/") != 0) return true;
        pos = nl + 1;
    }
    return false;
}
SandboxProcess::SandboxProcess(SandboxProcess&&) noexcept = default;
SandboxProcess& SandboxProcess::operator=(SandboxProcess&&) noexcept = default;
SandboxProcess::~SandboxProcess() = default;

pid_t SandboxProcess::pid() const {
    return s_ ? s_->pid : -1;
}

uint64_t SandboxProcess::start_time() const {
    // Read when first asked (not on a RUN step's path); the pid is ours
    // until wait() reaps it, so the answer is init's.
    if (s_ && !s_->start_time && !s_->waited) s_->start_time = process_start_time(s_->pid);
    return s_ && s_->start_time ? *s_->start_time : 0;
}

int SandboxProcess::pty_master() const {
    return s_ ? s_->pty.get() : -1;
}

UniqueFd SandboxProcess::take_pty_master() {
    return s_ ? std::move(s_->pty) : UniqueFd();
}

bool SandboxProcess::waited() const {
    return !s_ || s_->waited;
}

void SandboxProcess::signal(int sig) const {
    if (waited())
        throw Error(ErrorKind::kInternal, "signal " + std::to_string(sig) +
                                              ": the container's process has been waited for");
    if (::kill(s_->pid, sig) != 0)
        throw system_error("kill -" + std::to_string(sig), s_->description);
}

Result SandboxProcess::wait(const OutputSink& output, bool leave_cleanup) {
    if (waited())
        throw Error(ErrorKind::kInternal, "wait: the container's process has been waited for");
    State& s = *s_;
    OutputTail tail;
    if (s.out_read) {
        read_output(s.out_read.get(), output, tail);
        s.out_read.reset();
    }
    int wstatus = 0;
    while (::waitpid(s.pid, &wstatus, 0) < 0) {
        if (errno != EINTR) throw system_error("wait for", s.description);
    }
    s.waited = true;
    Result result;
    result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    result.output_tail = tail.str();
    if (result.exit_code == 124 && WIFEXITED(wstatus) && s.status_text.empty())
        result.setup_error = "could not join the container's cgroup or namespaces";
    // init's status lines: "stub:<path>" for each mount point file it made,
    // anything else is why it could not set the container up.
    const std::string& text = s.status_text;
    for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.rfind("stub:/", 0) == 0)
            result.stubs.push_back(clean_in_root(line.substr(5)));
        else if (!line.empty())
            result.setup_error += (result.setup_error.empty() ? "" : "\n") + line;
    }
    // With a PID namespace every process of the container is gone now (its
    // init's exit waits for them): the cgroup may go later. Chroot
    // isolation may have none, and its cgroup's kill must come first.
    if (s.iso) s.iso->finish(result, leave_cleanup && !s.chroot_mode);
    if (s.chroot_mode && result.exit_code == 0 && result.setup_error.empty()) {
        Spec spec;
        spec.root = s.root;
        finish_chroot_root(spec, s.rootfs, *s.chroot_snapshot);
    }
    result.stubs.insert(result.stubs.end(), s.premade_stubs.begin(), s.premade_stubs.end());
    if (!s.root.upper.empty()) remove_stubs(s.root.upper, result.stubs);
    if (s.scratch && leave_cleanup) result.leftovers.push_back(std::move(s.scratch));
    s.scratch.reset();
    return result;
}

namespace {

// The part of starting that run and exec share: the process's stdio, the
// terminal's socket, the status pipe and the spec, then the clone — by the
// zygote when one is given and still there. `j` gets the stdio keys;
// `extra` holds the descriptors the spec names.
void launch(SandboxProcess::State& st, const fs::path& init_binary, json& j, ExtraFds& extra,
            const Stdio& io, int clone_flags, int netns_fd, bool new_cgroup_ns,
            const std::vector<int>& cgroup_join, Zygote* zygote = nullptr) {
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) throw system_error("open", "/dev/null");
    std::optional<Pipe> out;
    if (!io.tty && (io.out < 0 || io.err < 0)) out.emplace();
    UniqueFd tty_socket;
    if (io.tty) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw system_error("socketpair (for the container's terminal)", st.description);
        tty_socket.reset(sv[0]);
        j["tty"] = {{"socket", extra.add(UniqueFd(sv[1]))}, {"rows", io.rows}, {"cols", io.cols}};
    }
    // The command's stdin is the container's own /dev/null (reopened by
    // init) unless the caller's is given.
    j["stdin_null"] = !io.tty && io.in < 0;
    j["new_session"] = io.custom();
    Pipe status;
    const UniqueFd spec_fd = memfd_with("strata-spec", j.dump());

    // Everything the child needs, ready before the clone: between clone and
    // exec it may only make system calls (other threads may hold locks).
    const std::string init = init_binary.string();
    const std::string spec_arg = std::to_string(kSpecFd);
    char* const argv[] = {const_cast<char*>(init.c_str()), const_cast<char*>(spec_arg.c_str()),
                          nullptr};
    char* const envp[] = {nullptr};
    const int line = out ? out->write.get() : null.get();
    std::vector<int> fd_sources = {
        io.tty || io.in < 0 ? null.get() : io.in,
        io.tty ? null.get() : (io.out >= 0 ? io.out : line),
        io.tty ? null.get() : (io.err >= 0 ? io.err : line),
        status.write.get(),
        spec_fd.get(),
    };
    for (int fd : extra.sources())
        fd_sources.push_back(fd);
    ChildArgs child{fd_sources.data(),
                    static_cast<int>(fd_sources.size()),
                    cgroup_join.data(),
                    static_cast<int>(cgroup_join.size()),
                    netns_fd,
                    argv,
                    envp,
                    new_cgroup_ns};
    pid_t pid = -1;
    if (zygote) {
        constexpr int kNamespaces =
            CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
        const Zygote::Spawned z = zygote->spawn(clone_flags & kNamespaces, fd_sources, cgroup_join,
                                                netns_fd, new_cgroup_ns);
        if (!z.unsent && z.pid < 0)
            throw system_error("clone (new namespaces) for", st.description, z.error);
        pid = z.pid;  // -1 when the zygote was gone: cloned here instead
    }
    if (pid < 0) {
        // vfork-style: the child shares strata's memory (no page tables to
        // copy) and this thread waits until it has exec'd.
        std::vector<char> stack(64 * 1024);
        pid = ::clone(child_main, stack.data() + stack.size(), clone_flags, &child);
        if (pid < 0) throw system_error("clone (new namespaces) for", st.description);
    }
    st.pid = pid;
    // init holds its own copies now: closing ours lets EOF say that init
    // (or the command) is done with each.
    if (out) out->write.reset();
    status.write.reset();
    extra.clear();
    if (tty_socket) st.pty = receive_fd(tty_socket.get());
    // The status pipe closes when the command execs (or init gives up):
    // the container runs from here on.
    st.status_text = read_all(status.read.get());
    if (out) st.out_read = std::move(out->read);
}

}  // namespace

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
