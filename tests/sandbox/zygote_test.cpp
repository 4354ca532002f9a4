// The zygote (sandbox/zygote.hpp, runtime/init_zygote.cpp): a RUN step's
// container is forked by `strata-init --zygote` and is still this process's
// child; other containers are not; an init without zygote mode, a zygote
// that was killed, a malformed request; containers from many threads; and
// the end of the process taking the zygote and its containers along.
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "base/fd_passing.hpp"
#include "base/zygote_protocol.hpp"
#include "container_fixture.hpp"
#include "sandbox/zygote.hpp"
#include "support/proc_processes.hpp"

namespace strata::sandbox::testing {
namespace {

std::string cmdline_of(pid_t pid) {
    std::string s = test_support::read_proc_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(s.begin(), s.end(), '\0', ' ');
    return s;
}

pid_t parent_of(pid_t pid) {
    const std::string stat = test_support::read_proc_file("/proc/" + std::to_string(pid) + "/stat");
    // pid (comm) state ppid ...: after the last ')'.
    std::istringstream rest(stat.substr(stat.rfind(')') + 1));
    char state = 0;
    pid_t ppid = -1;
    rest >> state >> ppid;
    return ppid;
}

// Gone, or a zombie nobody has reaped yet: not running anyway.
bool dead(pid_t pid) {
    const std::string stat = test_support::read_proc_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty()) return true;
    std::istringstream rest(stat.substr(stat.rfind(')') + 1));
    char state = 0;
    rest >> state;
    return state == 'Z' || state == 'X';
}

bool wait_dead(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!dead(pid)) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

class ZygoteTest : public ContainerTest {
  protected:
    // A RUN step's container: its upper is scratch.
    Spec run_spec(std::vector<std::string> argv, const std::string& upper = "upper") {
        Spec s = spec(std::move(argv), upper);
        s.root.scratch_upper = true;
        return s;
    }
};

TEST_F(ZygoteTest, ARunStepsContainerIsForkedByTheZygoteAndIsThisProcesssChild) {
    const Spec s =
        run_spec(sh("trap 'echo term; exit 7' TERM; touch /ready; while :; do sleep 0.05; done"));
    SandboxProcess p = sandbox_.start(s, {});
    const pid_t init = p.pid();
    EXPECT_EQ(parent_of(init), ::getpid());
    EXPECT_NE(cmdline_of(init).find("--zygote"), std::string::npos) << cmdline_of(init);
    Zygote* z = Zygote::of(init_binary());
    ASSERT_NE(z, nullptr);
    EXPECT_GT(z->pid(), 0);
    EXPECT_NE(z->pid(), init);
    EXPECT_EQ(parent_of(z->pid()), ::getpid());
    // Signals reach the command through init, as with an exec'd init.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!fs::exists(s.root.upper / "ready") && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    p.signal(SIGTERM);
    std::vector<std::string> lines;
    const Result r = p.wait([&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.exit_code, 7) << r.output_tail;
    EXPECT_EQ(lines, std::vector<std::string>{"term"});
    EXPECT_TRUE(r.setup_error.empty()) << r.setup_error;
}

TEST_F(ZygoteTest, OtherContainersAreStartedByAnExecOfInit) {
    SandboxProcess p = sandbox_.start(spec({"sleep", "30"}), {});
    EXPECT_EQ(parent_of(p.pid()), ::getpid());
    EXPECT_EQ(cmdline_of(p.pid()).find("--zygote"), std::string::npos) << cmdline_of(p.pid());
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait().exit_code, 128 + SIGKILL);
}

TEST_F(ZygoteTest, BothPathsGiveTheSameContainer) {
    // What the command sees of its process and container, started either way.
    const std::string probe =
        "for p in 1 self; do grep -E '^(Cap|NoNewPrivs|Seccomp:|Sig(Blk|Ign))' /proc/$p/status; "
        "done; hostname; id; env | sort; ls /dev | tr '\\n' ' '; echo; "
        "sed 's/^[0-9]*://' /proc/self/cgroup | sort; ulimit -n; umask; pwd; echo $$; "
        "ls -l /proc/self/fd | wc -l";
    std::vector<std::string> forked, execd;
    const Result a =
        sandbox_.run(run_spec(sh(probe), "a"), [&](std::string_view l) { forked.emplace_back(l); });
    const Result b =
        sandbox_.run(spec(sh(probe), "b"), [&](std::string_view l) { execd.emplace_back(l); });
    EXPECT_EQ(a.exit_code, 0) << a.output_tail;
    EXPECT_EQ(b.exit_code, 0) << b.output_tail;
    EXPECT_GT(forked.size(), 15u);
    EXPECT_EQ(forked, execd);
}

// Whatever the starting thread blocks (strata's pool threads block every
// signal), a container's command and its init start with none blocked, as
// under Docker, and the command never sees init with signals still blocked.
TEST_F(ZygoteTest, NoSignalIsBlockedInTheContainerWhateverTheStartingThreadBlocked) {
    const std::string probe = "grep -h '^SigBlk' /proc/self/status /proc/1/status";
    const Spec specs[] = {run_spec(sh(probe), "forked"), spec(sh(probe), "execd")};
    std::vector<std::string> lines[2];
    int codes[2] = {-1, -1};
    std::thread([&] {
        sigset_t all;
        sigfillset(&all);
        ::pthread_sigmask(SIG_SETMASK, &all, nullptr);
        for (int i = 0; i < 2; ++i)
            codes[i] = sandbox_.run(specs[i], [&](std::string_view l) { lines[i].emplace_back(l); })
                           .exit_code;
    }).join();
    const std::vector<std::string> none(2, "SigBlk:\t0000000000000000");
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(codes[i], 0) << i;
        EXPECT_EQ(lines[i], none) << (i == 0 ? "by the zygote" : "by an exec of init");
    }
}

