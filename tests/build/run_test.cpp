// RUN steps for real (the privileged tier: root, namespaces, overlayfs): a
// busybox base image, the command's result as a layer (whiteouts and opaque
// directories included), its user, environment, network, mounts and
// heredocs, failures with the command's output, and nothing left behind —
// no mount, no process — also when strata is killed in the middle of a step.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string_view>
#include <thread>

#include "base/cores.hpp"
#include "build_fixture.hpp"
#include "cache/cache_index.hpp"
#include "executor/run/container_runner.hpp"
#include "frontend/diagnostic.hpp"
#include "support/proc_processes.hpp"

namespace strata::buildtest {
namespace {

class RunTest : public RunBuildTest {
  public:
    void SetUp() override {
        RunBuildTest::SetUp();
        if (IsSkipped()) return;
        use_container_runner();
    }

    // Whether a process runs with exactly this command line.
    static bool process_running(const std::string& cmdline) {
        for (const auto& dir : test_support::process_dirs()) {
            std::string line = test_support::process_cmdline(dir);
            std::replace(line.begin(), line.end(), '\0', ' ');
            if (line == cmdline + " ") return true;
        }
        return false;
    }

    // The names in layer `index` of the image, as its tar lists them.
    std::set<std::string> layer_entries(const executor::BuildResult& r, size_t index) {
        UniqueFd fd = store().content().open(r.image.layers.at(index).digest);
        std::string blob;
        char buf[65536];
        for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
            blob.append(buf, static_cast<size_t>(n));
        std::set<std::string> names;
        for (const auto& [name, entry] : imagetest::tar_entries(blob))
            names.insert(name);
        return names;
    }

    // Lines of /proc/self/mountinfo that mention the store.
    std::vector<std::string> store_mounts() {
        std::ifstream in("/proc/self/mountinfo");
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);)
            if (line.find(root().string()) != std::string::npos) out.push_back(line);
        return out;
    }
};

TEST_F(RunTest, TheCommandsChangesBecomeTheLayer) {
    auto r = build(
        "FROM busybox:latest\n"
        "RUN mkdir -p /app/old && echo one > /app/old/f && echo keep > /app/k\n"
        "RUN rm /bin/vi && rm -rf /app/old && mkdir /app/old && echo two > /app/old/g\n");
    EXPECT_EQ(outcomes(r), "BB");
    const Tree t = rootfs(r);
    expect_file(t, "/app/k", "keep\n", 0644, 0, 0);
    expect_file(t, "/app/old/g", "two\n");
    EXPECT_FALSE(t.count("/app/old/f")) << "an opaque directory hides the old contents";
    EXPECT_FALSE(t.count("/bin/vi")) << "a whiteout deletes it";
    EXPECT_TRUE(t.count("/bin/sh"));
    // The layer has what BuildKit writes: a 0600 whiteout, an opaque marker.
    const auto entries = layer_entries(r, r.image.layers.size() - 1);
    EXPECT_TRUE(entries.count("bin/.wh.vi"));
    EXPECT_TRUE(entries.count("app/old/.wh..wh..opq"));
    EXPECT_FALSE(entries.count("etc/hosts")) << "the mount point stub is not part of the layer";
    EXPECT_TRUE(store_mounts().empty());
}

