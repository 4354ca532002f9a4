// The container workflow of issue 14 as an unprivileged user: the strata
// binary run by `strata-rootless` (tests/support/rootless_user.hpp) on a
// busybox image — run, diff, commit and the committed image, export, cp,
// named, anonymous and bind volumes, :ro, --volumes-from, rm -v, run -d with
// logs -f, stop, start, wait, exec (from another strata process: another
// user namespace, joined), a killed monitor and a killed foreground run, -it
// on a real pseudo-terminal, --privileged refused, and the private network
// with a published port. After each test no process of the user (or of its
// subordinate ids) is left, and nothing of its store is mounted.
//
// Also, without root: which command lines enter the rootless namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/process_ref.hpp"
#include "base/unique_fd.hpp"
#include "cli/rootless.hpp"
#include "store/image_fixture.hpp"
#include "support/pty_session.hpp"
#include "support/rootless_user.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using rootlesstest::quoted;

// --- the pieces, no root needed ------------------------------------------------

bool needs_store(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    return cli::command_needs_store(static_cast<int>(args.size()), argv.data());
}

TEST(RootlessContainerCommand, TheContainersOwnFlagsAndRunsHostnameAreNotHelp) {
    // `run -d … httpd -h /www` ran outside the namespace (and hung).
    EXPECT_TRUE(needs_store({"strata", "run", "-d", "busybox", "httpd", "-f", "-h", "/www"}));
    EXPECT_TRUE(needs_store({"strata", "run", "-h", "box", "busybox"}));  // --hostname
    EXPECT_TRUE(needs_store({"strata", "create", "-h", "box", "busybox"}));
    EXPECT_TRUE(
        needs_store({"strata", "container", "run", "-h", "box", "busybox", "ls", "--help"}));
    EXPECT_TRUE(needs_store({"strata", "exec", "ctr", "ls", "--help"}));
    EXPECT_TRUE(needs_store({"strata", "exec", "ctr", "sh", "-h"}));
    EXPECT_FALSE(needs_store({"strata", "run", "--help"}));
    EXPECT_FALSE(needs_store({"strata", "container", "run", "--help"}));
    EXPECT_FALSE(needs_store({"strata", "container", "--help"}));
    EXPECT_FALSE(needs_store({"strata", "exec", "-h"}));
    EXPECT_FALSE(needs_store({"strata", "ps", "-h"}));
    EXPECT_FALSE(needs_store({"strata", "--root", "/x", "build", "-h"}));
}

// --- end to end, as an unprivileged user ----------------------------------------

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

