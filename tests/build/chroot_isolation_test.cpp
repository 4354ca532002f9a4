// Chroot isolation (--isolation=chroot, and the fallback of auto): RUN steps
// in a chroot over a private copy of the layers, the layer computed by a
// diff. The same Dockerfile built with the sandbox (overlay) and with chroot
// isolation gives the same layers (same diffIDs: SOURCE_DATE_EPOCH clamps
// the times the two runs cannot share); a failing step fails the same way;
// and the strata binary started without CAP_SYS_ADMIN (as in an
// unprivileged pod: no namespaces, no mounts) falls back with one warning,
// or fails with a clear error when the sandbox is asked for.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <fstream>

#include <linux/capability.h>

#include "build_fixture.hpp"
#include "executor/run/container_runner.hpp"
#include "frontend/diagnostic.hpp"
#include "support/proc_processes.hpp"

namespace strata::buildtest {
namespace {

class ChrootIsolation : public BuildTest {
  public:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "RUN containers need root";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "needs busybox-static (/bin/busybox)";
        BuildTest::SetUp();
        busybox_tar_ = imagetest::read_file(imagetest::make_busybox_rootfs(dir_.path() / "bb"));
        import("busybox:latest", busybox_tar_);
    }

    std::unique_ptr<executor::ContainerRunner> runner(sandbox::IsolationMode mode) {
        executor::RunnerOptions o;
        o.isolation = mode;
        o.network = "none";
        return std::make_unique<executor::ContainerRunner>(STRATA_INIT, o);
    }