TEST_F(RunTest, UserEnvironmentWorkdirAndHostname) {
    executor::BuildRequest req = request(
        "FROM busybox:latest\n"
        "RUN echo 'app:x:1000:1000:app:/home/app:/bin/sh' >> /etc/passwd && "
        "echo 'app:x:1000:' >> /etc/group && echo 'extra:x:2000:app' >> /etc/group\n"
        "ARG LEVEL=3\n"
        "ENV GREETING=hi\n"
        "USER app\n"
        "WORKDIR /tmp/work\n"
        "RUN id > /tmp/work/id; env | sort > /tmp/work/env; pwd > /tmp/work/pwd; "
        "hostname > /tmp/work/host; grep CapBnd /proc/self/status > /tmp/work/caps\n");
    req.plan.build_args = {{"http_proxy", "http://127.0.0.1:3128"}};
    const Tree t = rootfs(build(req));
    // As runc: the supplementary groups are the ones /etc/group lists the user
    // in (checked against BuildKit: "Groups: 2000").
    EXPECT_EQ(t.at("/tmp/work/id").data, "uid=1000(app) gid=1000(app) groups=2000(extra)\n");
    const std::string env = t.at("/tmp/work/env").data;
    EXPECT_NE(env.find("GREETING=hi\n"), std::string::npos) << env;
    EXPECT_NE(env.find("LEVEL=3\n"), std::string::npos) << env;
    EXPECT_NE(env.find("HOME=/home/app\n"), std::string::npos) << env;
    EXPECT_NE(env.find("http_proxy=http://127.0.0.1:3128\n"), std::string::npos) << env;
    EXPECT_EQ(t.at("/tmp/work/pwd").data, "/tmp/work\n");
    EXPECT_EQ(t.at("/tmp/work/host").data, "buildkitsandbox\n");
    EXPECT_EQ(t.at("/tmp/work/caps").data, "CapBnd:\t00000000a80425fb\n") << "Docker's default set";
    EXPECT_EQ(t.at("/tmp/work/id").uid, 1000u);
}