int wait_exit(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class ContainerRootless : public rootlesstest::RootlessFixture {
  protected:
    void SetUp() override {
        RootlessFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        const auto r =
            as_user("import -c 'CMD [\"sh\"]' " + quoted(image_tar().string()) + " busybox");
        ASSERT_EQ(r.code, 0) << r.err;
        // A host directory of the user's, for cp and binds.
        fs::create_directories(host());
        ASSERT_EQ(::chown(host().c_str(), uid_, gid_), 0);
    }

    void TearDown() override {
        if (dir_ && !IsSkipped()) {
            // Nothing left running (a monitor may still be recording an exit)...
            std::map<int, std::string> left;
            eventually([&] { return (left = leftover_processes()).empty(); });
            std::string names;
            for (const auto& [pid, cmd] : left)
                names += std::to_string(pid) + " " + cmd + "\n";
            EXPECT_TRUE(left.empty()) << names;
            // ... and nothing of the store mounted.
            const auto m = rootlesstest::shell("grep -c " + quoted(store_dir().string()) +
                                               " /proc/self/mountinfo");
            EXPECT_EQ(m.text, "0\n");
        }
        RootlessFixture::TearDown();
    }

    fs::path host() const { return dir_->path() / "host"; }

    // strata as the user: stdout and stderr apart.
    imagetest::RunResult as_user(const std::string& args, const std::string& input = {}) const {
        return imagetest::run({"/bin/sh", "-c", command(args)}, input);
    }
    // Expected to succeed: its stdout.
    std::string ok(const std::string& args) {
        const auto r = as_user(args);
        EXPECT_EQ(r.code, 0) << "strata " << args << ": " << r.err;
        return r.out;
    }
    std::string container_id(const std::string& name) {
        std::string id = ok("inspect -f '{{.Id}}' " + name);
        while (!id.empty() && id.back() == '\n')
            id.pop_back();
        return id;
    }
    nlohmann::json state(const std::string& name) {
        const auto r = as_user("inspect --type container " + name);
        if (r.code != 0) return nlohmann::json::object();
        return nlohmann::json::parse(r.out).at(0).at("State");
    }

    // `tar tv` (numeric owners) of the top layer of `image`, through save.
    std::string top_layer_listing(const std::string& image) {
        const fs::path archive = host() / "saved.tar";
        ok("save -o " + quoted(archive.string()) + " " + image);
        const auto manifest =
            rootlesstest::shell("tar -xOf " + quoted(archive.string()) + " manifest.json");
        EXPECT_EQ(manifest.status, 0) << manifest.text;
        const auto layers = nlohmann::json::parse(manifest.text).at(0).at("Layers");
        const auto l = rootlesstest::shell("tar -xOf " + quoted(archive.string()) + " " +
                                           layers.back().get<std::string>() +
                                           " | tar -tvz --numeric-owner -f -");
        EXPECT_EQ(l.status, 0) << l.text;
        fs::remove(archive);
        return l.text;
    }

    // The uid map inside, as `cat /proc/self/uid_map | tr -s ' \n' ,` prints it.
    std::string expected_map() const {
        return fmt::format(",0,{},1,1,{},{},", uid_, sub_start_, sub_count_);
    }

    void host_file(const std::string& name, const std::string& content) {
        imagetest::write_file(host() / name, content);
        ASSERT_EQ(::chown((host() / name).c_str(), uid_, gid_), 0);
    }
};

// (Double quotes: it goes inside a single-quoted sh -c script.)
constexpr const char* kMap = "cat /proc/self/uid_map | tr -s \" \\n\" ,";

TEST_F(ContainerRootless, ChangesDiffCommitAndTheCommittedImage) {
    auto r = as_user(std::string("run --name work --network none busybox sh -c '") +
                     "echo hi > /new.txt && chown 1000:1000 /new.txt && rmdir /home && "
                     "echo x >> /etc/passwd && mkdir -p /data/sub && id -u && " +
                     kMap + "'");
    ASSERT_EQ(r.code, 0) << r.err;
    // Root in the container is the user; 1 and up its subordinate ids.
    EXPECT_EQ(r.out, "0\n" + expected_map()) << r.err;

    EXPECT_EQ(ok("diff work"),
              "A /data\n"
              "A /data/sub\n"
              "C /etc\n"
              "C /etc/passwd\n"
              "D /home\n"
              "A /new.txt\n");
    // On the host the upper directory holds the change, owned by the
    // subordinate id that is 1000 inside.
    struct stat st {};
    const fs::path upper = store_dir() / "containers" / container_id("work") / "upper";
    ASSERT_EQ(::lstat((upper / "new.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, sub_start_ + 999);

    r = as_user(
        "commit -m 'added new.txt' -a 'Jane <jane@example.com>' -c 'CMD [\"cat\", \"/new.txt\"]' "
        "work committed:v1");
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(r.out.size(), 72u) << r.out;
    const auto img = nlohmann::json::parse(ok("inspect committed:v1")).at(0);
    EXPECT_EQ(img["Id"], r.out.substr(0, 71));
    EXPECT_EQ(img["Config"]["Cmd"], nlohmann::json::array({"cat", "/new.txt"}));
    EXPECT_EQ(img["Author"], "Jane <jane@example.com>");
    EXPECT_EQ(img["Comment"], "added new.txt");
    EXPECT_EQ(img["RootFS"]["Layers"].size(), 2u);
    EXPECT_TRUE(has(ok("history committed:v1"), "added new.txt"));
    // The layer: the container's owners, a whiteout for the deleted dir.
    const std::string layer = top_layer_listing("committed:v1");
    EXPECT_TRUE(has(rootlesstest::listing_entry(layer, "new.txt"), " 1000/1000 ")) << layer;
    EXPECT_NE(rootlesstest::listing_entry(layer, ".wh.home"), "") << layer;
    EXPECT_NE(rootlesstest::listing_entry(layer, "etc/passwd"), "") << layer;
    EXPECT_EQ(rootlesstest::listing_entry(layer, "bin/busybox"), "") << layer;

    // The committed image runs with the change.
    r = as_user("run --rm --network none committed:v1");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "hi\n");
    r = as_user("run --rm --network none committed:v1 sh -c 'stat -c %u:%g /new.txt; ls -d /home'");
    EXPECT_EQ(r.out, "1000:1000\n");
    EXPECT_NE(r.code, 0) << "the deleted directory is gone";

    // export: the merged filesystem, no whiteouts.
    const auto exported = as_user("export work");
    ASSERT_EQ(exported.code, 0) << exported.err;
    auto entries = imagetest::tar_entries(exported.out);
    EXPECT_EQ(entries["new.txt"], "hi\n");
    EXPECT_EQ(entries.count("home/"), 0u);
    EXPECT_EQ(entries.count("home"), 0u);
    EXPECT_TRUE(entries.count("bin/busybox"));
    for (const auto& [name, _] : entries)
        EXPECT_FALSE(has(name, ".wh.")) << name;

    // cp, the container stopped: both ways.
    ok("cp work:/new.txt " + quoted(host().string()));
    EXPECT_EQ(imagetest::read_file(host() / "new.txt"), "hi\n");
    host_file("added.conf", "k=v\n");
    ok("cp " + quoted((host() / "added.conf").string()) + " work:/etc/");
    EXPECT_TRUE(has(ok("diff work"), "A /etc/added.conf\n"));

    ok("rm work");
    EXPECT_FALSE(fs::exists(upper));
}

TEST_F(ContainerRootless, VolumesNamedAnonymousBindReadOnlyAndVolumesFrom) {
    ok("volume create data");
    auto r = as_user(
        "run --name v1 --network none -v data:/data busybox sh -c "
        "'echo kept > /data/f && echo layer > /outside'");
    ASSERT_EQ(r.code, 0) << r.err;
    // The volume is beside the container, never in its layer or a commit.
    EXPECT_EQ(ok("diff v1"), "A /outside\n");
    ok("commit v1 v1img");
    const std::string layer = top_layer_listing("v1img");
    EXPECT_NE(rootlesstest::listing_entry(layer, "outside"), "") << layer;
    EXPECT_FALSE(has(layer, "data/f")) << layer;
    struct stat st {};
    ASSERT_EQ(::stat((store_dir() / "volumes/data/_data/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid_);  // the container's root

    // It outlives its container and is seen by the next; :ro refuses writes.
    ok("rm v1");
    EXPECT_TRUE(has(ok("volume ls -q"), "data\n"));
    EXPECT_EQ(ok("run --rm --network none -v data:/data:ro busybox cat /data/f"), "kept\n");
    r = as_user("run --rm --network none -v data:/data:ro busybox sh -c 'echo no > /data/f'");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "Read-only file system")) << r.err;

    // --volumes-from: the named and an anonymous volume, and :ro.
    r = as_user(
        "run --name src --network none -v data:/data -v /anon busybox sh -c "
        "'echo a > /anon/a'");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(ok("run --rm --network none --volumes-from src busybox cat /data/f /anon/a"),
              "kept\na\n");
    r = as_user("run --rm --network none --volumes-from src:ro busybox sh -c 'echo no > /anon/a'");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "Read-only file system")) << r.err;

    // An image's VOLUME: an anonymous volume, removed with rm -v.
    ok("commit -c 'VOLUME /cache' src volimg");
    ok("run --name av --network none volimg sh -c 'echo c > /cache/c'");
    const auto mounts = nlohmann::json::parse(ok("inspect -f '{{json .Mounts}}' av"));
    std::string anon;
    for (const auto& m : mounts)
        if (m.value("Destination", "") == "/cache") anon = m.value("Name", "");
    ASSERT_EQ(anon.size(), 64u) << mounts.dump();
    EXPECT_TRUE(has(ok("volume ls -q"), anon + "\n"));
    EXPECT_EQ(imagetest::read_file(store_dir() / "volumes" / anon / "_data/c"), "c\n");
    EXPECT_EQ(ok("diff av"), "");
    ok("commit av avimg");
    EXPECT_FALSE(has(top_layer_listing("avimg"), "cache/c"));
    ok("rm -v av");
    EXPECT_FALSE(has(ok("volume ls -q"), anon));
    EXPECT_FALSE(fs::exists(store_dir() / "volumes" / anon));
    ok("rm -v src");
    EXPECT_EQ(ok("volume ls -q"), "data\n");

    // A bind mount of the user's directory: the container's root writes as the user.
    fs::create_directories(host() / "b");
    ASSERT_EQ(::chown((host() / "b").c_str(), uid_, gid_), 0);
    ok("run --rm --network none -v " + quoted((host() / "b").string()) +
       ":/b busybox sh -c 'echo b > /b/x'");
    ASSERT_EQ(::stat((host() / "b/x").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid_);
    EXPECT_EQ(imagetest::read_file(host() / "b/x"), "b\n");
    r = as_user("run --rm --network none -v " + quoted((host() / "b").string()) +
                ":/b:ro busybox sh -c 'echo no > /b/x'");
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(imagetest::read_file(host() / "b/x"), "b\n");
}

TEST_F(ContainerRootless, DetachedLogsStopStartWaitAndExecFromAnotherStrata) {
    const std::string id =
        ok("run -d --network none --name bg busybox sh -c "
           "'trap \"echo got-term; exit 3\" TERM; echo started; while :; do sleep 0.1; done'");
    ASSERT_EQ(id.size(), 65u) << id;
    EXPECT_TRUE(eventually([&] { return has(ok("logs bg"), "started\n"); }));
    EXPECT_TRUE(has(ok("ps"), " bg\n"));
    const int init = state("bg").value("Pid", 0);
    ASSERT_GT(init, 0);

    // exec: each strata command makes a user namespace of its own; this one
    // joins the container's (the same map), then its PID namespace.
    auto r = as_user(std::string("exec bg sh -c '") + kMap + "; echo; cat /proc/1/cmdline'");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, expected_map() + "\n")) << r.out;
    EXPECT_TRUE(has(r.out, "strata-init")) << r.out;
    EXPECT_EQ(as_user("exec bg sh -c 'exit 7'").code, 7);
    r = as_user("exec bg nosuch");
    EXPECT_EQ(r.code, 127);
    EXPECT_TRUE(has(r.err, "executable file not found")) << r.err;
    EXPECT_EQ(ok("exec -u nobody -w /tmp -e X=1 bg sh -c 'echo $(id -u) $(pwd) $X'"),
              "65534 /tmp 1\n");
    ok("exec -d bg sh -c 'echo detached > /tmp/execd'");
    EXPECT_TRUE(eventually([&] { return as_user("exec bg cat /tmp/execd").out == "detached\n"; }));

    // cp in and out of the running container (through its namespaces).
    host_file("hello", "hello\n");
    ok("cp " + quoted((host() / "hello").string()) + " bg:/tmp/");
    EXPECT_EQ(ok("exec bg cat /tmp/hello"), "hello\n");
    r = as_user("cp bg:/tmp/hello -");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(imagetest::tar_entries(r.out)["hello"], "hello\n");
    EXPECT_TRUE(has(ok("diff bg"), "A /tmp/hello\n"));
    // commit while it runs (no cgroup to freeze rootless), and it runs on.
    ok("commit bg bgimg");
    EXPECT_EQ(ok("run --rm --network none bgimg cat /tmp/hello"), "hello\n");

    // logs -f follows until stop ends it; the trap's exit code is kept.
    const fs::path follow = host() / "follow.log";
    const pid_t logs = ::fork();
    ASSERT_GE(logs, 0);
    if (logs == 0) {
        const std::string cmd = command("logs -f bg") + " >" + quoted(follow.string()) + " 2>&1";
        ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    EXPECT_TRUE(eventually(
        [&] { return fs::exists(follow) && has(imagetest::read_file(follow), "started"); }));
    EXPECT_EQ(ok("stop -t 5 bg"), "bg\n");
    EXPECT_EQ(wait_exit(logs), 0);
    EXPECT_TRUE(has(imagetest::read_file(follow), "got-term\n")) << imagetest::read_file(follow);
    EXPECT_EQ(ok("wait bg"), "3\n");
    EXPECT_TRUE(has(ok("ps -a"), "Exited (3)"));
    EXPECT_FALSE(process_alive(init, 0));
    r = as_user("exec bg true");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "is not running")) << r.err;

    // start: again on its upper directory, under a new monitor (and another
    // user namespace), where exec still finds it.
    EXPECT_EQ(ok("start bg"), "bg\n");
    EXPECT_EQ(state("bg").value("Status", ""), "running");
    EXPECT_EQ(ok("exec bg cat /tmp/hello"), "hello\n");

    // kill -9 of its monitor (the init's parent): the container goes too.
    const int init2 = state("bg").value("Pid", 0);
    ASSERT_GT(init2, 0);
    std::ifstream stat("/proc/" + std::to_string(init2) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string letter;
    int monitor = 0;
    fields >> letter >> monitor;
    ASSERT_GT(monitor, 1);
    EXPECT_TRUE(has(rootlesstest::processes_of(uid_, uid_ + 1)[monitor], "container-monitor"));
    ASSERT_EQ(::kill(monitor, SIGKILL), 0);
    EXPECT_TRUE(eventually([&] { return !process_alive(init2, 0); }));
    EXPECT_TRUE(has(ok("ps -a"), "Exited (unknown)"));
    ok("rm -f bg");
    EXPECT_FALSE(fs::exists(store_dir() / "containers" / id.substr(0, 64)));
}

TEST_F(ContainerRootless, RmForceOfARunningContainerAndAKilledForegroundRun) {
    ok("run -d --network none --name doomed busybox sleep 300");
    const int init = state("doomed").value("Pid", 0);
    ASSERT_GT(init, 0);
    EXPECT_EQ(ok("rm -f doomed"), "doomed\n");
    EXPECT_TRUE(eventually([&] { return !process_alive(init, 0); }));

    // kill -9 of the strata outside the namespace: the one inside, its
    // container's init and the command follow it.
    const pid_t sh = ::fork();
    ASSERT_GE(sh, 0);
    if (sh == 0) {
        const std::string cmd =
            command("run --name fg --network none busybox sleep 321") + " >/dev/null 2>&1";
        ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    auto find = [&](const std::string& what) {
        for (const auto& [pid, c] : leftover_processes())
            if (c.find(what) == 0) return pid;
        return 0;
    };
    ASSERT_TRUE(eventually([&] { return find("sleep 321") != 0; }));
    pid_t outer = 0;
    for (const auto& [pid, c] : rootlesstest::processes_of(uid_, uid_ + 1))
        if (c.find((bin() / "strata").string() + " run") == 0 && (!outer || pid < outer))
            outer = pid;
    ASSERT_NE(outer, 0);
    ASSERT_EQ(::kill(outer, SIGKILL), 0);
    wait_exit(sh);
    EXPECT_TRUE(eventually([&] { return leftover_processes().empty(); }));
    EXPECT_EQ(state("fg").value("Status", ""), "exited");
    EXPECT_TRUE(has(ok("ps -a"), "Exited (unknown)"));
    ok("rm fg");
}

// run -it and exec -it on a real pseudo-terminal: type, read the screen,
// leave with an exit code.
TEST_F(ContainerRootless, InteractiveTerminal) {
    auto session = [&](const std::string& args, const std::string& typed, int code,
                       const std::string& expect) {
        testsupport::PtySession term({"/bin/sh", "-c", command(args)});
        EXPECT_TRUE(term.read_until("# ", 10s)) << term.screen();
        ASSERT_TRUE(term.type(typed));
        EXPECT_TRUE(term.read_until(expect, 10s)) << term.screen();
        term.read_to_end(2s);
        EXPECT_EQ(term.wait(), code) << term.screen();
        EXPECT_TRUE(term.holds("30 91")) << term.screen();      // the window size came along
        EXPECT_TRUE(term.holds("/dev/pts/")) << term.screen();  // a terminal of its own
    };
    session("run -it --rm --network none busybox sh", "stty size; tty; echo h$((1+1))i; exit 3\r",
            3, "h2i");
    ok("run -d --network none --name term busybox sleep 300");
    session("exec -it term sh", "stty size; tty; echo e$((2+3))x; exit 4\r", 4, "e5x");
    ok("rm -f term");
}

TEST_F(ContainerRootless, PrivilegedIsRefused) {
    const auto r = as_user("run --rm --network none --privileged busybox true");
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "--privileged is allowed only when strata runs as root")) << r.err;
    EXPECT_EQ(ok("ps -aq"), "");
}

