// `strata exec` underneath: Sandbox::exec enters a running container (real
// containers on a busybox root) — its files, hostname, PID namespace and
// cgroups — runs the command as the normal path does and returns its exit
// code; a container that is gone is a clear error.
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "base/error.hpp"
#include "container_fixture.hpp"

namespace strata::sandbox::testing {
namespace {

class ExecTest : public ContainerTest {
  protected:
    void SetUp() override {
        ContainerTest::SetUp();
        if (IsSkipped()) return;
        Spec s = spec(sh("echo data > /marker; echo ready; exec sleep 1000"));
        s.process.hostname = "exec-target";
        Stdio io;
        io.out = ready_.write.get();
        container_.emplace(sandbox_.start(s, io));
        ready_.write.reset();
        ASSERT_EQ(read_until(ready_.read.get(), "ready\n"), "ready\n");
        // "ready" comes just before the shell execs sleep: a test that looks
        // for the sleep (ps) waits for that exec too (it failed once under load).
        const std::string init = std::to_string(container_->pid());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            pid_t command = 0;
            std::ifstream children("/proc/" + init + "/task/" + init + "/children");
            std::string comm;
            if (children >> command)
                std::getline(std::ifstream("/proc/" + std::to_string(command) + "/comm"), comm);
            if (comm == "sleep") break;
            ASSERT_LT(std::chrono::steady_clock::now(), deadline)
                << "the container's sleep never started";
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    ExecSpec exec_spec(std::vector<std::string> argv) const {
        ExecSpec e;
        e.pid = container_->pid();
        e.pid_start = container_->start_time();
        e.process.argv = std::move(argv);
        e.process.env = {"PATH=/bin"};
        e.description = "exec test";
        return e;
    }

    struct Output {
        int exit_code;
        std::string out, err, setup_error;
    };
    Output exec(const ExecSpec& e) {
        TestPipe out, err;
        Stdio io;
        io.out = out.write.get();
        io.err = err.write.get();
        SandboxProcess p = sandbox_.exec(e, io);
        out.write.reset();
        err.write.reset();
        Output o;
        o.out = read_all(out.read.get());
        o.err = read_all(err.read.get());
        const Result r = p.wait();
        o.exit_code = r.exit_code;
        o.setup_error = r.setup_error;
        return o;
    }

    TestPipe ready_;
    std::optional<SandboxProcess> container_;
};

TEST_F(ExecTest, SeesTheContainersFilesHostnameAndPidNamespace) {
    const Output o =
        exec(exec_spec(sh("cat /marker; hostname; cat /proc/1/comm; echo $$; ps -o pid,args | grep "
                          "-c '^ *[0-9]* sleep "
                          "1000$'; exit 7")));
    EXPECT_EQ(o.exit_code, 7) << o.setup_error << o.err;
    std::istringstream lines(o.out);
    std::string marker, hostname, init, pid, sleeps;
    std::getline(lines, marker);
    std::getline(lines, hostname);
    std::getline(lines, init);
    std::getline(lines, pid);
    std::getline(lines, sleeps);
    EXPECT_EQ(marker, "data");
    EXPECT_EQ(hostname, "exec-target");
    EXPECT_EQ(init, "strata-init");  // PID 1 of the container
    EXPECT_GT(std::stoi(pid), 2);    // a pid of the container's namespace
    EXPECT_LT(std::stoi(pid), 100);
    EXPECT_EQ(sleeps, "1");  // the container's command, seen by ps
}

TEST_F(ExecTest, WritesLandInTheContainer) {
    ASSERT_EQ(exec(exec_spec(sh("echo from-exec > /new"))).exit_code, 0);
    EXPECT_EQ(exec(exec_spec({"cat", "/new"})).out, "from-exec\n");
    std::ifstream in(dir_->path() / "upper/new");
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "from-exec");
}

// Seen from the host (inside, the container's processes may not look at
// init's namespaces: it keeps capabilities they lack).
TEST_F(ExecTest, JoinsTheContainersCgroupsAndNamespaces) {
    TestPipe out;
    Stdio io;
    io.out = out.write.get();
    SandboxProcess p = sandbox_.exec(exec_spec(sh("echo ready; exec sleep 100")), io);
    out.write.reset();
    ASSERT_EQ(read_until(out.read.get(), "ready\n"), "ready\n");
    const std::string self = "/proc/" + std::to_string(p.pid());
    std::ifstream children(self + "/task/" + std::to_string(p.pid()) + "/children");
    pid_t child = 0;
    ASSERT_TRUE(children >> child) << "the exec'd command is not a child of " << p.pid();
    const std::string cmd = "/proc/" + std::to_string(child);
    const std::string ctr = "/proc/" + std::to_string(container_->pid());
    for (const char* ns : {"mnt", "pid", "ipc", "uts", "net", "cgroup"})
        EXPECT_EQ(fs::read_symlink(cmd + "/ns/" + ns), fs::read_symlink(ctr + "/ns/" + ns)) << ns;
    EXPECT_EQ(fs::read_symlink(self + "/ns/pid_for_children"), fs::read_symlink(ctr + "/ns/pid"));
    auto text = [](const std::string& path) {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(text(cmd + "/cgroup"), text(ctr + "/cgroup"));
    EXPECT_EQ(fs::read_symlink(cmd + "/root"), fs::read_symlink(ctr + "/root"));
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait().exit_code, 128 + SIGKILL);
}

TEST_F(ExecTest, RunsAsTheUserOfTheContainersPasswd) {
    ExecSpec e = exec_spec(sh("id -u; id -g; echo $HOME; pwd"));
    e.process.user = "nobody";
    e.process.cwd = "/tmp";
    const Output o = exec(e);
    EXPECT_EQ(o.exit_code, 0) << o.setup_error;
    EXPECT_EQ(o.out, "65534\n65534\n/home\n/tmp\n");
}

TEST_F(ExecTest, HasTheCapabilitiesAndSeccompGiven) {
    const Output def = exec(exec_spec(sh("grep -E '^(CapEff|Seccomp):' /proc/self/status")));
    EXPECT_EQ(def.out, "CapEff:\t00000000a80425fb\nSeccomp:\t2\n") << def.setup_error;
    ExecSpec e = exec_spec(sh("grep -E '^(CapEff|Seccomp):' /proc/self/status"));
    e.isolation.capabilities = {"CAP_CHOWN"};
    e.isolation.seccomp = false;
    EXPECT_EQ(exec(e).out, "CapEff:\t0000000000000001\nSeccomp:\t0\n");
}

TEST_F(ExecTest, MissingOrNotExecutableCommandsExit127And126) {
    const Output missing = exec(exec_spec({"no-such-command"}));
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_NE(missing.setup_error.find("executable file not found"), std::string::npos)
        << missing.setup_error;
    const Output not_exec = exec(exec_spec({"/etc/passwd"}));
    EXPECT_EQ(not_exec.exit_code, 126) << not_exec.setup_error;
    const Output no_user = [&] {
        ExecSpec e = exec_spec({"true"});
        e.process.user = "nosuchuser";
        return exec(e);
    }();
    EXPECT_NE(no_user.exit_code, 0);
    EXPECT_NE(no_user.setup_error.find("unable to find user nosuchuser"), std::string::npos)
        << no_user.setup_error;
}

TEST_F(ExecTest, StdinAndTty) {
    ExecSpec e = exec_spec(sh("tty; stty size; read x; echo got:$x"));
    Stdio io;
    io.tty = true;
    io.rows = 12;
    io.cols = 34;
    SandboxProcess p = sandbox_.exec(e, io);
    ASSERT_GE(p.pty_master(), 0);
    ASSERT_EQ(::write(p.pty_master(), "abc\n", 4), 4);
    const std::string got = read_all(p.pty_master());
    EXPECT_NE(got.find("/dev/pts/0\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("12 34\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("got:abc\r\n"), std::string::npos) << got;
    EXPECT_EQ(p.wait().exit_code, 0);
}

TEST_F(ExecTest, SignalsAreForwardedAndTheExitCodeReturned) {
    TestPipe out;
    Stdio io;
    io.out = out.write.get();
    SandboxProcess p = sandbox_.exec(
        exec_spec(sh("trap 'echo got HUP; exit 9' HUP; echo ready; while :; do sleep 0.05; done")),
        io);
    out.write.reset();
    ASSERT_EQ(read_until(out.read.get(), "ready\n"), "ready\n");
    p.signal(SIGHUP);
    EXPECT_EQ(read_until(out.read.get(), "\n"), "got HUP\n");
    EXPECT_EQ(p.wait().exit_code, 9);
}

TEST_F(ExecTest, AnExecdProcessDiesWithItsSandboxProcess) {
    {
        TestPipe out;
        Stdio io;
        io.out = out.write.get();
        SandboxProcess p = sandbox_.exec(exec_spec(sh("echo up; exec sleep 999")), io);
        out.write.reset();
        ASSERT_EQ(read_until(out.read.get(), "up\n"), "up\n");
    }
    std::string left;
    for (int i = 0; i < 50; ++i) {
        left = exec(exec_spec(sh("ps -o args | grep -c '^sleep 999' || true"))).out;
        if (left == "0\n") break;
        ::usleep(20000);
    }
    EXPECT_EQ(left, "0\n");
}

TEST_F(ExecTest, AStoppedContainerIsAClearError) {
    ExecSpec e = exec_spec({"true"});
    container_->signal(SIGKILL);
    container_->wait();
    try {
        sandbox_.exec(e);
        FAIL() << "exec into a container that is gone";
    } catch (const Error& err) {
        EXPECT_EQ(err.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(err.what()).find("the container is not running"), std::string::npos)
            << err.what();
    }
}

TEST_F(ExecTest, APidOfAnotherProcessIsRefused) {
    ExecSpec e = exec_spec({"true"});
    e.pid_start += 1;  // what a reused pid looks like
    try {
        sandbox_.exec(e);
        FAIL() << "exec into a pid whose start time differs";
    } catch (const Error& err) {
        EXPECT_EQ(err.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(err.what()).find("another process"), std::string::npos) << err.what();
    }
}

}  // namespace
}  // namespace strata::sandbox::testing