TEST_F(RunTest, FailingCommandShowsItsExitCodeAndOutput) {
    dockerfile("FROM busybox:latest\nRUN echo first line; echo to stderr >&2; exit 3\n");
    try {
        build();
        FAIL() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        const auto& d = e.diagnostic();
        EXPECT_EQ(d.pos.line, 2u);
        EXPECT_NE(d.message.find("process \"/bin/sh -c echo first line; echo to stderr >&2; exit "
                                 "3\" did not complete successfully: exit code: 3"),
                  std::string::npos)
            << d.message;
        EXPECT_NE(d.hint.find("first line"), std::string::npos) << d.hint;
        EXPECT_NE(d.hint.find("to stderr"), std::string::npos) << d.hint;
    }
    dockerfile("FROM busybox:latest\nRUN [\"/no/such/program\"]\n");
    try {
        build();
        FAIL();
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(e.diagnostic().message.find("exit code: 127"), std::string::npos)
            << e.diagnostic().message;
    }
    dockerfile("FROM busybox:latest\nUSER ghost\nRUN true\n");
    try {
        build();
        FAIL();
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(e.diagnostic().message.find("unable to find user ghost"), std::string::npos)
            << e.diagnostic().message;
    }
    EXPECT_TRUE(store_mounts().empty());
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

TEST_F(RunTest, NetworkNoneHasOnlyLoopback) {
    const Tree t = rootfs(
        build("FROM busybox:latest\n"
              "RUN --network=none ls /sys/class/net > /net.txt && cat /sys/class/net/lo/operstate "
              ">> /net.txt\n"));
    EXPECT_EQ(t.at("/net.txt").data, "lo\nunknown\n");
}

// A step's upper directory and a writable bind's are scratch (the layer is
// made durable as its blob): their overlays are mounted volatile, so the
// command's fsyncs and the unmount do not write back the store's whole
// filesystem.
TEST_F(RunTest, TheStepsOverlaysAreVolatile) {
    struct utsname u {};
    int major = 0, minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2 ||
        std::make_pair(major, minor) < std::make_pair(5, 10))
        GTEST_SKIP() << "overlayfs has no volatile option before Linux 5.10 (this is " << u.release
                     << ")";
    file("input.txt", "x\n");
    const Tree t = rootfs(
        build("FROM busybox:latest\n"
              "RUN --mount=type=bind,target=/in,rw grep ' / / \\| /in ' /proc/self/mountinfo "
              "> /mounts.txt\n"));
    const std::string mounts = t.at("/mounts.txt").data;
    size_t lines = 0;
    for (size_t pos = 0, nl; (nl = mounts.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        const std::string line = mounts.substr(pos, nl - pos);
        ++lines;
        EXPECT_NE(line.find(" - overlay "), std::string::npos) << line;
        EXPECT_TRUE(line.find(",volatile") != std::string::npos ||
                    line.find("fsync=volatile") != std::string::npos)
            << line;
    }
    EXPECT_EQ(lines, 2u) << mounts;
}

TEST_F(RunTest, MountsBindCacheAndTmpfs) {
    file("input.txt", "from the context\n");
    const std::string df =
        "FROM busybox:latest AS src\n"
        "RUN mkdir /out && echo staged > /out/s\n"
        "FROM busybox:latest\n"
        "RUN --mount=type=bind,source=input.txt,target=/in.txt cp /in.txt /copied && "
        "(echo x > /in.txt 2>/dev/null && echo writable > /rw || echo readonly > /rw)\n"
        "RUN --mount=type=bind,from=src,source=/out,target=/o cat /o/s > /from-stage\n"
        "RUN --mount=type=cache,target=/cache,id=c1 date +%s%N >> /cache/runs && "
        "wc -l < /cache/runs > /runs\n"
        "RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && ls /scratch > /tmpfs\n";
    auto r = build(df);
    Tree t = rootfs(r);
    expect_file(t, "/copied", "from the context\n");
    expect_file(t, "/rw", "readonly\n");
    expect_file(t, "/from-stage", "staged\n");
    EXPECT_EQ(t.at("/runs").data, "1\n");
    EXPECT_FALSE(t.count("/cache/runs")) << "a cache mount is not part of the layer";
    EXPECT_FALSE(t.count("/scratch/t"));
    expect_file(t, "/tmpfs", "t\n");
    EXPECT_FALSE(t.count("/in.txt")) << "the bind mount point stub is not left behind";

    // --no-cache empties the cache mount, as BuildKit prunes it
    // (run_mount_conformance_test.cpp shows it outliving other builds).
    executor::BuildRequest req = request();
    req.plan.no_cache = true;
    t = rootfs(build(req));
    EXPECT_EQ(t.at("/runs").data, "1\n");
    EXPECT_TRUE(store_mounts().empty());
}

// BuildKit mounts the context it transferred, which leaves out what
// .dockerignore excludes: a bind of the context shows the same (strata
// masks the directory with whiteouts), also below a re-included pattern, in
// a source= part of it and in a writable bind; directories keep their modes.
TEST_F(RunTest, ABindOfTheContextShowsWhatItsDockerignoreLetsThrough) {
    file(".dockerignore", ".env\nlogs\n!logs/keep.log\n**/*.tmp\n");
    file(".env", "TOKEN=secret\n");
    file("keep.txt", "k\n");
    file("logs/a.log", "a\n");
    file("logs/keep.log", "kept\n");
    file("src/x", "x\n");
    file("src/y.tmp", "y\n");
    ASSERT_EQ(::chmod((ctx() / "src").c_str(), 0750), 0);
    auto r = build(
        "FROM busybox:latest\n"
        "RUN --mount=type=bind,target=/ctx cd /ctx && find . | sort > /seen && "
        "stat -c %a src > /mode\n"
        "RUN --mount=type=bind,source=src,target=/s ls -a /s > /part\n"
        "RUN --mount=type=bind,target=/ctx,rw cd /ctx && (cat .env logs/a.log 2>/dev/null; "
        "rm keep.txt && ls) > /rw\n");
    Tree t = rootfs(r);
    expect_file(t, "/seen",
                ".\n./.dockerignore\n./Dockerfile\n./keep.txt\n./logs\n./logs/keep.log\n./src\n"
                "./src/x\n");
    expect_file(t, "/mode", "750\n");
    expect_file(t, "/part", ".\n..\nx\n");
    expect_file(t, "/rw", "Dockerfile\nlogs\nsrc\n");
    EXPECT_TRUE(fs::exists(ctx() / "keep.txt")) << "a writable bind's writes are discarded";
    EXPECT_TRUE(store_mounts().empty());
}

TEST_F(RunTest, HeredocsRunAsScripts) {
    const Tree t =
        rootfs(build("FROM busybox:latest\n"
                     "RUN <<EOF\n"
                     "echo one > /h1\n"
                     "echo two >> /h1\n"
                     "EOF\n"
                     "RUN <<EOF\n"
                     "#!/bin/sh\n"
                     "echo shebang > /h2\n"
                     "EOF\n"
                     "RUN cat <<EOT > /h3\n"
                     "inline $HOME\n"
                     "EOT\n"));
    expect_file(t, "/h1", "one\ntwo\n");
    expect_file(t, "/h2", "shebang\n");
    expect_file(t, "/h3", "inline /root\n");
}

TEST_F(RunTest, RunStepsAreCached) {
    dockerfile("FROM busybox:latest\nRUN date +%s%N > /stamp\nRUN cat /stamp > /copy\n");
    auto first = build();
    auto second = build();
    EXPECT_EQ(outcomes(second), "CC");
    EXPECT_EQ(second.image.manifest, first.image.manifest);
    executor::BuildRequest req = request();
    req.plan.build_args = {{"UNUSED", "1"}};
    EXPECT_EQ(outcomes(build(req)), "CC") << "an undeclared build arg reaches no RUN";
}

// A RUN step's layer is written while the next RUN runs, over the step's
// upper directory as its top lower layer (stage_runner.cpp): every step
// sees the one before, whatever comes between, and each layer ends up
// adopted, cached and the same as when written one step at a time.
TEST_F(RunTest, EachRunSeesTheStepBeforeWhileItsLayerIsWritten) {
    file("a.txt", "ctx\n");
    dockerfile(
        "FROM busybox:latest\n"
        "RUN echo 1 > /s1\n"
        "RUN cat /s1 > /s2 && echo 2 >> /s2\n"
        "RUN cat /s2 > /s3 && echo 3 >> /s3 && rm /s1\n"
        "COPY a.txt /a.txt\n"
        "RUN cat /s3 /a.txt > /s4\n"
        "ENV X=y\n"
        "RUN echo $X > /s5\n"
        "WORKDIR /w\n"
        "RUN pwd > /s6 && ls / > /s7\n");
    const auto r = build();
    EXPECT_EQ(outcomes(r), "BBBBBBBB");
    const Tree t = rootfs(r);
    expect_file(t, "/s2", "1\n2\n");
    expect_file(t, "/s3", "1\n2\n3\n");
    expect_file(t, "/s4", "1\n2\n3\nctx\n");
    expect_file(t, "/s5", "y\n");
    expect_file(t, "/s6", "/w\n");
    EXPECT_FALSE(t.count("/s1")) << "deleted by the third step";
    EXPECT_EQ(t.at("/s7").data.find("s1\n"), std::string::npos);
    EXPECT_TRUE(layer_entries(r, 3).count(".wh.s1")) << "the third layer holds the whiteout";
    for (const auto& l : r.image.layers)
        EXPECT_TRUE(store().layers().has(l.diff_id)) << l.diff_id.str() << " was not adopted";
    EXPECT_TRUE(store_mounts().empty());
    EXPECT_TRUE(imagetest::tmp_is_empty(root())) << "no upper, work or scratch directory left";
    const auto again = build();
    EXPECT_EQ(outcomes(again), "CCCCCCCC");
    EXPECT_EQ(again.image.manifest, r.image.manifest);
}

// Independent stages run their containers at the same time (by default:
// one stage per core), each in its own overlay, and a stage reading another
// gets its files as soon as that stage's last RUN has exited. The two RUNs
// meet through a shared cache mount: each waits (up to 20 s) for the
// other's file, so stages built one after the other would say "alone".
TEST_F(RunTest, IndependentStagesRunTheirContainersAtTheSameTime) {
    if (usable_cores() < 2)
        GTEST_SKIP() << "one usable core: --jobs' default builds one stage at a time";
    const std::string meet =
        "i=0; while [ ! -e /c/$OTHER ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; "
        "if [ -e /c/$OTHER ]; then echo met; else echo alone; fi";
    dockerfile(
        "FROM busybox:latest AS a\n"
        "ENV ME=a OTHER=b\n"
        "RUN --mount=type=cache,target=/c,id=meet touch /c/$ME && { " +
        meet +
        "; } > /a\n"
        "FROM busybox:latest AS b\n"
        "ENV ME=b OTHER=a\n"
        "RUN --mount=type=cache,target=/c,id=meet touch /c/$ME && { " +
        meet +
        "; } > /b\n"
        "FROM busybox:latest\n"
        "COPY --from=a /a /from-a\n"
        "COPY --from=b /b /from-b\n"
        "RUN cat /from-a /from-b > /both\n");
    const auto r = build();
    const Tree t = rootfs(r);
    expect_file(t, "/both", "met\nmet\n");
    EXPECT_TRUE(store_mounts().empty());
    EXPECT_TRUE(imagetest::tmp_is_empty(root())) << "no upper, work or scratch directory left";
    for (const auto& l : r.image.layers)
        EXPECT_TRUE(store().layers().has(l.diff_id)) << l.diff_id.str() << " was not adopted";
}

// A stage read before its last RUN's layer is stored is read as that layer
// will be: a file the RUN removed (an overlay whiteout in its directory) is
// gone, and a symlink it made to / stays inside the stage's root.
TEST_F(RunTest, AStageReadBeforeItsLayerIsStoredHidesWhatItsRunRemovedAndStaysInItsRoot) {
    dockerfile(
        "FROM busybox:latest AS a\n"
        "RUN rm /etc/group && ln -s / /escape && echo in-a > /marker\n"
        "FROM busybox:latest\n"
        "COPY --from=a /etc/ /from-a-etc/\n"
        "COPY --from=a /escape/marker /marker\n"
        "RUN --mount=type=bind,from=a,target=/a "
        "{ ls /a/etc/group 2>&1 || true; cat /a/escape/marker; } > /seen\n");
    const auto r = build();
    const Tree t = rootfs(r);
    EXPECT_TRUE(t.count("/from-a-etc/passwd"));
    EXPECT_FALSE(t.count("/from-a-etc/group")) << "removed by a's RUN";
    expect_file(t, "/marker", "in-a\n");
    EXPECT_NE(t.at("/seen").data.find("No such file"), std::string::npos) << t.at("/seen").data;
    EXPECT_NE(t.at("/seen").data.find("in-a\n"), std::string::npos) << t.at("/seen").data;
    EXPECT_TRUE(imagetest::tmp_is_empty(root())) << "no upper, work or scratch directory left";
}

// A rebuilt RUN followed by a step still in the cache (its own entry was
// pruned, the next one's was not): the layers stay in step order, the RUN's
// first although it is still being written when the cached step comes.
TEST_F(RunTest, ACachedStepAfterARebuiltRunKeepsTheLayersInOrder) {
    file("a.txt", "ctx\n");
    dockerfile(
        "FROM busybox:latest\n"
        "RUN echo run > /r\n"
        "COPY a.txt /a.txt\n"
        "RUN echo again > /r2\n");
    const auto first = build();
    ASSERT_EQ(outcomes(first), "BBB");
    cache::CacheIndex(store().cache_dir()).remove(first.steps.at(0).key);
    const auto second = build();
    EXPECT_EQ(outcomes(second), "BCC");
    const size_t n = second.image.layers.size();
    ASSERT_GE(n, 3u);
    EXPECT_TRUE(layer_entries(second, n - 3).count("r")) << "the RUN's layer comes first";
    EXPECT_TRUE(layer_entries(second, n - 2).count("a.txt"));
    EXPECT_TRUE(layer_entries(second, n - 1).count("r2"));
    expect_file(rootfs(second), "/r", "run\n");
}

// The RUN before a failing one keeps its layer and cache entry although its
// layer was still being written when the failure came: a retry starts there.
TEST_F(RunTest, AFailedRunKeepsTheStepBeforeIt) {
    dockerfile("FROM busybox:latest\nRUN date +%s%N > /kept\nRUN exit 4\n");
    try {
        build();
        FAIL() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 3u) << e.diagnostic().message;
    }
    const std::vector<store::Digest> after_failure = store().layers().list();
    dockerfile("FROM busybox:latest\nRUN date +%s%N > /kept\nRUN true\n");
    const auto r = build();
    EXPECT_EQ(outcomes(r), "CB");
    const store::Digest kept = r.image.layers.at(1).diff_id;
    EXPECT_NE(std::find(after_failure.begin(), after_failure.end(), kept), after_failure.end())
        << "the first RUN's directory was adopted by the failed build, not unpacked again";
    EXPECT_TRUE(store_mounts().empty());
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

// A layer that cannot be stored fails the build at its own step, although
// that is found only after the next RUN ran (its blob cannot be renamed
// into an immutable blobs/sha256). The next build stores both.
TEST_F(RunTest, ALayerThatCannotBeStoredIsTheStepsError) {
    if (std::system("command -v chattr >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "needs chattr (e2fsprogs) to make the blob directory immutable";
    dockerfile("FROM busybox:latest\nRUN echo a > /a\nRUN echo b > /b\n");
    const fs::path blobs = root() / "blobs" / "sha256";
    ASSERT_TRUE(fs::is_directory(blobs));
    const std::string lock = "chattr +i '" + blobs.string() + "' 2>/dev/null";
    if (std::system(lock.c_str()) != 0)
        GTEST_SKIP() << "this filesystem has no immutable attribute (chattr +i)";
    struct Unlock {
        std::string cmd;
        ~Unlock() { (void)std::system(cmd.c_str()); }
    } unlock{"chattr -i '" + blobs.string() + "'"};
    try {
        build();
        ADD_FAILURE() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        EXPECT_EQ(e.diagnostic().pos.line, 2u) << e.diagnostic().message;
    }
    (void)std::system(unlock.cmd.c_str());
    EXPECT_TRUE(store_mounts().empty());
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
    const auto r = build();
    EXPECT_EQ(outcomes(r), "BB");
    expect_file(rootfs(r), "/b", "b\n");
}

// Killed in the middle of a RUN (kill -9 of strata itself): the container
// dies with it, no mount stays, nothing is left in TMPDIR (the step has the
// default network: pasta runs for it), and the next build works.
TEST_F(RunTest, KilledBuildLeavesNoProcessesOrMounts) {
    dockerfile("FROM busybox:latest\nRUN touch /started-marker-x9 && sleep 4711\n");
    const fs::path tmpdir = dir_.path() / "tmpdir";
    fs::create_directories(tmpdir);
    std::vector<std::string> env_text = {"TMPDIR=" + tmpdir.string()};
    for (char** e = environ; *e; ++e)
        if (!std::string_view(*e).starts_with("TMPDIR=")) env_text.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_text)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execle(STRATA_BINARY, STRATA_BINARY, "--root", root().c_str(), "build", "-q",
                 ctx().c_str(), static_cast<char*>(nullptr), envp.data());
        _exit(127);
    }
    // strata is killed when the test ends, whatever happens (an early
    // assertion must not leave it running).
    struct KillOnExit {
        pid_t pid;
        ~KillOnExit() {
            if (pid > 0) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
    } guard{pid};
    // Wait until the command runs: the marker in its upper directory, and
    // the sleep started (the shell forks it after the touch; a duration no
    // other test uses, as tests run side by side).
    bool started = false;
    for (int i = 0; i < 1600 && !started; ++i) {  // up to 40 s on a loaded machine
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        bool marker = false;
        for (const auto& e : fs::directory_iterator(root() / "tmp"))
            marker = marker || fs::exists(e.path() / "started-marker-x9");
        started = marker && process_running("sleep 4711");
    }
    ASSERT_TRUE(started) << "the RUN step did not start";
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    guard.pid = -1;
    // The container's sleep goes away with its PID namespace.
    bool sleeping = true;
    for (int i = 0; i < 100 && sleeping; ++i) {
        sleeping = process_running("sleep 4711");
        if (sleeping) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_FALSE(sleeping) << "a process of the killed build is still running";
    EXPECT_TRUE(store_mounts().empty());
    std::string left;
    for (const auto& e : fs::directory_iterator(tmpdir))
        left += e.path().filename().string() + " ";
    EXPECT_EQ(left, "") << "left in TMPDIR by the killed build";
    // The store is fine: the next build runs the step (a shorter one).
    dockerfile("FROM busybox:latest\nRUN echo ok > /ok\n");
    expect_file(rootfs(build()), "/ok", "ok\n");
}

}  // namespace
}  // namespace strata::buildtest