TEST_F(ZygoteTest, ContainersFromManyThreadsEachGetTheirOwn) {
    constexpr int kThreads = 4, kEach = 4;
    std::atomic<int> good{0};
    std::vector<std::string> failures(kThreads);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            // Specs made here: the fixture's helpers are not thread-safe.
            std::vector<Spec> specs;
            for (int i = 0; i < kEach; ++i) {
                const std::string token = std::to_string(t) + "-" + std::to_string(i);
                specs.push_back(run_spec(sh("echo " + token + "; echo $$"), "u" + token));
            }
            threads.emplace_back([&, t, specs = std::move(specs)] {
                for (size_t i = 0; i < specs.size(); ++i) {
                    std::vector<std::string> lines;
                    const Result r =
                        sandbox_.run(specs[i], [&](std::string_view l) { lines.emplace_back(l); });
                    const std::string token = std::to_string(t) + "-" + std::to_string(i);
                    // $$ is 2: init is PID 1 of a namespace of its own.
                    if (r.exit_code == 0 && lines == std::vector<std::string>{token, "2"})
                        ++good;
                    else
                        failures[t] += token + ": " + r.output_tail + r.setup_error + "\n";
                }
            });
        }
    }
    EXPECT_EQ(good, kThreads * kEach);
    for (const auto& f : failures)
        EXPECT_TRUE(f.empty()) << f;
}

