// `strata-init --zygote`: one process per strata process that starts a
// build's containers by cloning itself (base/zygote_protocol.hpp has the
// requests). Each clone is what an exec of strata-init would have been —
// the new namespaces' PID 1, strata's child (CLONE_PARENT), its
// descriptors in place — without the exec and the C runtime's start
// (~0.4 ms a container on this VM: glibc's CPU probe is a VM exit per
// `cpuid`).
//
// The zygote itself holds nothing of strata's but its socket (every other
// descriptor above stdio, /dev/null, closed), an empty environment, cwd /,
// default signal dispositions, nothing blocked. It ends when strata closes
// the socket, or with strata (PR_SET_PDEATHSIG; strata dying before that is
// set closes the socket too).
#include <sys/syscall.h>

#include "base/container_entry.hpp"
#include "base/fd_passing.hpp"
#include "base/zygote_protocol.hpp"
#include "init.hpp"

namespace strata::init {
namespace {

constexpr int kAllowedFlags =
    CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;

// In the clone: its place in the container (base/container_entry.hpp, as
// Sandbox's own child before it execs strata-init), then init from its spec.
[[noreturn]] void become_init(const zygote::Request& req, const int* fds, int socket,
                              int (*run)(int)) {
    ::close(socket);
    const int* joins = fds + req.fd_count;
    if (!enter_container(fds, req.fd_count, joins, req.cgroup_join_count,
                         req.has_netns ? joins[req.cgroup_join_count] : -1, req.new_cgroup_ns))
        _exit(124);
    std::exit(run(zygote::kSpecFd));
}

bool valid(const zygote::Request& req, ssize_t got, size_t nfds) {
    if (got != static_cast<ssize_t>(sizeof req) || req.magic != zygote::kMagic) return false;
    if ((req.clone_flags & ~kAllowedFlags) != 0) return false;
    if (req.fd_count <= zygote::kSpecFd || req.cgroup_join_count < 0) return false;
    const size_t want = static_cast<size_t>(req.fd_count) +
                        static_cast<size_t>(req.cgroup_join_count) + (req.has_netns ? 1 : 0);
    return want == nfds;
}

// Every signal's default action, glibc's own two included: posix_spawn
// leaves those ignored in the program it starts, and an ignored signal
// stays ignored across the command's exec (glibc's signal() refuses them).
void default_dispositions_all() {
    struct KernelSigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        uint64_t mask;
    };
    for (int sig = 1; sig <= 64; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        const KernelSigaction dfl{SIG_DFL, 0, nullptr, 0};
        ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
    }
}

}  // namespace

int zygote_main(int socket, int (*run)(int)) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::syscall(SYS_close_range, socket + 1, ~0U, 0);  // strata closes them too
    default_dispositions_all();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::chdir("/") != 0) return 1;
    // Ready: strata's first request waits for this (an init without zygote
    // mode never says it, and strata then starts containers itself).
    zygote::Reply hello;
    hello.pid = static_cast<int32_t>(::getpid());
    if (!send_message(socket, &hello, sizeof hello, nullptr, 0)) return 1;
    for (;;) {
        zygote::Request req;
        int fds[kMaxPassedFds];
        size_t nfds = 0;
        const ssize_t got = receive_message(socket, &req, sizeof req, fds, kMaxPassedFds, &nfds);
        if (got == 0) return 0;  // strata is done (or gone)
        zygote::Reply reply;
        if (got < 0 && errno != EMSGSIZE) return 1;
        if (got < 0 || !valid(req, got, nfds)) {
            reply.error = EINVAL;
        } else {
            // fork() with namespaces: the clone goes on from here on a copy
            // of this process's memory and stack. (glibc's own fork takes no
            // flags; this process has one thread and holds no lock.)
            const long pid = ::syscall(SYS_clone, req.clone_flags | CLONE_PARENT | SIGCHLD, nullptr,
                                       nullptr, nullptr, 0);
            if (pid == 0) become_init(req, fds, socket, run);
            reply.pid = static_cast<int32_t>(pid);
            reply.error = pid < 0 ? errno : 0;
        }
        for (size_t i = 0; i < nfds; ++i)
            ::close(fds[i]);
        if (!send_message(socket, &reply, sizeof reply, nullptr, 0)) return 1;
    }
}

}  // namespace strata::init
