// strata-init — PID 1 of a container (a RUN step, `strata run`), and the
// process that enters a running one (`strata exec`).
//
// strata's sandbox (src/sandbox/) starts this program as the first process of
// fresh mount, PID, IPC, UTS and cgroup namespaces (and a network namespace
// unless the host's is used), inside the container's cgroup, with the
// descriptor of a JSON spec (a memfd) as its only argument. It
//
//   1. mounts the container: the overlay of the layers on the rootfs mount
//      point (upper = the directory that becomes the step's layer), /proc, a
//      small /dev (null, zero, full, random, urandom, tty, pts, shm, mqueue),
//      /sys read-only, /etc/hosts and /etc/resolv.conf read-only, the
//      mounts (bind sources resolved inside their own roots, never on the
//      host), secrets from memfds on a tmpfs, heredoc scripts under
//      /dev/pipes;
//   2. pivots into it and detaches the old root, masks and makes read-only
//      the /proc and /sys paths Docker does;
//   3. forks the command as the user (groups, uid, gid) with Docker's
//      capabilities in all five sets, Docker's seccomp profile, Docker's
//      RLIMIT_NOFILE, no descriptor of strata's but 0-2, the environment,
//      in its working directory (made when missing), stdin /dev/null or
//      the caller's 0-2, or a pseudo-terminal made here (below);
//   4. forwards every signal it can catch to it (all but SIGKILL, SIGSTOP,
//      SIGCHLD and the ones a fault raises), reaps every orphan, and exits
//      with the command's status (128 + the signal when it was killed).
//      Leaving PID 1 ends the namespace: the kernel kills whatever is left,
//      and the mounts go with the last process.
//
// Privileged ("privileged"): all capabilities, no seccomp, the host's device
// nodes made in /dev, /sys read-write, nothing masked. A read-only root
// ("read_only_root") is remounted read-only once everything is mounted.
//
// A terminal ("tty"): after the mounts, the master of a new pseudo-terminal
// is opened on the container's own devpts (/dev/pts/ptmx), its window size
// set, and the master sent to strata over the socket the spec names
// (SCM_RIGHTS, runc's --console-socket design); the command's child makes
// the slave its controlling terminal (setsid, TIOCSCTTY) and its 0, 1, 2.
//
// Exec mode ("exec"): no new namespaces; this process joins those of a
// running container through a pidfd (setns), enters its root (fchdir +
// chroot on /proc/PID/root, opened by strata), forks the command into its
// PID namespace and runs it exactly as above (user from the container's
// /etc/passwd, capabilities, seccomp, rlimits, cwd, environment), then
// forwards signals and exits with its status. The command gets SIGKILL when
// this process dies (it lives as long as the `strata exec` that made it).
//
// Zygote mode (`strata-init --zygote`): started once by strata for the RUN
// steps of a build, this process clones itself into each new container on
// request (init_zygote.cpp) and the clone goes on as above from its spec:
// a container's init without an exec and a C runtime start of its own.
//
// Setup errors are written to fd 3 (when open) as one line naming the
// operation and the path, and the exit status is 125; "command not found"
// is 127, "not executable" 126, as a shell would say.
//
// A separate, statically linked program with no dependency on the rest of
// strata: it runs after pivot_root, where nothing of the host is visible.
// This file is its order of work; the parts are declared in init.hpp:
// init_base (errors, files), init_mounts (1, 2), init_user and
// init_process (3), init_terminal, init_modes (exec, chroot isolation).
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/fd_passing.hpp"
#include "base/zygote_protocol.hpp"
#include "init.hpp"

namespace {

using namespace strata::init;

pid_t g_child = -1;

void forward(int sig) {
    if (g_child > 0) ::kill(g_child, sig);
}

// Signals init does not forward: those it cannot catch, SIGCHLD (its own
// business: reaping), and those a fault of init's own raises (forwarding and
// returning would fault again), as tini leaves them.
bool forwarded(int sig) {
    switch (sig) {
        case SIGKILL:
        case SIGSTOP:
        case SIGCHLD:
        case SIGSEGV:
        case SIGBUS:
        case SIGILL:
        case SIGFPE:
        case SIGTRAP:
        case SIGSYS:
            return false;
        default:
            return true;
    }
}

// In the command's process: the default signal dispositions (those
// strata's caller set to "ignore" survive exec: `yes | head` must see
// SIGPIPE), and stdin from the container's /dev/null unless it is given.
void default_dispositions() {
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
}
void stdin_from_dev_null(const json& spec) {
    if (!spec.value("stdin_null", true)) return;
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, 0);
}

// The command's process forked before the container is mounted (see
// main), waiting on `go_fd`'s pipe for its user; signals stay blocked in
// both until then.
struct EarlyChild {
    pid_t pid = -1;
    int go_fd = -1;
    sigset_t old_mask{};
};

