// Containers of one Sandbox with the same hosts and resolv.conf share one
// scratch directory (its root's mount point and the two files) while any
// of them runs; other settings, mounts, or chroot isolation's copy get one
// of their own; the last one out removes it.
#include "container_fixture.hpp"

namespace strata::sandbox::testing {
namespace {

class SharedScratchTest : public ContainerTest {
  protected:
    size_t scratch_dirs() const {
        size_t n = 0;
        for (const auto& e : fs::directory_iterator(dir_->path() / "scratch"))
            n += e.path().filename().string().rfind("run-", 0) == 0;
        return n;
    }
    // Stops a `sleep` container and checks that it ran fine until then.
    static void stop(SandboxProcess& p) {
        p.signal(SIGKILL);
        EXPECT_EQ(p.wait().exit_code, 128 + SIGKILL);
    }
};

TEST_F(SharedScratchTest, ContainersWithTheSameFilesShareOneWhileTheyRun) {
    Spec a = spec({"sleep", "30"}, "a");
    Spec b = spec({"sleep", "30"}, "b");
    a.process.hosts = b.process.hosts = "127.0.0.1\tshared\n";
    SandboxProcess pa = sandbox_.start(a, {}, sandbox_.prepare(a));
    SandboxProcess pb = sandbox_.start(b, {});
    EXPECT_EQ(scratch_dirs(), 1u);
    // Each reads it through its own root, mounted on the same mount point.
    std::vector<std::string> lines;
    Spec c = spec(sh("cat /etc/hosts; ls /"), "c");
    c.process.hosts = a.process.hosts;
    Result rc = sandbox_.run(c, [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(rc.exit_code, 0) << rc.output_tail;
    rc.leftovers.clear();  // what a RUN step releases later
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], "127.0.0.1\tshared");
    EXPECT_EQ(scratch_dirs(), 1u);
    stop(pa);
    EXPECT_EQ(scratch_dirs(), 1u);  // b still runs
    stop(pb);
    EXPECT_EQ(scratch_dirs(), 0u);
}

TEST_F(SharedScratchTest, OtherFilesOrMountsGetTheirOwn) {
    Spec a = spec({"sleep", "30"}, "a");
    Spec other_hosts = spec({"sleep", "30"}, "b");
    other_hosts.process.hosts = "127.0.0.1\tother\n";
    Spec with_mount = spec({"sleep", "30"}, "c");
    Mount tmp;
    tmp.kind = Mount::Kind::kTmpfs;
    tmp.target = "/scratch-mount";
    with_mount.mounts.push_back(tmp);
    SandboxProcess pa = sandbox_.start(a, {});
    SandboxProcess pb = sandbox_.start(other_hosts, {});
    SandboxProcess pc = sandbox_.start(with_mount, {});
    EXPECT_EQ(scratch_dirs(), 3u);
    stop(pa);
    stop(pb);
    stop(pc);
    EXPECT_EQ(scratch_dirs(), 0u);
}

TEST_F(SharedScratchTest, LeftOverForLaterItGoesWithTheLastLeftover) {
    // A RUN step hands its scratch to the caller (Result::leftovers), who
    // releases it later: the directory stays until the last holder lets go.
    Spec a = spec({"true"}, "a");
    Result first = sandbox_.run(a, {});
    ASSERT_EQ(first.exit_code, 0) << first.output_tail;
    Result second = sandbox_.run(spec({"true"}, "b"), {});
    ASSERT_EQ(second.exit_code, 0) << second.output_tail;
    EXPECT_EQ(scratch_dirs(), 1u);
    first.leftovers.clear();
    EXPECT_EQ(scratch_dirs(), 1u);
    second.leftovers.clear();
    EXPECT_EQ(scratch_dirs(), 0u);
}

}  // namespace
}  // namespace strata::sandbox::testing