    std::string busybox_tar_;
};

// Every kind of change a step can make, over two RUN steps so that the
// second one changes and deletes what is in a lower layer.
constexpr const char* kChanges =
    "FROM busybox:latest\n"
    "RUN mkdir -p /d/sub /gone /emptydir /replaced && echo a > /d/sub/f && echo b > /d/keep "
    "&& echo c > /gone/x && echo m > /mod && ln -s /mod /link && echo r > /replaced/old "
    "&& echo same > /same && echo f > /file-to-dir\n"
    "RUN echo more >> /mod && rm /d/sub/f && rm -rf /gone && chmod 600 /d/keep "
    "&& chown 1000:50 /mod && chown -h 7:7 /link && ln -sf /d /link2 && mkdir /newempty "
    "&& rm -rf /replaced && mkdir /replaced && echo n > /replaced/new "
    "&& rm /file-to-dir && mkdir /file-to-dir && rm /etc/motd && chmod 4755 /d/keep "
    "&& cat /same > /dev/null && mkdir /tmp/t && rmdir /tmp/t\n";

TEST_F(ChrootIsolation, SameLayersAsTheSandbox) {
    auto sandbox_runner = runner(sandbox::IsolationMode::kSandbox);
    auto chroot_runner = runner(sandbox::IsolationMode::kChroot);

    BuildEnv other;
    other.SetUp();
    other.import("busybox:latest", busybox_tar_);

    run_ = sandbox_runner.get();
    auto req = request(kChanges);
    req.source_date_epoch = 1700000000;
    const auto a = build(req);

    other.run_ = chroot_runner.get();
    other.dockerfile(kChanges);
    auto req2 = other.request();
    req2.source_date_epoch = 1700000000;
    const auto b = other.build(req2);

    ASSERT_EQ(a.image.layers.size(), 3u);
    ASSERT_EQ(b.image.layers.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_TRUE(a.image.layers[i].diff_id == b.image.layers[i].diff_id)
            << "layer " << i << " differs";
        if (a.image.layers[i].diff_id != b.image.layers[i].diff_id) {
            const Tree la = layer(a, i), lb = other.layer(b, i);
            for (const auto& [p, n] : la) {
                auto it = lb.find(p);
                if (it == lb.end())
                    ADD_FAILURE() << "only with the sandbox: " << p;
                else if (it->second.type != n.type || it->second.mode != n.mode ||
                         it->second.uid != n.uid || it->second.data != n.data)
                    ADD_FAILURE() << "differs: " << p;
            }
            for (const auto& [p, n] : lb)
                if (!la.count(p)) ADD_FAILURE() << "only with chroot: " << p;
        }
    }
    // And what the layers say, as a check of the test itself.
    const Tree top = other.layer(b, 2);
    expect_file(top, "/mod", "m\nmore\n", 0644, 1000, 50);
    EXPECT_EQ(top.at("/d/keep").mode, 04755u);
    EXPECT_EQ(top.at("/link").uid, 7u);
    EXPECT_EQ(top.at("/link2").data, "/d");
    EXPECT_EQ(top.at("/newempty").type, 'd');
    EXPECT_EQ(top.count("/same"), 0u) << "read, not changed: not in the layer";
    const Tree fs_b = other.rootfs(b);
    EXPECT_EQ(fs_b.count("/gone"), 0u);
    EXPECT_EQ(fs_b.count("/d/sub"), 1u);
    EXPECT_EQ(fs_b.count("/d/sub/f"), 0u);
    EXPECT_EQ(fs_b.count("/replaced/old"), 0u);
    expect_file(fs_b, "/replaced/new", "n\n");
    EXPECT_EQ(fs_b.at("/file-to-dir").type, 'd');
    EXPECT_EQ(fs_b.count("/etc/motd"), 0u);
    EXPECT_TRUE(imagetest::tmp_is_empty(other.root()));
}

TEST_F(ChrootIsolation, UserEnvWorkdirAndHeredoc) {
    auto r = runner(sandbox::IsolationMode::kChroot);
    run_ = r.get();
    const auto res = build(
        "FROM busybox:latest\nENV GREETING=hi\nWORKDIR /work/dir\n"
        "RUN echo \"$GREETING $(pwd) $(id -u)\" > out && ls /proc/self >/dev/null && echo ok > "
        "/proc-ok\n"
        "RUN <<EOF\necho from heredoc > /heredoc\nEOF\n");
    const Tree t = rootfs(res);
    expect_file(t, "/work/dir/out", "hi /work/dir 0\n");
    expect_file(t, "/heredoc", "from heredoc\n");
    EXPECT_EQ(t.count("/dev/pipes"), 0u);
}

TEST_F(ChrootIsolation, FailingStep) {
    auto r = runner(sandbox::IsolationMode::kChroot);
    run_ = r.get();
    try {
        build("FROM busybox:latest\nRUN echo to the log; exit 7\n");
        FAIL() << "the build must fail";
    } catch (const frontend::ParseError& e) {
        EXPECT_NE(e.diagnostic().message.find("did not complete successfully: exit code: 7"),
                  std::string::npos)
            << e.diagnostic().message;
        EXPECT_NE(e.diagnostic().hint.find("to the log"), std::string::npos);
    }
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
}

// Runs the strata binary with CAP_SYS_ADMIN gone from its bounding set (so
// root's exec does not get it back): unshare and mount are refused, as in
// an unprivileged container. Returns the exit status; output in `out`.
int run_without_sys_admin(const std::vector<std::string>& args, std::string& out) {
    int fds[2];
    if (::pipe(fds) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::close(fds[0]);
        if (::prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0) _exit(120);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(STRATA_BINARY));
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::setenv("STRATA_INIT", STRATA_INIT, 1);
        ::execv(STRATA_BINARY, argv.data());
        _exit(127);
    }
    ::close(fds[1]);
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(ChrootIsolation, FallsBackWhereNamespacesAreRefused) {
    dockerfile(
        "FROM busybox:latest\nRUN echo inside > /made && ls /dev/null && rm /bin/ls && mkdir "
        "/e\nRUN cat /made && (sleep 4321 &) && echo left a daemon\n");
    std::string out;
    const int rc = run_without_sys_admin({"--root", root().string(), "build", "--progress=plain",
                                          "-t", "fallback:latest", ctx().string()},
                                         out);
    ASSERT_EQ(rc, 0) << out;
    const std::string warning = "RUN steps use chroot isolation: unshare(CLONE_NEWNS): ";
    const size_t at = out.find(warning);
    ASSERT_NE(at, std::string::npos) << out;
    EXPECT_EQ(out.find(warning, at + 1), std::string::npos) << "warned twice:\n" << out;
    EXPECT_NE(out.find("no mount namespace"), std::string::npos) << out;
    EXPECT_NE(out.find("no PID namespace"), std::string::npos) << out;
    const Tree t = rootfs(store().lookup("fallback:latest").image);
    expect_file(t, "/made", "inside\n");
    EXPECT_EQ(t.count("/bin/ls"), 0u);
    EXPECT_EQ(t.at("/e").type, 'd');
    EXPECT_EQ(t.count("/dev/null"), 0u) << "strata's device nodes are not in the layer";
    EXPECT_TRUE(imagetest::tmp_is_empty(root()));
    // No PID namespace here: init, a subreaper, killed what the step left.
    for (const auto& dir : test_support::process_dirs())
        EXPECT_NE(test_support::process_cmdline(dir), std::string("sleep\0004321\0", 11))
            << "left running: " << dir;

    std::string out2;
    dockerfile("FROM busybox:latest\nRUN echo again > /x\n");
    const int rc2 = run_without_sys_admin(
        {"--root", root().string(), "build", "--isolation=sandbox", ctx().string()}, out2);
    EXPECT_NE(rc2, 0) << out2;
    EXPECT_NE(out2.find("--isolation=sandbox: the RUN sandbox cannot be made here "
                        "(unshare(CLONE_NEWNS): Operation not permitted"),
              std::string::npos)
        << out2;
}

}  // namespace
}  // namespace strata::buildtest
