// The sandbox as `strata run` uses it (real containers on a busybox root):
// start/wait, the caller's stdio, a pseudo-terminal made inside the
// container, signals forwarded by init, a read-only root.
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>

#include "container_fixture.hpp"

namespace strata::sandbox::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(ContainerTest, StdoutAndStderrArriveSeparately) {
    TestPipe out, err;
    Stdio io;
    io.out = out.write.get();
    io.err = err.write.get();
    SandboxProcess p =
        sandbox_.start(spec(sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2")), io);
    out.write.reset();
    err.write.reset();
    EXPECT_EQ(read_all(out.read.get()), "out1\nout2\n");
    EXPECT_EQ(read_all(err.read.get()), "err1\nerr2\n");
    const Result r = p.wait();
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(r.setup_error, "");
    EXPECT_EQ(r.output_tail, "");  // nothing went through the line pipe
}

// What prepare() makes is the next start's when that start's spec fits it
// (no second scratch directory), and is removed when it does not.
TEST_F(ContainerTest, APreparedStartIsUsedWhenItFitsAndDroppedWhenNot) {
    const fs::path scratch = dir_->path() / "scratch";
    auto scratch_dirs = [&] {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(scratch))
            out.push_back(e.path());
        return out;
    };
    Spec first = spec(sh("cat /etc/hosts"), "upper1");
    first.process.hosts = "127.0.0.1\tfirst\n";
    PreparedStart ready = sandbox_.prepare(first);
    ASSERT_EQ(scratch_dirs().size(), 1u);
    const fs::path made = scratch_dirs().front();
    EXPECT_TRUE(fs::is_directory(made / "rootfs"));
    std::vector<std::string> lines;
    const auto sink = [&](std::string_view l) { lines.emplace_back(l); };
    SandboxProcess p = sandbox_.start(first, {}, std::move(ready));
    EXPECT_EQ(scratch_dirs(), std::vector<fs::path>{made}) << "the prepared directory is used";
    Result r = p.wait(sink);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(lines, std::vector<std::string>{"127.0.0.1\tfirst"});
    EXPECT_TRUE(scratch_dirs().empty());

    // Another /etc/hosts: the prepared one does not fit and goes.
    ready = sandbox_.prepare(first);
    const fs::path unused = scratch_dirs().front();
    Spec second = spec(sh("cat /etc/hosts"), "upper2");
    second.process.hosts = "127.0.0.1\tsecond\n";
    lines.clear();
    p = sandbox_.start(second, {}, std::move(ready));
    EXPECT_FALSE(fs::exists(unused));
    EXPECT_EQ(scratch_dirs().size(), 1u);
    r = p.wait(sink);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(lines, std::vector<std::string>{"127.0.0.1\tsecond"});

    // Dropped unused, it leaves nothing.
    { PreparedStart dropped = sandbox_.prepare(second); }
    EXPECT_TRUE(scratch_dirs().empty());
}

TEST_F(ContainerTest, OneStreamGivenTheOtherGoesToTheSink) {
    TestPipe out;
    Stdio io;
    io.out = out.write.get();
    SandboxProcess p = sandbox_.start(spec(sh("echo to-caller; echo to-sink >&2")), io);
    out.write.reset();
    std::vector<std::string> lines;
    const Result r = p.wait([&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(read_all(out.read.get()), "to-caller\n");
    EXPECT_EQ(lines, std::vector<std::string>{"to-sink"});
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
}

TEST_F(ContainerTest, StdinReachesTheCommand) {
    TestPipe in, out;
    Stdio io;
    io.in = in.read.get();
    io.out = out.write.get();
    SandboxProcess p = sandbox_.start(spec(sh("cat; echo done")), io);
    in.read.reset();
    out.write.reset();
    const std::string text = "hello\nworld\n";
    ASSERT_EQ(::write(in.write.get(), text.data(), text.size()), ssize_t(text.size()));
    in.write.reset();  // EOF: cat ends
    EXPECT_EQ(read_all(out.read.get()), "hello\nworld\ndone\n");
    EXPECT_EQ(p.wait().exit_code, 0);
}

TEST_F(ContainerTest, WithoutStdinTheCommandReadsDevNull) {
    TestPipe out;
    Stdio io;
    io.out = out.write.get();
    SandboxProcess p = sandbox_.start(spec(sh("cat; readlink /proc/self/fd/0")), io);
    out.write.reset();
    EXPECT_EQ(read_all(out.read.get()), "/dev/null\n");
    EXPECT_EQ(p.wait().exit_code, 0);
}

TEST_F(ContainerTest, RunStillSendsLinesToTheSink) {
    std::vector<std::string> lines;
    const Result r = sandbox_.run(spec(sh("echo a; echo b >&2; exit 3")),
                                  [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(r.output_tail, "a\nb\n");
}

TEST_F(ContainerTest, StartExposesInitsPidAndStartTime) {
    TestPipe out;
    Stdio io;
    io.out = out.write.get();
    SandboxProcess p = sandbox_.start(spec(sh("echo $$; sleep 30")), io);
    out.write.reset();
    ASSERT_GT(p.pid(), 0);
    EXPECT_EQ(read_until(out.read.get(), "\n"), "2\n");  // init is 1, the command 2
    const auto started = process_start_time(p.pid());
    ASSERT_TRUE(started);
    EXPECT_EQ(p.start_time(), *started);
    // The host pid is the container's PID 1: its namespace is not ours.
    EXPECT_NE(fs::read_symlink("/proc/" + std::to_string(p.pid()) + "/ns/pid"),
              fs::read_symlink("/proc/self/ns/pid"));
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait().exit_code, 128 + SIGKILL);
}

TEST_F(ContainerTest, DestroyingAnUnwaitedProcessKillsTheContainer) {
    pid_t pid = 0;
    {
        TestPipe out;
        Stdio io;
        io.out = out.write.get();
        SandboxProcess p = sandbox_.start(spec(sh("echo up; sleep 1000")), io);
        out.write.reset();
        pid = p.pid();
        ASSERT_EQ(read_until(out.read.get(), "up\n"), "up\n");
    }
    // Reaped: not even a zombie is left.
    EXPECT_NE(::kill(pid, 0), 0);
    EXPECT_EQ(errno, ESRCH);
}

TEST_F(ContainerTest, InitForwardsSignalsToATrappingShell) {
    TestPipe out;
    Stdio io;
    io.out = out.write.get();
    SandboxProcess p = sandbox_.start(spec(sh("trap 'echo got USR1' USR1; "
                                              "trap 'echo got WINCH' WINCH; "
                                              "trap 'echo got QUIT; exit 3' QUIT; "
                                              "echo ready; while :; do sleep 0.05; done")),
                                      io);
    out.write.reset();
    ASSERT_EQ(read_until(out.read.get(), "ready\n"), "ready\n");
    p.signal(SIGUSR1);
    EXPECT_EQ(read_until(out.read.get(), "\n"), "got USR1\n");
    p.signal(SIGWINCH);
    EXPECT_EQ(read_until(out.read.get(), "\n"), "got WINCH\n");
    p.signal(SIGQUIT);  // e.g. an image's StopSignal
    EXPECT_EQ(read_until(out.read.get(), "\n"), "got QUIT\n");
    EXPECT_EQ(p.wait().exit_code, 3);
}

TEST_F(ContainerTest, AnUntrappedSignalEndsTheCommandWith128PlusIt) {
    TestPipe out;
    Stdio io;
    io.out = out.write.get();
    SandboxProcess p = sandbox_.start(spec(sh("echo ready; exec sleep 1000")), io);
    out.write.reset();
    ASSERT_EQ(read_until(out.read.get(), "ready\n"), "ready\n");
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait().exit_code, 128 + SIGTERM);
}

TEST_F(ContainerTest, InitReapsOrphansAndExitsWithTheCommand) {
    const Result r = sandbox_.run(spec(sh("(sleep 0.1 &) ; (sleep 0.1 &); exit 5")), {});
    EXPECT_EQ(r.exit_code, 5);
}

// -t: a terminal made inside the container, given back as its master.
TEST_F(ContainerTest, TtyIsTheContainersOwnPseudoTerminal) {
    Stdio io;
    io.tty = true;
    io.rows = 33;
    io.cols = 111;
    SandboxProcess p = sandbox_.start(
        spec(sh("tty; stty size; ls -l /proc/self/fd/0 | grep -c pts; "
                "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; stat -c %U $(tty)")),
        io);
    ASSERT_GE(p.pty_master(), 0);
    const std::string got = read_all(p.pty_master());
    EXPECT_NE(got.find("/dev/pts/0\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("33 111\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("all-tty\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("root\r\n"), std::string::npos) << got;
    EXPECT_EQ(p.wait().exit_code, 0);
}

TEST_F(ContainerTest, TtyBelongsToTheUser) {
    Stdio io;
    io.tty = true;
    Spec s = spec(sh("stat -c '%U %G %a' $(tty)"));
    s.process.user = "nobody";
    SandboxProcess p = sandbox_.start(s, io);
    const std::string got = read_all(p.pty_master());
    EXPECT_NE(got.find("nobody tty 620"), std::string::npos) << got;
    EXPECT_EQ(p.wait().exit_code, 0);
}

TEST_F(ContainerTest, TtyInputAndResize) {
    Stdio io;
    io.tty = true;
    io.rows = 24;
    io.cols = 80;
    SandboxProcess p =
        sandbox_.start(spec(sh("trap 'stty size; exit 4' WINCH; read line; echo \"read:$line\"; "
                               "echo ready; while :; do sleep 0.05; done")),
                       io);
    UniqueFd master = p.take_pty_master();
    ASSERT_TRUE(master);
    EXPECT_EQ(p.pty_master(), -1);
    ASSERT_EQ(::write(master.get(), "typed\n", 6), 6);
    const std::string got = read_until(master.get(), "ready\r\n");
    EXPECT_NE(got.find("read:typed\r\n"), std::string::npos) << got;
    resize_pty(master.get(), 40, 100);
    const std::string after = read_all(master.get());
    EXPECT_NE(after.find("40 100\r\n"), std::string::npos) << after;
    EXPECT_EQ(p.wait().exit_code, 4);
}

TEST_F(ContainerTest, CtrlCOnTheTerminalInterruptsTheCommand) {
    Stdio io;
    io.tty = true;
    SandboxProcess p = sandbox_.start(spec(sh("echo ready; exec sleep 1000")), io);
    ASSERT_NE(read_until(p.pty_master(), "ready\r\n").find("ready"), std::string::npos);
    ASSERT_EQ(::write(p.pty_master(), "\x03", 1), 1);  // the line discipline sends SIGINT
    EXPECT_EQ(p.wait().exit_code, 128 + SIGINT);
}

// --read-only -------------------------------------------------------------

TEST_F(ContainerTest, ARootWithoutUpperIsReadOnlyWhenTheImageHasTheMountPoints) {
    // Today's read-only root: no upper directory. Every mount point must be
    // in the layers (here /etc/hosts and /etc/resolv.conf).
    write(layer() / "etc/hosts", "");
    write(layer() / "etc/resolv.conf", "");
    for (const char* d : {"dev", "proc", "sys"})
        fs::create_directories(layer() / d);
    Spec s = spec(sh("touch /x 2>&1; echo > /tmp/y 2>&1; echo ok > /dev/shm/z && cat /dev/shm/z"));
    s.root.upper.clear();
    s.root.work.clear();
    std::vector<std::string> lines;
    const Result r = sandbox_.run(s, [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.setup_error, "");
    EXPECT_EQ(r.exit_code, 0);
    ASSERT_EQ(lines.size(), 3u) << r.output_tail;
    EXPECT_NE(lines[0].find("Read-only file system"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("Read-only file system"), std::string::npos) << lines[1];
    EXPECT_EQ(lines[2], "ok");
}

TEST_F(ContainerTest, AScratchUppersMountPointsAreMadeBeforeTheOverlayAndRemovedAfter) {
    // A RUN step's upper (scratch): /etc/hosts and /etc/resolv.conf are made
    // in it before the overlay is mounted (mount_stubs.hpp), with /etc as a
    // copy-up would have it; the command sees the bound files; afterwards only
    // /etc is left, as with the stubs init makes.
    fs::permissions(layer() / "etc", fs::perms::owner_all | fs::perms::group_read |
                                         fs::perms::group_exec | fs::perms::set_gid);
    ASSERT_EQ(::chown((layer() / "etc").c_str(), 0, 5), 0);
    Spec s = spec(sh("cat /etc/hosts; ls /etc"));
    s.root.scratch_upper = true;
    s.process.hosts = "127.0.0.1\tstubbed\n";
    std::vector<std::string> lines;
    const Result r = sandbox_.run(s, [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.exit_code, 0) << r.output_tail;
    ASSERT_GE(lines.size(), 2u) << r.output_tail;
    EXPECT_EQ(lines[0], "127.0.0.1\tstubbed");
    EXPECT_NE(std::find(lines.begin(), lines.end(), "resolv.conf"), lines.end()) << r.output_tail;
    std::vector<std::string> stubs = r.stubs;
    std::sort(stubs.begin(), stubs.end());
    EXPECT_EQ(stubs, (std::vector<std::string>{"/etc/hosts", "/etc/resolv.conf"}));
    EXPECT_FALSE(fs::exists(s.root.upper / "etc/hosts"));
    EXPECT_FALSE(fs::exists(s.root.upper / "etc/resolv.conf"));
    struct stat st {};
    ASSERT_EQ(::lstat((s.root.upper / "etc").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 02750u);
    EXPECT_EQ(st.st_gid, 5u);
}

TEST_F(ContainerTest, ARootWithoutUpperLacksMountPointsTheImageDoesNotHave) {
    for (const char* d : {"dev", "proc", "sys"})
        fs::create_directories(layer() / d);
    Spec s = spec({"true"});
    s.root.upper.clear();
    s.root.work.clear();
    const Result r = sandbox_.run(s, {});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.setup_error.find("/etc/hosts"), std::string::npos) << r.setup_error;
}

TEST_F(ContainerTest, ReadOnlyRootWithUpperMakesMountPointsThenRefusesWrites) {
    Spec s = spec(sh("touch /x 2>&1; mkdir /work/d 2>&1; cat /etc/hostname-test; "
                     "echo ok > /scratch/f && cat /scratch/f; pwd"),
                  "upper");
    s.root.read_only = true;
    s.process.cwd = "/work";  // made before the root turns read-only
    Mount tmp;
    tmp.kind = Mount::Kind::kTmpfs;
    tmp.target = "/scratch";
    s.mounts.push_back(tmp);
    std::vector<std::string> lines;
    const Result r = sandbox_.run(s, [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.setup_error, "");
    ASSERT_GE(lines.size(), 4u) << r.output_tail;
    EXPECT_NE(lines[0].find("Read-only file system"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("Read-only file system"), std::string::npos) << lines[1];
    EXPECT_EQ(lines[lines.size() - 2], "ok");
    EXPECT_EQ(lines.back(), "/work");
    // The stubs for /etc/hosts and /etc/resolv.conf were removed again; the
    // mount point directories stay, as with a writable root.
    EXPECT_FALSE(fs::exists(s.root.upper / "etc/hosts"));
    EXPECT_FALSE(fs::exists(s.root.upper / "x"));
    EXPECT_TRUE(fs::is_directory(s.root.upper / "work"));
}

TEST_F(ContainerTest, ReadOnlyRootWithoutUpperUsesAThrowawayOne) {
    Spec s = spec(sh("touch /x 2>&1; cat /etc/hosts >/dev/null && echo hosts"));
    s.root.upper.clear();
    s.root.work.clear();
    s.root.read_only = true;
    std::vector<std::string> lines;
    const Result r = sandbox_.run(s, [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(r.setup_error, "");
    ASSERT_EQ(lines.size(), 2u) << r.output_tail;
    EXPECT_NE(lines[0].find("Read-only file system"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[1], "hosts");
    EXPECT_FALSE(fs::exists(layer() / "etc/hosts"));  // the layer is untouched
}

}  // namespace
}  // namespace strata::sandbox::testing

namespace strata::sandbox::testing {
namespace {

// Not a test: what one RUN-style container (`true`, default stdio) costs end
// to end through Sandbox::run. STRATA_MEASURE_RUN=N runs N of them;
// STRATA_MEASURE_INIT names another strata-init to compare with, run in
// turn with this build's (so that both see the same load).
TEST_F(ContainerTest, MeasureRun) {
    const char* n_text = std::getenv("STRATA_MEASURE_RUN");
    if (!n_text) GTEST_SKIP() << "set STRATA_MEASURE_RUN to a count to measure";
    std::vector<std::string> inits = {STRATA_INIT};
    if (const char* other = std::getenv("STRATA_MEASURE_INIT")) inits.emplace_back(other);
    const int n = std::atoi(n_text);
    std::vector<std::vector<double>> ms(inits.size());
    for (int i = 0; i < n; ++i) {
        for (size_t k = 0; k < inits.size(); ++k) {
            Sandbox sandbox(inits[k]);
            Spec s = spec({"true"}, "upper" + std::to_string(i) + "-" + std::to_string(k));
            const auto t0 = std::chrono::steady_clock::now();
            const Result r = sandbox.run(s, {});
            ms[k].push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
            ASSERT_EQ(r.exit_code, 0) << r.setup_error;
        }
    }
    for (size_t k = 0; k < inits.size(); ++k) {
        auto& v = ms[k];
        std::sort(v.begin(), v.end());
        std::printf("run(true) x%d with %s: min %.2f ms, p10 %.2f, median %.2f, p90 %.2f\n", n,
                    inits[k].c_str(), v[0], v[v.size() / 10], v[v.size() / 2],
                    v[v.size() * 9 / 10]);
    }
}

}  // namespace
}  // namespace strata::sandbox::testing
