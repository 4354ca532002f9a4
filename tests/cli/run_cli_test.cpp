// `strata run`, `create`, `start`, `exec` on real containers of the busybox
// image (image_cli_fixture.hpp), as root: Docker's exit codes and messages,
// the flags that shape the process, isolation flags, -p through pasta (only
// 127.0.0.1), --rm, start -a on the kept upper directory, exec into a
// running container, and -it through a real pseudo-terminal.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "base/unique_fd.hpp"
#include "cli/image_cli_fixture.hpp"
#include "support/pty_session.hpp"

namespace strata::imagetest {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

class RunCliTest : public CliTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "containers need root here";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "no /bin/busybox for the test image";
        CliTest::SetUp();
    }

    RunResult run(std::vector<std::string> args, const std::string& input = {},
                  const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), "run");
        return strata(root_, std::move(args), input, env);
    }

    // The container directories in the store (64-hex names).
    std::vector<std::string> container_dirs() const {
        std::vector<std::string> out;
        const fs::path dir = root_ / "containers";
        if (!fs::exists(dir)) return out;
        for (const auto& e : fs::directory_iterator(dir)) {
            const std::string n = e.path().filename().string();
            if (n.size() == 64 && n.find_first_not_of("0123456789abcdef") == std::string::npos)
                out.push_back(n);
        }
        return out;
    }

    // strata with the given args in the background (stdout/stderr to files).
    pid_t background(std::vector<std::string> args) {
        args.insert(args.begin(), {STRATA_BINARY, "--root", root_.string()});
        const fs::path out = dir_.path() / "bg-out", err = dir_.path() / "bg-err";
        const pid_t pid = ::fork();
        if (pid == 0) {
            const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int n = ::open("/dev/null", O_RDONLY);
            ::dup2(n, 0);
            ::dup2(o, 1);
            ::dup2(e, 2);
            std::vector<char*> argv;
            for (auto& a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            _exit(127);
        }
        return pid;
    }

    int wait_exit(pid_t pid) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    // Waits until `exec NAME true` works: the container runs.
    // GET /index.html from 127.0.0.1:PORT, tried for up to 10 s until the
    // answer holds `want`; the last answer.
    std::string http_get(int port, const std::string& want) {
        std::string answer;
        for (int i = 0; i < 100 && answer.find(want) == std::string::npos; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<uint16_t>(port));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) continue;
            const std::string req = "GET /index.html HTTP/1.0\r\n\r\n";
            if (::write(s.get(), req.data(), req.size()) < 0) continue;
            char buf[4096];
            answer.clear();
            for (ssize_t n; (n = ::read(s.get(), buf, sizeof buf)) > 0;)
                answer.append(buf, static_cast<size_t>(n));
        }
        return answer;
    }

    bool wait_running(const std::string& name) {
        for (int i = 0; i < 100; ++i) {
            if (strata(root_, {"exec", name, "true"}).code == 0) return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
};

TEST_F(RunCliTest, ExitCodesAreTheContainersAndDockers) {
    EXPECT_EQ(run({"--rm", "busybox", "true"}).code, 0);
    EXPECT_EQ(run({"--rm", "busybox", "sh", "-c", "exit 3"}).code, 3);

    auto r = run({"--rm", "busybox", "nosuch"});
    EXPECT_EQ(r.code, 127);
    EXPECT_TRUE(has(r.err, "exec: \"nosuch\": executable file not found in $PATH")) << r.err;
    EXPECT_FALSE(has(r.err, "daemon")) << r.err;

    r = run({"--rm", "busybox", "/etc/passwd"});
    EXPECT_EQ(r.code, 126);
    EXPECT_TRUE(has(r.err, "exec: \"/etc/passwd\": permission denied")) << r.err;

    r = run({"--rm", "--pull", "never", "nosuchimage"});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "No such image")) << r.err;

    r = run({"--rm", "--bogus-flag", "busybox", "true"});
    EXPECT_EQ(r.code, 125) << r.err;
    r = run({"--rm", "--network", "host", "-p", "8080:80", "busybox", "true"});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "not needed with --network host")) << r.err;
    EXPECT_TRUE(container_dirs().empty());
}

