#include "sandbox/chroot_isolation.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "base/atomic_file.hpp"
#include "base/boot_id.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/address_lease.hpp"

namespace strata::sandbox {

namespace fs = std::filesystem;

std::optional<IsolationMode> parse_isolation_mode(std::string_view text) {
    if (text == "auto") return IsolationMode::kAuto;
    if (text == "sandbox") return IsolationMode::kSandbox;
    if (text == "chroot") return IsolationMode::kChroot;
    return std::nullopt;
}

namespace {

// Whether strata runs in a user namespace other than the initial one (then
// overlay's xattrs are user.overlay.*): the initial one maps every id.
bool in_a_user_namespace() {
    std::FILE* f = std::fopen("/proc/self/uid_map", "r");
    if (!f) return false;
    unsigned long inside = 0, outside = 0, count = 0;
    const int n = std::fscanf(f, "%lu %lu %lu", &inside, &outside, &count);
    std::fclose(f);
    return !(n == 3 && inside == 0 && outside == 0 && count == 4294967295UL);
}

// The probe's steps, in the order the child tries them; the child reports
// an errno (0 = it worked) for each.
enum Step : size_t {
    kMountNs,
    kPrivate,
    kOverlay,
    kTmpfs,
    kPidNs,
    kIpcNs,
    kUtsNs,
    kNetNs,
    kCgroupNs,
    kSteps
};
constexpr const char* kStepNames[kSteps] = {
    "unshare(CLONE_NEWNS)",  "mount --make-rprivate /", "mount overlay",
    "mount tmpfs",           "unshare(CLONE_NEWPID)",   "unshare(CLONE_NEWIPC)",
    "unshare(CLONE_NEWUTS)", "unshare(CLONE_NEWNET)",   "unshare(CLONE_NEWCGROUP)"};

}  // namespace

IsolationProbe probe_isolation(const fs::path& scratch_parent) {
    TempDir dir = TempDir::create(scratch_parent, "probe-");
    for (const char* d : {"lower", "upper", "work", "merged"})
        fs::create_directories(dir.path() / d);
    // Everything the child needs is made before the fork: it only makes
    // system calls (strata has threads).
    const std::string opts = "lowerdir=" + (dir.path() / "lower").string() +
                             ",upperdir=" + (dir.path() / "upper").string() +
                             ",workdir=" + (dir.path() / "work").string() +
                             (in_a_user_namespace() ? ",userxattr" : "");
    const std::string merged = (dir.path() / "merged").string();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error("pipe", "");
    UniqueFd rd(fds[0]), wr(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0) throw system_error("fork", "the isolation probe");
    if (pid == 0) {
        std::array<int, kSteps> err{};
        auto step = [&](Step s, bool ok) { err[s] = ok ? 0 : (errno ? errno : EPERM); };
        step(kMountNs, ::unshare(CLONE_NEWNS) == 0);
        if (err[kMountNs] == 0) {
            step(kPrivate, ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
            if (err[kPrivate] == 0) {
                step(kOverlay, ::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) == 0);
                if (err[kOverlay] == 0) ::umount2(merged.c_str(), MNT_DETACH);
                step(kTmpfs, ::mount("tmpfs", merged.c_str(), "tmpfs", 0, "size=64k") == 0);
            } else {
                err[kOverlay] = err[kTmpfs] = err[kPrivate];
            }
        } else {
            err[kPrivate] = err[kOverlay] = err[kTmpfs] = err[kMountNs];
        }
        step(kPidNs, ::unshare(CLONE_NEWPID) == 0);
        step(kIpcNs, ::unshare(CLONE_NEWIPC) == 0);
        step(kUtsNs, ::unshare(CLONE_NEWUTS) == 0);
        step(kNetNs, ::unshare(CLONE_NEWNET) == 0);
        step(kCgroupNs, ::unshare(CLONE_NEWCGROUP) == 0);
        const ssize_t w = ::write(wr.get(), err.data(), sizeof err);
        _exit(w == static_cast<ssize_t>(sizeof err) ? 0 : 1);
    }
    wr.reset();
    std::array<int, kSteps> err{};
    size_t got = 0;
    while (got < sizeof err) {
        const ssize_t n =
            ::read(rd.get(), reinterpret_cast<char*>(err.data()) + got, sizeof err - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    IsolationProbe p;
    if (got != sizeof err) {
        p.sandbox_refused = "the isolation probe did not report (killed?)";
        return p;
    }
    for (Step s : {kMountNs, kPrivate, kOverlay, kPidNs}) {
        if (err[s] != 0) {
            p.sandbox_refused = std::string(kStepNames[s]) + ": " + std::strerror(err[s]);
            break;
        }
    }
    p.allowed.mount_ns = err[kMountNs] == 0 && err[kPrivate] == 0 && err[kTmpfs] == 0;
    p.allowed.pid_ns = err[kPidNs] == 0;
    p.allowed.ipc_ns = err[kIpcNs] == 0;
    p.allowed.uts_ns = err[kUtsNs] == 0;
    p.allowed.net_ns = err[kNetNs] == 0;
    p.allowed.cgroup_ns = err[kCgroupNs] == 0;
    return p;
}

namespace {

std::string first_line(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

ino_t inode_of(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

// The effective capabilities (CapEff, hex) from /proc/self/status; "" when
// a seccomp filter is on (it could refuse what the probe tries, and differ
// between two processes that are otherwise alike) or when unreadable.
std::string capabilities_without_seccomp() {
    std::ifstream in("/proc/self/status");
    std::string caps, seccomp;
    auto value = [](const std::string& line, size_t from) {
        const size_t at = line.find_first_not_of(" \t", from);
        return at == std::string::npos ? std::string() : line.substr(at);
    };
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("CapEff:", 0) == 0) caps = value(line, 7);
        if (line.rfind("Seccomp:", 0) == 0) seccomp = value(line, 8);
    }
    return seccomp == "0" ? caps : "";
}

bool everything_allowed(const IsolationProbe& p) {
    const ChrootAllowed& a = p.allowed;
    return p.sandbox_ok() && a.mount_ns && a.pid_ns && a.ipc_ns && a.uts_ns && a.net_ns &&
           a.cgroup_ns;
}

}  // namespace

IsolationProbe probe_isolation_once_per_boot(const fs::path& scratch_parent,
                                             const fs::path& memo_dir) {
    const std::string& boot = boot_id();
    struct stat scratch {};
    const ino_t user_ns = inode_of("/proc/self/ns/user");
    const ino_t mnt_ns = inode_of("/proc/self/ns/mnt");
    const std::string caps = capabilities_without_seccomp();
    if (boot.empty() || caps.empty() || user_ns == 0 || mnt_ns == 0 ||
        ::stat(scratch_parent.c_str(), &scratch) != 0)
        return probe_isolation(scratch_parent);
    const fs::path memo = memo_dir / ("probe-" + std::to_string(::geteuid()) + "-" + caps + "-" +
                                      std::to_string(user_ns) + "-" + std::to_string(mnt_ns) + "-" +
                                      std::to_string(scratch.st_dev));
    if (first_line(memo) == boot) {
        IsolationProbe remembered;
        remembered.allowed = ChrootAllowed{true, true, true, true, true, true};
        return remembered;
    }
    IsolationProbe probe = probe_isolation(scratch_parent);
    if (everything_allowed(probe)) {
        try {
            make_private_dirs(memo_dir);
            write_file_atomic_unsynced(memo, boot + "\n", 0600);
        } catch (const std::exception&) {
            // Not writable here (rootless): the next build probes again.
        }
    }
    return probe;
}

std::string IsolationProbe::lost_isolation() const {
    std::string lost;
    auto add = [&](const std::string& s) { lost += (lost.empty() ? "" : "; ") + s; };
    if (!allowed.mount_ns)
        add("no mount namespace: no /proc, /sys, private /dev, /etc/hosts or /etc/resolv.conf in "
            "the step (the image's own files are used), and RUN --mount cannot be used");
    if (!allowed.pid_ns)
        add("no PID namespace: the step sees and can signal this host's processes");
    if (!allowed.ipc_ns) add("no IPC namespace: the step shares System V IPC with this host");
    if (!allowed.uts_ns) add("no UTS namespace: the hostname is this host's");
    if (!allowed.net_ns)
        add("no network namespace: the step uses this host's network (--network is ignored)");
    if (!allowed.cgroup_ns) add("no cgroup namespace");
    if (lost.empty()) lost = "only the root is a chroot instead of pivot_root";
    return "RUN steps use chroot isolation: " + sandbox_refused +
           " here, so the sandbox cannot be "
           "made (use --isolation=chroot to choose it, or run strata where namespaces and "
           "overlay mounts are allowed). Isolation lost: " +
           lost;
}

int chroot_clone_flags(const Isolation& iso) {
    int flags = 0;
    const ChrootAllowed& a = iso.chroot;
    if (a.mount_ns) flags |= CLONE_NEWNS;
    if (a.pid_ns) flags |= CLONE_NEWPID;
    if (a.ipc_ns) flags |= CLONE_NEWIPC;
    if (a.uts_ns) flags |= CLONE_NEWUTS;
    if (a.net_ns && iso.network == Network::kNone) flags |= CLONE_NEWNET;
    return flags;
}

namespace {

// Device nodes a command expects (as the sandbox's /dev has them).
struct Node {
    const char* name;
    unsigned maj, min;
};
constexpr Node kNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                           {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

void write_all(int fd, const std::string& content, const std::string& what) {
    for (size_t off = 0; off < content.size();) {
        const ssize_t w = ::write(fd, content.data() + off, content.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw system_error("write", what);
        off += static_cast<size_t>(w);
    }
}

}  // namespace

TreeSnapshot prepare_chroot_root(const Spec& spec, const fs::path& rootfs, CopyStats* stats) {
    TreeSnapshot snap = materialize_layers(spec.root.lower, rootfs, stats);
    if (spec.isolation.chroot.mount_ns) return snap;  // init mounts /dev and writes the files
    if (!spec.mounts.empty())
        throw Error(ErrorKind::kUsage,
                    spec.description +
                        ": RUN --mount needs mounts, which chroot isolation cannot "
                        "make here (no mount namespace)");
    // /dev is made as the sandbox makes it (it stays in the layer); what goes
    // in it is strata's and is left out of the diff, and /dev keeps its times.
    UniqueFd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root) throw system_error("open", rootfs.string());
    if (::mkdirat(root.get(), "dev", 0755) != 0 && errno != EEXIST)
        throw system_error("mkdir", (rootfs / "dev").string());
    UniqueFd dev(::openat(root.get(), "dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dev) return snap;  // /dev is a symlink or a file in the image: left alone
    struct stat before {};
    if (::fstat(dev.get(), &before) != 0) throw system_error("stat", (rootfs / "dev").string());
    for (const Node& n : kNodes) {
        if (::mknodat(dev.get(), n.name, S_IFCHR | 0666, makedev(n.maj, n.min)) == 0) {
            ::fchmodat(dev.get(), n.name, 0666, 0);
            snap.ignore.insert(std::string("dev/") + n.name);
        }
    }
    if (!spec.files.empty()) {
        if (::mkdirat(dev.get(), "pipes", 0755) == 0) snap.ignore.insert("dev/pipes");
        for (const auto& f : spec.files) {
            const std::string name = fs::path(f.path).filename().string();
            UniqueFd fd(::openat(dev.get(), ("pipes/" + name).c_str(),
                                 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, f.mode));
            if (!fd) throw system_error("create", (rootfs / "dev/pipes" / name).string());
            write_all(fd.get(), f.content, f.path);
            if (::fchmod(fd.get(), f.mode) != 0) throw system_error("chmod", f.path);
            snap.ignore.insert("dev/pipes/" + name);
        }
    }
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ::futimens(dev.get(), times);
    // The ctime of /dev just moved: wait again, so that `taken` stays after it.
    ::clock_gettime(CLOCK_REALTIME, &snap.taken);
    ::usleep(20000);
    return snap;
}

void finish_chroot_root(const Spec& spec, const fs::path& rootfs, const TreeSnapshot& snapshot) {
    if (spec.root.upper.empty()) return;
    diff_tree(spec.root.lower, rootfs, spec.root.upper, &snapshot,
              in_a_user_namespace() ? "user.overlay.opaque" : "trusted.overlay.opaque");
}

}  // namespace strata::sandbox
