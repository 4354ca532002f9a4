#include "sandbox/zygote.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "base/error.hpp"
#include "base/fd_passing.hpp"
#include "base/zygote_protocol.hpp"

namespace strata::sandbox {

Zygote* Zygote::of(const std::filesystem::path& init) {
    if (const char* e = std::getenv("STRATA_NO_ZYGOTE"); e && *e == '1') return nullptr;
    // Never destroyed: the zygotes' threads outlive every static destructor.
    // Per process: a child forked after a zygote started has neither its
    // thread nor the right to its socket, and gets one of its own.
    static std::mutex mu;
    static auto* zygotes = new std::map<std::pair<pid_t, std::string>, Zygote*>;
    std::lock_guard lock(mu);
    Zygote*& z = (*zygotes)[{::getpid(), init.string()}];
    if (!z) {
        z = new Zygote;
        if (!z->start(init)) z->ended_ = true;
    }
    return z->ended_ ? nullptr : z;
}

bool Zygote::start(const std::filesystem::path& init) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return false;
    socket_.reset(sv[0]);
    UniqueFd theirs(sv[1]);
    auto started = std::make_shared<std::promise<pid_t>>();
    started_ = started->get_future();
    // The thread that starts the zygote is the parent of every container it
    // makes (their PR_SET_PDEATHSIG): it waits for the zygote, then sleeps
    // until the process ends. Nobody waits for the start here: the first
    // spawn() does.
    std::thread([this, init, theirs = std::move(theirs), started]() mutable {
        sigset_t none;
        sigemptyset(&none);
        ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&fa, 0, 1);
        posix_spawn_file_actions_adddup2(&fa, 0, 2);
        posix_spawn_file_actions_adddup2(&fa, theirs.get(), zygote::kSocketFd);
        posix_spawn_file_actions_addclosefrom_np(&fa, zygote::kSocketFd + 1);
        const std::string path = init.string();
        char* const argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>("--zygote"),
                              nullptr};
        char* const envp[] = {nullptr};
        pid_t child = -1;
        const int err = ::posix_spawn(&child, path.c_str(), &fa, nullptr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        theirs.reset();
        started->set_value(err == 0 ? child : -1);
        if (err != 0) return;
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        ended_ = true;
        for (;;)
            ::pause();
    }).detach();
    return true;
}

Zygote::Spawned Zygote::spawn(int clone_flags, const std::vector<int>& fds,
                              const std::vector<int>& cgroup_join, int netns_fd,
                              bool new_cgroup_ns) {
    zygote::Request req;
    req.clone_flags = clone_flags;
    req.fd_count = static_cast<int32_t>(fds.size());
    req.cgroup_join_count = static_cast<int32_t>(cgroup_join.size());
    req.has_netns = netns_fd >= 0;
    req.new_cgroup_ns = new_cgroup_ns;
    std::vector<int> all = fds;
    all.insert(all.end(), cgroup_join.begin(), cgroup_join.end());
    if (netns_fd >= 0) all.push_back(netns_fd);
    Spawned s;
    if (all.size() > kMaxPassedFds) {  // more than one message carries
        s.unsent = true;
        return s;
    }

    std::lock_guard lock(mu_);
    if (pid_ < 0 && started_.valid() && !ended_) {
        pid_ = started_.get();
        zygote::Reply hello;
        int none[1];
        size_t nfds = 0;
        if (pid_ < 0 ||
            receive_message(socket_.get(), &hello, sizeof hello, none, 0, &nfds) !=
                static_cast<ssize_t>(sizeof hello) ||
            hello.pid != pid_)
            ended_ = true;
    }
    if (ended_ || !send_message(socket_.get(), &req, sizeof req, all.data(), all.size())) {
        ended_ = true;
        s.unsent = true;
        return s;
    }
    zygote::Reply reply;
    int none[1];
    size_t nfds = 0;
    if (receive_message(socket_.get(), &reply, sizeof reply, none, 0, &nfds) !=
        static_cast<ssize_t>(sizeof reply)) {
        ended_ = true;
        throw Error(ErrorKind::kInternal,
                    "strata-init --zygote ended while it started a container");
    }
    s.pid = reply.pid;
    s.error = reply.error;
    return s;
}

}  // namespace strata::sandbox