TEST_F(RunCliTest, StdoutAndStderrStayApartAndAreLogged) {
    auto r = run({"--name", "out", "busybox", "sh", "-c", "echo to-out; echo to-err >&2"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, "to-out\n");
    EXPECT_EQ(r.err, "to-err\n");
    const auto dirs = container_dirs();
    ASSERT_EQ(dirs.size(), 1u);
    const std::string log = read_file(root_ / "containers" / dirs[0] / "container.log");
    EXPECT_TRUE(has(log, R"("log":"to-out\n","stream":"stdout")")) << log;
    EXPECT_TRUE(has(log, R"("log":"to-err\n","stream":"stderr")")) << log;
    const std::string state = read_file(root_ / "containers" / dirs[0] / "state.json");
    EXPECT_TRUE(has(state, "exited")) << state;
}

TEST_F(RunCliTest, InteractivePassesStdin) {
    auto r = run({"--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z"}, "hello\n");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "HELLO\n");
    // Without -i the container's stdin is empty.
    r = run({"--rm", "busybox", "cat"}, "ignored\n");
    EXPECT_EQ(r.out, "");
}

TEST_F(RunCliTest, ProcessFlags) {
    write_file(dir_.path() / "env", "# a comment\nFROM_FILE=f\nPASSED\n");
    auto r =
        run({"--rm", "-e", "A=1", "-e", "FROM_HOST", "--env-file", (dir_.path() / "env").string(),
             "-w", "/var/x", "-u", "12:34", "--hostname", "myhost", "busybox", "sh", "-c",
             "echo $A $FROM_HOST $FROM_FILE $PASSED; pwd; id -u; id -g; hostname; echo "
             "$HOSTNAME; grep -c myhost /etc/hosts; echo $PATH"},
            {}, {{"FROM_HOST", "h"}, {"PASSED", "p"}});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out,
              "1 h f p\n/var/x\n12\n34\nmyhost\nmyhost\n1\n"
              "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");

    r = run({"--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint"});
    EXPECT_EQ(r.out, "via entrypoint\n");
    // The default hostname is the id's first 12 hex; -t sets TERM.
    r = run({"--rm", "busybox", "hostname"});
    EXPECT_EQ(r.out.size(), 13u) << r.out;
    r = run({"--rm", "-t", "busybox", "sh", "-c", "echo $TERM"});
    EXPECT_TRUE(has(r.out, "xterm")) << r.out;
}

TEST_F(RunCliTest, ReadOnlyRootAndTmpfs) {
    auto r = run({"--rm", "--read-only", "busybox", "touch", "/x"});
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "Read-only file system")) << r.err;
    r = run({"--rm", "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c",
             "echo ok > /scratch/f && cat /scratch/f && grep ' /scratch ' /proc/mounts"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "ok\ntmpfs /scratch tmpfs")) << r.out;
}

TEST_F(RunCliTest, NetworkNoneHasOnlyLoopback) {
    auto r = run({"--rm", "--network", "none", "busybox", "ls", "/sys/class/net"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "lo\n");
}

TEST_F(RunCliTest, CapabilitiesAndPrivileged) {
    EXPECT_EQ(run({"--rm", "busybox", "chown", "1", "/tmp"}).code, 0);
    auto r = run({"--rm", "--cap-drop", "ALL", "busybox", "chown", "1", "/tmp"});
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "Operation not permitted")) << r.err;
    r = run({"--rm", "--cap-drop", "all", "--cap-add", "chown", "busybox", "chown", "1", "/tmp"});
    EXPECT_EQ(r.code, 0) << r.err;

    // --privileged: every capability the kernel has (the test runs as root
    // with all of them), a warning as Docker's docs give it.
    std::ifstream self("/proc/self/status");
    std::string line, bounding;
    while (std::getline(self, line))
        if (line.rfind("CapBnd:", 0) == 0) bounding = line.substr(line.find_first_not_of(" \t", 7));
    r = run({"--rm", "--privileged", "busybox", "grep", "CapEff", "/proc/self/status"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, bounding)) << r.out << " vs " << bounding;
    EXPECT_TRUE(has(r.err, "--privileged flag with caution")) << r.err;
    r = run({"--rm", "busybox", "grep", "CapEff", "/proc/self/status"});
    EXPECT_TRUE(has(r.out, "00000000a80425fb")) << r.out;  // Docker's default 14
}