TEST_F(ZygoteTest, AnInitWithoutZygoteModeIsStartedByExecInstead) {
    // A strata-init that refuses --zygote (as one from before it would).
    const fs::path wrapper = dir_->path() / "old-init";
    write(wrapper,
          "#!/bin/sh\n[ \"$1\" = --zygote ] && exit 125\nexec " + init_binary() + " \"$@\"\n");
    fs::permissions(wrapper, fs::perms::owner_all);
    Sandbox old(wrapper);
    std::vector<std::string> lines;
    const Result r =
        old.run(run_spec(sh("echo fine")), [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.exit_code, 0) << r.output_tail << r.setup_error;
    EXPECT_EQ(lines, std::vector<std::string>{"fine"});
    EXPECT_EQ(Zygote::of(wrapper), nullptr);  // known to be gone from now on
}

TEST_F(ZygoteTest, AKilledZygoteIsReplacedByTheExecPath) {
    // An init of its own (another path): its zygote, not the one other
    // tests share.
    const fs::path init = dir_->path() / "strata-init";
    fs::copy_file(init_binary(), init);
    Sandbox own(init);
    ASSERT_EQ(own.run(run_spec(sh("true"), "first"), {}).exit_code, 0);
    Zygote* z = Zygote::of(init);
    ASSERT_NE(z, nullptr);
    ASSERT_EQ(::kill(z->pid(), SIGKILL), 0);
    ASSERT_TRUE(wait_dead(z->pid()));
    // Its end is noticed (by its waiting thread, or by the next request).
    std::vector<std::string> lines;
    const Result r = own.run(run_spec(sh("echo after"), "second"),
                             [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.exit_code, 0) << r.output_tail << r.setup_error;
    EXPECT_EQ(lines, std::vector<std::string>{"after"});
    SandboxProcess p = own.start(run_spec({"sleep", "30"}, "third"), {});
    EXPECT_EQ(cmdline_of(p.pid()).find("--zygote"), std::string::npos) << cmdline_of(p.pid());
    p.signal(SIGKILL);
    p.wait();
}

TEST_F(ZygoteTest, TheZygoteRefusesMalformedRequestsAndEndsWithItsSocket) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd ours(sv[0]), theirs(sv[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, theirs.get(), zygote::kSocketFd);
    const std::string path = init_binary();
    char* const argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>("--zygote"), nullptr};
    char* const envp[] = {nullptr};
    pid_t pid = -1;
    ASSERT_EQ(::posix_spawn(&pid, path.c_str(), &fa, nullptr, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    theirs.reset();
    const auto reply = [&] {
        zygote::Reply r;
        int none[1];
        size_t n = 0;
        EXPECT_EQ(receive_message(ours.get(), &r, sizeof r, none, 0, &n),
                  static_cast<ssize_t>(sizeof r));
        return r;
    };
    EXPECT_EQ(reply().pid, pid);  // ready
    const auto ask = [&](const zygote::Request& req, std::vector<int> fds) {
        EXPECT_TRUE(send_message(ours.get(), &req, sizeof req, fds.data(), fds.size()));
        return reply();
    };
    zygote::Request bad_magic;
    bad_magic.magic = 1;
    EXPECT_EQ(ask(bad_magic, {}).error, EINVAL);
    zygote::Request missing_fds;
    missing_fds.fd_count = 5;  // none sent
    EXPECT_EQ(ask(missing_fds, {}).error, EINVAL);
    zygote::Request other_flags;
    other_flags.clone_flags = CLONE_VM | CLONE_NEWPID;
    other_flags.fd_count = 5;
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    const std::vector<int> five(5, null.get());
    EXPECT_EQ(ask(other_flags, five).error, EINVAL);
    // A short message is not a request either.
    const uint32_t word = zygote::kMagic;
    ASSERT_TRUE(send_message(ours.get(), &word, sizeof word, nullptr, 0));
    EXPECT_EQ(reply().error, EINVAL);
    // Still serving; then its socket closes and it ends, status 0.
    EXPECT_EQ(ask(bad_magic, {}).error, EINVAL);
    ours.reset();
    int status = -1;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(ZygoteTest, TheEndOfTheProcessEndsTheZygoteAndItsContainers) {
    TestPipe report;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // A process of its own (as `strata build` is): its own zygote.
        try {
            SandboxProcess p = sandbox_.start(run_spec({"sleep", "300"}), {});
            Zygote* z = Zygote::of(init_binary());
            const std::string pids =
                std::to_string(p.pid()) + " " + std::to_string(z ? z->pid() : -1) + "\n";
            if (::write(report.write.get(), pids.data(), pids.size()) < 0) _exit(1);
            ::pause();
        } catch (...) {
        }
        _exit(1);
    }
    // Killed (and with it, its zygote and container) on every way out.
    struct Reaped {
        pid_t pid;
        bool done = false;
        ~Reaped() {
            if (done) return;
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } reaped{child};
    report.write.reset();
    std::istringstream pids(read_until(report.read.get(), "\n"));
    pid_t init = -1, zygote = -1;
    pids >> init >> zygote;
    ASSERT_GT(init, 0);
    ASSERT_GT(zygote, 0);
    EXPECT_NE(cmdline_of(init).find("--zygote"), std::string::npos);
    EXPECT_FALSE(dead(init));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    reaped.done = true;
    EXPECT_TRUE(wait_dead(init)) << "the container's init outlived its strata";
    EXPECT_TRUE(wait_dead(zygote)) << "the zygote outlived its strata";
}

}  // namespace
}  // namespace strata::sandbox::testing
