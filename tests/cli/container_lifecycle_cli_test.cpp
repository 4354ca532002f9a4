// Detached containers end to end, as root on the busybox image: `run -d`
// under its monitor, `logs [-f] [--tail]`, `stop` (the StopSignal, then
// SIGKILL), `kill -s`, `wait`, `restart`, and what is left when the monitor
// or a foreground `strata run` is killed with SIGKILL: `ps -a` says
// "Exited (unknown)", `rm -f` works, and no process or mount remains.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/process_ref.hpp"
#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

using namespace std::chrono_literals;

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

class LifecycleCliTest : public CliTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "containers need root here";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "no /bin/busybox for the test image";
        CliTest::SetUp();
    }

    std::string detached(std::vector<std::string> args) {
        args.insert(args.begin(), {"run", "-d"});
        auto r = strata(root_, args);
        EXPECT_EQ(r.code, 0) << r.err;
        return trim(r.out);
    }

    nlohmann::json state(const std::string& ctr) {
        auto r = strata(root_, {"inspect", "--type", "container", ctr});
        EXPECT_EQ(r.code, 0) << r.err;
        return nlohmann::json::parse(r.out).at(0).at("State");
    }

    // Polls `pred` for up to 20 s.
    template <typename F>
    bool eventually(F pred) {
        for (int i = 0; i < 400; ++i) {
            if (pred()) return true;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }

    // Nothing of the container is mounted anywhere on the host.
    void expect_no_mounts(const std::string& id) {
        std::ifstream in("/proc/self/mountinfo");
        std::string line;
        while (std::getline(in, line)) {
            EXPECT_FALSE(has(line, id)) << line;
            EXPECT_FALSE(has(line, root_.string())) << line;
        }
    }
};

TEST_F(LifecycleCliTest, DetachedLogsStopWait) {
    const std::string id = detached(
        {"--name", "web", "busybox", "sh", "-c",
         "echo started; echo oops >&2; trap 'echo got term; exit 7' TERM; while :; do sleep "
         "0.1; done"});
    ASSERT_EQ(id.size(), 64u);
    // stdout and stderr are copied into the log each on its own: wait for both.
    EXPECT_TRUE(eventually([&] {
        const auto l = strata(root_, {"logs", "web"});
        return has(l.out, "started") && has(l.err, "oops");
    }));
    auto logs = strata(root_, {"logs", "web"});
    EXPECT_EQ(logs.out, "started\n");
    EXPECT_EQ(logs.err, "oops\n");  // stderr stays stderr
    EXPECT_TRUE(has(strata(root_, {"ps"}).out, "web"));
    EXPECT_EQ(state("web").at("Status"), "running");

    // logs -f follows until the container ends; stop sends SIGTERM first.
    RunResult follow;
    std::jthread follower([&] { follow = strata(root_, {"logs", "-f", "--tail", "2", "web"}); });
    std::this_thread::sleep_for(300ms);
    auto stop = strata(root_, {"stop", "web"});
    follower.join();
    EXPECT_EQ(stop.code, 0) << stop.err;
    EXPECT_EQ(stop.out, "web\n");
    EXPECT_EQ(follow.code, 0) << follow.err;
    EXPECT_EQ(follow.out, "started\ngot term\n");
    auto st = state("web");
    EXPECT_EQ(st.at("Status"), "exited");
    EXPECT_EQ(st.at("ExitCode"), 7);
    EXPECT_EQ(trim(strata(root_, {"wait", "web"}).out), "7");
    EXPECT_EQ(trim(strata(root_, {"container", "wait", "web"}).out), "7");  // Docker's other name
    EXPECT_EQ(strata(root_, {"container", "logs", "web"}).out, "started\ngot term\n");
    EXPECT_TRUE(has(strata(root_, {"ps", "-a"}).out, "Exited (7)"));
    EXPECT_FALSE(has(strata(root_, {"ps"}).out, "web"));
    EXPECT_EQ(trim(strata(root_, {"logs", "-n", "1", "web"}).out), "got term");
}

// A container holds its image as in Docker: `rmi` refuses it (forced by
// name, the name goes and the image stays for the container), and neither
// rmi nor prune frees its layers. Before, `rmi` deleted the image and its
// layers under a running container, whose /bin was then gone.
TEST_F(LifecycleCliTest, AnImageAContainerUsesStaysForIt) {
    auto built = strata(root_, {"build", "-q", "-t", "app", "-"}, "FROM busybox\nLABEL held=1\n");
    ASSERT_EQ(built.code, 0) << built.err;
    const std::string image = trim(built.out).substr(7, 12);
    const std::string ctr =
        detached({"--name", "held", "--network", "none", "app", "sleep", "600"});
    ASSERT_EQ(ctr.size(), 64u);

    auto r = strata(root_, {"rmi", "app"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err,
                    "conflict: unable to remove repository reference \"app\" (must force) "
                    "- container " +
                        ctr.substr(0, 12) + " is using its referenced image " + image))
        << r.err;
    r = strata(root_, {"rmi", "-f", image});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err, "(cannot be forced) - image is being used by running container " +
                               ctr.substr(0, 12)))
        << r.err;
    r = strata(root_, {"rmi", "-f", "app"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "Untagged: app:latest\n");
    EXPECT_EQ(strata(root_, {"prune", "--dangling"}).code, 0);
    EXPECT_TRUE(has(strata(root_, {"images"}).out, image)) << "kept, nameless";
    r = strata(root_, {"exec", "held", "cat", "/etc/passwd"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "root:")) << r.out;

    ASSERT_EQ(strata(root_, {"rm", "-f", "held"}).code, 0);
    r = strata(root_, {"prune", "--dangling"});
    EXPECT_TRUE(has(r.out, "Deleted image: sha256:" + image)) << r.out;
    EXPECT_FALSE(has(strata(root_, {"images"}).out, image));
}