TEST_F(RunCliTest, PublishedPortReachesTheContainer) {
    if (!have_tool("pasta")) GTEST_SKIP() << "no pasta (Debian's passt package)";
    // A free port on 127.0.0.1.
    int port = 0;
    {
        UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    const pid_t pid = background({"run", "--rm", "--name", "web", "-p",
                                  fmt::format("127.0.0.1:{}:8080", port), "busybox", "sh", "-c",
                                  "mkdir /www && echo served-from-container > /www/index.html && "
                                  "exec httpd -f -p 8080 -h /www"});
    const std::string answer = http_get(port, "served-from-container");
    EXPECT_TRUE(has(answer, "served-from-container")) << answer;
    // SIGTERM to strata goes to the container (httpd ends), --rm removes it.
    ::kill(pid, SIGTERM);
    EXPECT_EQ(wait_exit(pid), 143);
    EXPECT_TRUE(container_dirs().empty());
}

// `-p 8080` takes a free host port when the container starts: state.json
// records it, and `port`, `ps` and inspect's NetworkSettings.Ports show it
// (HostConfig.PortBindings keeps the flag's empty HostPort), as Docker's.
TEST_F(RunCliTest, AFreeHostPortIsRecordedAndShown) {
    if (!have_tool("pasta")) GTEST_SKIP() << "no pasta (Debian's passt package)";
    auto r = strata(root_, {"run", "-d", "--name", "web", "-p", "8080", "-p", "127.0.0.1::7070",
                            "busybox", "sh", "-c",
                            "mkdir /www && echo free-port > /www/index.html && "
                            "exec httpd -f -p 8080 -h /www"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = strata(root_, {"port", "web"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 2u) << r.out;
    EXPECT_EQ(ls[0].rfind("7070/tcp -> 127.0.0.1:", 0), 0u) << r.out;
    ASSERT_EQ(ls[1].rfind("8080/tcp -> 0.0.0.0:", 0), 0u) << r.out;
    const std::string port = ls[1].substr(std::string("8080/tcp -> 0.0.0.0:").size());
    EXPECT_NE(port, "0");
    EXPECT_EQ(strata(root_, {"port", "web", "8080"}).out, "0.0.0.0:" + port + "\n");
    r = strata(root_, {"container", "port", "web", "9999/udp"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err, "No public port '9999/udp' published for web")) << r.err;
    EXPECT_TRUE(has(strata(root_, {"ps"}).out, "0.0.0.0:" + port + "->8080/tcp"));
    const auto j = nlohmann::json::parse(strata(root_, {"inspect", "web"}).out)[0];
    EXPECT_EQ(j["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"], port);
    EXPECT_EQ(j["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostIp"], "0.0.0.0");
    EXPECT_EQ(j["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostPort"], "");

    const std::string answer = http_get(std::stoi(port), "free-port");
    EXPECT_TRUE(has(answer, "free-port")) << answer;

    EXPECT_EQ(strata(root_, {"stop", "-t", "1", "web"}).code, 0);
    r = strata(root_, {"port", "web"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "") << "a stopped container has no ports";
    EXPECT_EQ(strata(root_, {"rm", "web"}).code, 0);
}

TEST_F(RunCliTest, RmLeavesNothing) {
    EXPECT_EQ(run({"--rm", "-v", "/data", "busybox", "sh", "-c", "echo x > /data/f"}).code, 0);
    EXPECT_TRUE(container_dirs().empty());
    const fs::path volumes = root_ / "volumes";
    if (fs::exists(volumes)) {
        for (const auto& e : fs::directory_iterator(volumes))
            EXPECT_FALSE(fs::exists(e.path() / "volume.json")) << e.path();
    }
}

TEST_F(RunCliTest, StartAttachRunsAgainOnTheKeptLayer) {
    auto r = run({"--name", "keep", "busybox", "sh", "-c", "cat /f 2>/dev/null; echo run >> /f"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    r = strata(root_, {"start", "-a", "keep"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "run\n");
    r = strata(root_, {"start", "-a", "keep"});
    EXPECT_EQ(r.out, "run\nrun\n");
    // create + start -a: the same container, started the first time.
    r = strata(root_, {"create", "--name", "later", "busybox", "echo", "created"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.size(), 65u);
    r = strata(root_, {"start", "-a", "later"});
    EXPECT_EQ(r.out, "created\n");
}

TEST_F(RunCliTest, ExecIntoARunningContainer) {
    const pid_t pid = background({"run", "--name", "box", "-e", "CTR=1", "busybox", "sleep", "60"});
    ASSERT_TRUE(wait_running("box")) << read_file(dir_.path() / "bg-err");
    // top: the host's ps -ef, only the container's processes (docker top).
    auto top = strata(root_, {"top", "box"});
    EXPECT_EQ(top.code, 0) << top.err;
    EXPECT_EQ(top.out.rfind("UID", 0), 0u) << top.out;
    EXPECT_TRUE(has(top.out, "sleep 60")) << top.out;
    EXPECT_FALSE(has(top.out, "strata run")) << "a host process in the list\n" << top.out;
    top = strata(root_, {"container", "top", "box", "-o", "pid,args"});
    EXPECT_EQ(top.out.rfind("PID", 0), 0u) << top.out;
    EXPECT_TRUE(has(top.out, "sleep 60")) << top.out;
    auto r = strata(root_, {"exec", "-e", "EXTRA=2", "box", "sh", "-c",
                            "echo $CTR $EXTRA; ps -o comm | grep -c sleep"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "1 2\n1\n");
    r = strata(root_, {"exec", "-i", "box", "cat"}, "through stdin\n");
    EXPECT_EQ(r.out, "through stdin\n");
    r = strata(root_, {"exec", "box", "sh", "-c", "exit 7"});
    EXPECT_EQ(r.code, 7);
    r = strata(root_, {"exec", "box", "nosuch"});
    EXPECT_EQ(r.code, 127);
    ::kill(pid, SIGTERM);
    EXPECT_EQ(wait_exit(pid), 143);
    r = strata(root_, {"exec", "box", "true"});
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "is not running")) << r.err;
}

// `strata run -it … sh` on a real pseudo-terminal: type, read the screen,
// leave with an exit code.
TEST_F(RunCliTest, InteractiveTerminal) {
    testsupport::PtySession term(
        {STRATA_BINARY, "--root", root_.string(), "run", "-it", "--rm", "busybox", "sh"});
    EXPECT_TRUE(term.read_until("# ", 10s)) << term.screen();
    ASSERT_TRUE(term.type("stty size; tty; echo h$((1+1))i; exit 3\r"));
    EXPECT_TRUE(term.read_until("h2i", 10s)) << term.screen();
    term.read_to_end(2s);
    EXPECT_EQ(term.wait(), 3) << term.screen();
    EXPECT_TRUE(term.holds("30 91")) << term.screen();      // the window size came along
    EXPECT_TRUE(term.holds("/dev/pts/")) << term.screen();  // a terminal of its own
    EXPECT_TRUE(container_dirs().empty());
}

}  // namespace
}  // namespace strata::imagetest
