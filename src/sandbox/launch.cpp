#include "sandbox/launch.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "base/container_entry.hpp"
#include "base/error.hpp"
#include "base/fd_passing.hpp"
#include "base/pipe.hpp"
#include "base/unique_fd.hpp"
#include "base/zygote_protocol.hpp"
#include "sandbox/sandbox_process_state.hpp"
#include "sandbox/zygote.hpp"

namespace strata::sandbox {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// init's fixed descriptors 3 (the status pipe) and 4 (the spec); see
// init_spec.hpp.
[[maybe_unused]] constexpr int kStatusFd = 3;  // placed by position in fd_sources below
constexpr int kSpecFd = zygote::kSpecFd;
static_assert(kSpecFd + 1 == kFirstExtraFd);

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

void launch(SandboxProcess::State& st, const fs::path& init_binary, json& j, ExtraFds& extra,
            const Stdio& io, int clone_flags, int netns_fd, bool new_cgroup_ns,
            const std::vector<int>& cgroup_join, Zygote* zygote) {
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) throw system_error("open", "/dev/null");
    std::optional<Pipe> out;
    if (!io.tty && (io.out < 0 || io.err < 0)) out = make_pipe("the container's output");
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
    Pipe status = make_pipe("the container's status");
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

}  // namespace strata::sandbox