TEST_F(LifecycleCliTest, DetachedCommandThatCannotRunFailsTheRun) {
    // As docker run -d: the error and 127/126, not an ID.
    auto missing = strata(root_, {"run", "-d", "--name", "nosuch", "busybox", "nosuch"});
    EXPECT_EQ(missing.code, 127) << missing.err;
    EXPECT_EQ(missing.out, "");
    EXPECT_TRUE(has(missing.err, "executable file not found in $PATH")) << missing.err;
    EXPECT_EQ(state("nosuch").at("ExitCode"), 127);
    auto not_exec = strata(root_, {"run", "-d", "busybox", "/etc/passwd"});
    EXPECT_EQ(not_exec.code, 126) << not_exec.err;
    EXPECT_TRUE(has(not_exec.err, "permission denied")) << not_exec.err;
}

TEST_F(LifecycleCliTest, StopKillsWhatIgnoresTheSignalAndKillSendsOne) {
    detached({"--name", "stubborn", "busybox", "sh", "-c",
              "trap '' TERM; trap 'echo usr1' USR1; echo ready; while :; do sleep 0.1; done"});
    ASSERT_TRUE(eventually([&] { return has(strata(root_, {"logs", "stubborn"}).out, "ready"); }));
    auto k = strata(root_, {"kill", "-s", "USR1", "stubborn"});
    EXPECT_EQ(k.code, 0) << k.err;
    EXPECT_TRUE(eventually([&] { return has(strata(root_, {"logs", "stubborn"}).out, "usr1"); }));
    const auto t0 = std::chrono::steady_clock::now();
    auto stop = strata(root_, {"stop", "-t", "1", "stubborn"});
    EXPECT_EQ(stop.code, 0) << stop.err;
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);  // waited for the timeout
    EXPECT_EQ(state("stubborn").at("ExitCode"), 137);         // then SIGKILL
    auto again = strata(root_, {"kill", "stubborn"});
    EXPECT_EQ(again.code, 1);
    EXPECT_TRUE(has(again.err, "is not running")) << again.err;
    auto bad = strata(root_, {"kill", "-s", "NOPE", "stubborn"});
    EXPECT_NE(bad.code, 0);
    EXPECT_TRUE(has(bad.err, "invalid signal")) << bad.err;
}

TEST_F(LifecycleCliTest, RestartRunsAgainOnTheSameUpperDirectory) {
    detached({"--name", "counter", "busybox", "sh", "-c",
              "echo x >> /count; wc -l < /count; while :; do sleep 0.1; done"});
    ASSERT_TRUE(eventually([&] { return has(strata(root_, {"logs", "counter"}).out, "1"); }));
    auto r = strata(root_, {"restart", "-t", "0", "counter"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(eventually([&] { return has(strata(root_, {"logs", "counter"}).out, "2"); }));
    EXPECT_EQ(state("counter").at("Status"), "running");
    EXPECT_EQ(strata(root_, {"rm", "-f", "counter"}).code, 0);
}

TEST_F(LifecycleCliTest, KilledMonitorLeavesNothingBehind) {
    const std::string id =
        detached({"--name", "orphan", "busybox", "sh", "-c", "while :; do sleep 0.1; done"});
    auto st = state("orphan");
    ASSERT_EQ(st.at("Status"), "running");
    const int init_pid = st.at("Pid");
    ASSERT_GT(init_pid, 0);
    // The monitor is the init's parent.
    std::ifstream stat("/proc/" + std::to_string(init_pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string state_letter;
    int monitor = 0;
    fields >> state_letter >> monitor;
    ASSERT_GT(monitor, 1);
    const auto init = ProcessRef::of(init_pid);
    ASSERT_TRUE(init);
    ASSERT_EQ(::kill(monitor, SIGKILL), 0);
    EXPECT_TRUE(init->wait_gone(std::chrono::seconds(10)));  // the container goes with it
    auto ps = strata(root_, {"ps", "-a"});
    EXPECT_TRUE(has(ps.out, "Exited (unknown)")) << ps.out;
    EXPECT_EQ(state("orphan").at("Status"), "exited");
    auto rm = strata(root_, {"rm", "-f", "orphan"});
    EXPECT_EQ(rm.code, 0) << rm.err;
    EXPECT_FALSE(fs::exists(root_ / "containers" / id));
    expect_no_mounts(id);
}

TEST_F(LifecycleCliTest, KilledForegroundRunLeavesNothingBehind) {
    const std::vector<std::string> args = {
        STRATA_BINARY, "--root",  root_.string(), "run", "--name",
        "fg",          "busybox", "sh",           "-c",  "while :; do sleep 0.1; done"};
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int init_pid = 0;
    ASSERT_TRUE(eventually([&] {
        auto r = strata(root_, {"inspect", "--type", "container", "fg"});
        if (r.code != 0) return false;
        init_pid = nlohmann::json::parse(r.out).at(0).at("State").value("Pid", 0);
        return init_pid > 0;
    }));
    const auto init = ProcessRef::of(init_pid);
    ASSERT_TRUE(init);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    ::waitpid(child, nullptr, 0);
    EXPECT_TRUE(init->wait_gone(std::chrono::seconds(10)));
    EXPECT_TRUE(has(strata(root_, {"ps", "-a"}).out, "Exited (unknown)"));
    auto rm = strata(root_, {"rm", "fg"});
    EXPECT_EQ(rm.code, 0) << rm.err;
    expect_no_mounts("fg");
}

}  // namespace
}  // namespace strata::imagetest