// The default network is pasta's. It needs /dev/net/tun, which some systems
// keep 0600: then the error says what to do; and in a mount namespace of the
// test's own where a 0666 node is bound over it, a published port answers.
TEST_F(ContainerRootless, PrivateNetworkAndAPublishedPort) {
    if (!rootlesstest::executable("/usr/bin/pasta"))
        GTEST_SKIP() << "pasta is missing (apt-get install passt)";
    auto r = as_user("run --rm busybox sh -c 'ls /sys/class/net | tr \"\\n\" \" \"'");
    if (r.code == 0) {
        EXPECT_TRUE(has(r.out, "lo ")) << r.out;
    } else {
        EXPECT_TRUE(has(r.err, "/dev/net/tun")) << r.err;
        EXPECT_TRUE(has(r.err, "--network=host")) << r.err;
    }
    if (!rootlesstest::executable("/usr/bin/unshare"))
        GTEST_SKIP() << "unshare is missing (util-linux)";

    // A free port on 127.0.0.1.
    int port = 0;
    {
        UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ASSERT_EQ(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
        port = ntohs(a.sin_port);
    }
    const fs::path tun = dir_->path() / "tun";
    ASSERT_EQ(::mknod(tun.c_str(), S_IFCHR | 0666, makedev(10, 200)), 0);
    ASSERT_EQ(::chmod(tun.c_str(), 0666), 0);
    // httpd's own -h: once taken for strata's --help, which left run -d
    // outside the namespace, where it hung (hence the timeout).
    const std::string run = command(
        fmt::format("run -d --name web -p 127.0.0.1:{}:80 busybox httpd -f -p 80 -h /etc", port));
    r = imagetest::run({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                        "mount --bind " + quoted(tun.string()) +
                            " /dev/net/tun && timeout 60 /bin/sh -c " + quoted(run)});
    ASSERT_EQ(r.code, 0) << r.err;
    auto get = [&] {
        UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            return std::string();
        const std::string req = "GET /passwd HTTP/1.0\r\n\r\n";
        if (::write(s.get(), req.data(), req.size()) != static_cast<ssize_t>(req.size()))
            return std::string();
        std::string resp;
        char buf[4096];
        for (ssize_t n; (n = ::read(s.get(), buf, sizeof buf)) > 0;)
            resp.append(buf, static_cast<size_t>(n));
        return resp;
    };
    std::string resp;
    EXPECT_TRUE(eventually([&] { return has(resp = get(), "root:x:0:0"); })) << resp;
    EXPECT_TRUE(has(resp, "200 OK")) << resp;
    r = as_user("exec web sh -c 'ip -4 addr show eth0'");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "inet ")) << r.out;
    ok("rm -f web");
    EXPECT_TRUE(eventually([&] { return get().empty(); }));  // the port is closed again
}

}  // namespace
}  // namespace strata