EarlyChild fork_early_child(const json& spec) {
    EarlyChild e;
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) die("pipe");
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    // What init and the command unblock to: nothing blocked, whatever the
    // thread that started init had blocked (as a command under Docker).
    sigemptyset(&e.old_mask);
    e.pid = ::fork();
    if (e.pid < 0) die("fork");
    if (e.pid > 0) {
        ::close(go[0]);
        e.go_fd = go[1];
        return e;
    }
    ::close(go[1]);
    default_dispositions();
    try {
        const uint64_t keep = restrict_child(spec);
        User user;
        // Nothing comes when init could not set the container up (it says
        // why, and its exit ends this process anyway).
        if (!receive_user(go[0], user)) _exit(125);
        ::close(go[0]);
        ::sigprocmask(SIG_SETMASK, &e.old_mask, nullptr);
        stdin_from_dev_null(spec);
        exec_child(spec, user, keep);
    } catch (const std::exception& ex) {
        die(std::string("bad spec: ") + ex.what(), 0);
    }
}

}  // namespace

// The container's init, from its spec on `fd` to the command's status.
int run_init(int fd) {
    using namespace strata::init;
    struct stat st {};
    if (::fstat(g_status_fd, &st) != 0)
        g_status_fd = 2;
    else
        ::fcntl(g_status_fd, F_SETFD, FD_CLOEXEC);  // closed when the command execs
    json spec;
    {
        // A memfd: secrets and the environment never touch a disk.
        std::string text;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) die("read the spec");
            if (n == 0) break;
            text.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        try {
            spec = json::parse(text);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    }
    g_privileged = spec.value("privileged", false);
    EarlyChild early;
    // A session of its own (strata run/exec): the caller's terminal signals
    // strata, which forwards, not the container behind its back.
    if (spec.value("new_session", false) && ::setsid() < 0) die("setsid");
    if (spec.contains("exec")) {
        try {
            g_rootless = spec.value("rootless", false);
            setup_exec(spec);
            apply_rlimit_nofile(spec);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    } else if (spec.contains("chroot")) {
        try {
            setup_chroot(spec);  // chroot isolation: no overlay
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    } else {
        g_rootless = spec.value("rootless", false);
        try {
            apply_rlimit_nofile(spec);  // inherited by the command's process
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
        // Without a terminal to make first, the command's process is forked
        // now: it loads the seccomp filter (which the kernel converts and
        // compiles, ~0.3 ms) and drops its bounding set on another core
        // while this process mounts the container, then waits for its user.
        // (Mounts, hostname and network are the namespaces' it shares;
        // pivot_root moves its root along.)
        if (!spec.contains("tty")) early = fork_early_child(spec);
        try {
            const std::string root = spec.at("rootfs").get<std::string>();
            do_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);
            // strata makes the root's overlay while this process starts, and
            // sends it (a detached mount) or, where the kernel refused it,
            // nothing: then it is mounted here.
            const int made = spec.contains("root_mount_socket")
                                 ? strata::receive_fd(spec.at("root_mount_socket").get<int>())
                                 : -1;
            if (made >= 0)
                attach_tree(made, root);
            else
                mount_overlay(spec, root);
            // Overlays for --mount sources (a stage's layers, a writable bind).
            for (const auto& o : spec.value("overlays", json::array()))
                mount_overlay(o, o.at("target").get<std::string>());
            // What to bind in, taken as detached trees before the host
            // disappears and attached after the pivot, so that every target
            // resolves inside the container (an image's symlinks cannot point a
            // mount or a stub at the host) and every source inside its own root.
            const int hosts_fd = clone_tree(spec.at("hosts").get<std::string>(), true);
            const int resolv_fd = clone_tree(spec.at("resolv").get<std::string>(), true);
            // Rootless: in a user namespace the kernel mounts a new proc or
            // sysfs only while one is fully visible in the mount namespace
            // ("mount_too_revealing"), so they are made here, before the pivot
            // takes the host's away. sysfs moreover needs a network namespace
            // the user namespace owns: with the host's network the host's /sys
            // is bound read-only instead (as rootless runc and Podman do).
            constexpr uint64_t kNoSuidDevExec = 0x2 | 0x4 | 0x8;  // MOUNT_ATTR_NOSUID|NODEV|NOEXEC
            int proc_fd = -1, sys_fd = -1;
            if (g_rootless) {
                proc_fd = new_detached_mount("proc", kNoSuidDevExec);
                if (proc_fd < 0) die("mount proc (for the container's PID namespace)");
                sys_fd = new_detached_mount(
                    "sysfs", kNoSuidDevExec | (g_privileged ? 0 : 0x1 /* MOUNT_ATTR_RDONLY */));
                if (sys_fd < 0 && errno != EPERM) die("mount sysfs");
                if (sys_fd < 0) sys_fd = clone_tree("/sys", !g_privileged);
                take_host_devices();
            }
            if (g_privileged) collect_host_devices("/dev", "");
            json mounts = spec.value("mounts", json::array());
            take_mount_sources(mounts);

            if (::chdir(root.c_str()) != 0) die("chdir " + root);
            if (::syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root " + root);
            if (::umount2(".", MNT_DETACH) != 0) die("detach the old root");
            if (::chdir("/") != 0) die("chdir /");

            // Mount points the image lacks. As in Docker 20.10's BuildKit,
            // /dev, /proc and /sys stay in the layer; the /etc/hosts and
            // /etc/resolv.conf files made here are removed again by strata.
            for (const char* d : {"/dev", "/proc", "/sys"})
                make_dirs(d);
            make_etc_stubs();
            if (proc_fd >= 0)
                attach_tree(proc_fd, "/proc");
            else
                do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
            mount_dev("");
            make_host_devices();  // privileged
            if (sys_fd >= 0)
                attach_tree(sys_fd, "/sys");
            else if (::mount("sysfs", "/sys", "sysfs",
                             (g_privileged ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             nullptr) != 0)
                die("mount sysfs on /sys");
            finish_mounts(hosts_fd, resolv_fd, mounts, spec);
            const std::string hostname = spec.value("hostname", std::string("buildkitsandbox"));
            if (::sethostname(hostname.data(), hostname.size()) != 0) die("sethostname");
            if (spec.value("network", std::string("host")) != "host") loopback_up();
            make_dirs(spec.value("cwd", std::string("/")));  // BuildKit makes a missing cwd
            // --read-only: everything is mounted and made; the root's own
            // mount becomes read-only (as runc does it: a bind remount),
            // the mounts on it keep theirs.
            if (spec.value("read_only_root", false))
                do_mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    }
    const User user = resolve_user(spec.value("user", std::string()));
    if (spec.contains("tty")) {
        try {
            make_terminal(spec.at("tty"));
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    }

    // The command: stdin /dev/null, the caller's descriptors or the
    // terminal; strata reads stdout/stderr or the terminal's master.
    sigset_t all, old;
    sigfillset(&all);
    if (early.pid > 0) {
        old = early.old_mask;  // blocked since the early fork; it waits for its user
        g_child = early.pid;
    } else {
        ::sigprocmask(SIG_BLOCK, &all, nullptr);
        sigemptyset(&old);  // as in fork_early_child
        g_child = ::fork();
    }
    if (g_child < 0) die("fork");
    if (g_child == 0) {
        default_dispositions();
        ::sigprocmask(SIG_SETMASK, &old, nullptr);
        if (g_tty_slave >= 0)
            attach_terminal(user.uid);
        else
            stdin_from_dev_null(spec);
        try {
            run_child(spec, user);
        } catch (const std::exception& e) {
            die(std::string("bad spec: ") + e.what(), 0);
        }
    }
    if (g_status_fd != 2) ::close(g_status_fd);  // the child keeps it until exec (CLOEXEC)
    if (g_tty_slave >= 0) ::close(g_tty_slave);
    // Every signal init can catch goes on to the command: `strata kill -s
    // USR1`, an image's StopSignal, SIGWINCH. (glibc refuses its own two
    // real-time signals: skipped.)
    for (int sig = 1; sig < NSIG; ++sig) {
        if (!forwarded(sig)) continue;
        struct sigaction sa {};
        sa.sa_handler = forward;
        sa.sa_flags = SA_RESTART;
        ::sigaction(sig, &sa, nullptr);
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    // The early child execs the command once it has its user: from then on
    // init forwards signals (none waits blocked in it while the command
    // runs).
    if (early.pid > 0) {
        send_user(early.go_fd, user);
        ::close(early.go_fd);
    }
    for (;;) {
        int status = 0;
        pid_t p = ::waitpid(-1, &status, 0);
        if (p < 0) {
            if (errno == EINTR) continue;
            return 125;
        }
        if (p != g_child) continue;  // an orphan: reaped
        kill_orphans();              // chroot isolation without a PID namespace
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
}

int main(int argc, char** argv) {
    const auto number = [](const char* a) {
        return *a != '\0' && std::string(a).find_first_not_of("0123456789") == std::string::npos;
    };
    if (argc == 2 && std::string(argv[1]) == "--zygote")
        return strata::init::zygote_main(strata::zygote::kSocketFd, run_init);
    if (argc != 2 || !number(argv[1])) {
        std::fprintf(stderr, "usage: strata-init SPEC-FD (started by strata's sandbox)\n");
        return 125;
    }
    return run_init(std::atoi(argv[1]));
}
