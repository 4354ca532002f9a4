// Volumes used by real containers of the busybox image (as root): a named
// volume outlives its container and is seen by the next; :ro refuses writes;
// binds reach the host; --volumes-from shares; an image VOLUME becomes an
// anonymous volume filled from the image, removed with `rm -v`; --tmpfs and
// --mount type=tmpfs; Docker's errors for bad mounts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

class VolumeRunCli : public CliTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "containers need root here";
        if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "no /bin/busybox for the test image";
        CliTest::SetUp();
    }

    RunResult s(std::vector<std::string> args, const std::string& input = {}) {
        return strata(root_, std::move(args), input);
    }

    std::vector<std::string> volume_names() {
        auto r = run_ok({"volume", "ls", "-q"});
        return lines(r.out.empty() ? r.out : r.out.substr(0, r.out.size() - 1));
    }

    static std::string slurp(const fs::path& p) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

TEST_F(VolumeRunCli, NamedVolumeSurvivesRmAndIsSeenByTheNextContainer) {
    auto r = s({"run", "--name", "writer", "-v", "data:/data", "busybox", "sh", "-c",
                "echo kept > /data/f"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(volume_names(), std::vector<std::string>{"data"});
    EXPECT_EQ(slurp(root_ / "volumes/data/_data/f"), "kept\n");

    // In use by the (exited) container: refused, in Docker's words.
    r = s({"volume", "rm", "data"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(has(r.err, "remove data: volume is in use - [")) << r.err;

    run_ok({"rm", "writer"});
    EXPECT_EQ(volume_names(), std::vector<std::string>{"data"});
    r = s({"run", "--rm", "-v", "data:/mnt/other", "busybox", "cat", "/mnt/other/f"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "kept\n");
    // Not in the container's layer: a fresh container without it sees nothing.
    r = s({"run", "--rm", "busybox", "ls", "/data"});
    EXPECT_NE(r.code, 0);
    run_ok({"volume", "rm", "data"});
}

TEST_F(VolumeRunCli, ReadOnlyMountsRefuseWrites) {
    run_ok({"volume", "create", "ro-data"});
    auto r =
        s({"run", "--rm", "-v", "ro-data:/data:ro", "busybox", "sh", "-c", "echo x > /data/f"});
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "Read-only file system")) << r.err;
    EXPECT_FALSE(fs::exists(root_ / "volumes/ro-data/_data/f"));

    const fs::path host = dir_.path() / "host";
    fs::create_directories(host);
    std::ofstream(host / "from-host") << "hello\n";
    r = s({"run", "--rm", "-v", host.string() + ":/h:ro", "busybox", "sh", "-c",
           "cat /h/from-host; touch /h/new"});
    EXPECT_EQ(r.out, "hello\n");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "Read-only file system")) << r.err;
    r = s({"run", "--rm", "--mount", "type=bind,src=" + host.string() + ",dst=/h,readonly",
           "busybox", "touch", "/h/new"});
    EXPECT_NE(r.code, 0);
    EXPECT_FALSE(fs::exists(host / "new"));

    // rw: the write reaches the host; a missing -v source is made.
    const fs::path made = dir_.path() / "made/here";
    r = s({"run", "--rm", "-v", host.string() + ":/h", "-v", made.string() + ":/m", "busybox", "sh",
           "-c", "echo w > /h/new && echo m > /m/x"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(slurp(host / "new"), "w\n");
    EXPECT_EQ(slurp(made / "x"), "m\n");
}

TEST_F(VolumeRunCli, VolumesFromShares) {
    auto r = s({"run", "--name", "store", "-v", "shared:/shared", "-v", "/anon", "busybox", "sh",
                "-c", "echo one > /shared/f && echo two > /anon/g"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = s({"run", "--rm", "--volumes-from", "store", "busybox", "sh", "-c",
           "cat /shared/f /anon/g && echo three > /shared/h"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "one\ntwo\n");
    EXPECT_EQ(slurp(root_ / "volumes/shared/_data/h"), "three\n");
    r = s({"run", "--rm", "--volumes-from", "store:ro", "busybox", "sh", "-c",
           "cat /shared/h; echo no > /shared/h"});
    EXPECT_EQ(r.out, "three\n");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "Read-only file system")) << r.err;
    r = s({"run", "--rm", "--volumes-from", "nosuch", "busybox", "true"});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "No such container: nosuch")) << r.err;
}

TEST_F(VolumeRunCli, ImageVolumeIsAnonymousFilledFromTheImageAndRemovedWithRmV) {
    run_ok({"import", "-c", "VOLUME /etc", "-c", "CMD [\"sh\"]", tar_.string(), "withvol"});
    auto r = s({"run", "--name", "v1", "withvol", "sh", "-c",
                "grep -c root /etc/passwd && echo added > /etc/added"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "1\n") << "the image's /etc copied into the new volume";
    auto names = volume_names();
    ASSERT_EQ(names.size(), 1u);
    const std::string anon = names[0];
    EXPECT_EQ(anon.size(), 64u);
    EXPECT_EQ(slurp(root_ / "volumes" / anon / "_data/added"), "added\n");
    // The write went to the volume, not the container's layer.
    r = s({"diff", "v1"});
    EXPECT_FALSE(has(r.out, "/etc/added")) << r.out;

    // A -v at the image's VOLUME replaces the anonymous one.
    r = s({"run", "--rm", "-v", "named-etc:/etc", "withvol", "cat", "/etc/passwd"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(volume_names().size(), 2u);

    // Made at `create`, as Docker makes them, before any start.
    std::string created =
        run_ok({"create", "-v", "/data", "-v", "made-at-create:/m", "withvol", "true"}).out;
    created.pop_back();  // the newline
    EXPECT_EQ(volume_names().size(), 5u) << "three new ones: /etc's, /data's and the named one";
    EXPECT_NE(run_ok({"volume", "inspect", "made-at-create"}).out.find("made-at-create"),
              std::string::npos);
    run_ok({"rm", "-v", created});
    EXPECT_EQ(volume_names().size(), 3u) << "rm -v took the two anonymous ones";
    run_ok({"volume", "rm", "made-at-create"});

    run_ok({"rm", "-v", "v1"});
    names = volume_names();
    EXPECT_EQ(names, std::vector<std::string>{"named-etc"}) << "rm -v removes only the anonymous";

    // Without -v it stays, and `volume prune` (anonymous only) collects it.
    run_ok({"run", "--name", "v2", "withvol", "true"});
    run_ok({"rm", "v2"});
    EXPECT_EQ(volume_names().size(), 2u);
    r = run_ok({"volume", "prune", "-f"});
    EXPECT_TRUE(has(r.out, "Deleted Volumes:\n")) << r.out;
    EXPECT_EQ(volume_names(), std::vector<std::string>{"named-etc"});
    // --rm takes its anonymous volumes with it, as Docker's does.
    run_ok({"run", "--rm", "withvol", "true"});
    EXPECT_EQ(volume_names(), std::vector<std::string>{"named-etc"});
}

TEST_F(VolumeRunCli, TmpfsMounts) {
    auto r = s({"run", "--rm", "--tmpfs", "/scratch:size=1m", "--mount",
                "type=tmpfs,dst=/other,tmpfs-size=2m,tmpfs-mode=0700", "busybox", "sh", "-c",
                "grep -E ' /(scratch|other) ' /proc/mounts"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "tmpfs /scratch tmpfs rw,nosuid,nodev")) << r.out;
    EXPECT_TRUE(has(r.out, "size=1024k 0 0")) << r.out;       // mode 1777: the default, not shown
    EXPECT_TRUE(has(r.out, "size=2048k,mode=700")) << r.out;  // tmpfs-mode reaches the mount
}

TEST_F(VolumeRunCli, BadMountsAreDockersErrors) {
    auto r = s(
        {"run", "--rm", "--mount", "type=bind,src=/nonexistent-strata,dst=/x", "busybox", "true"});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err,
                    "invalid mount config for type \"bind\": bind source path does not "
                    "exist: /nonexistent-strata"))
        << r.err;
    r = s({"run", "--rm", "-v", "a1:/x", "-v", "a2:/x", "busybox", "true"});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "Duplicate mount point: /x")) << r.err;
    r = s({"run", "--rm", "-v", "/host:/x:bogus", "busybox", "true"});
    EXPECT_EQ(r.code, 125);
    EXPECT_TRUE(has(r.err, "invalid mode: bogus")) << r.err;
    EXPECT_TRUE(volume_names().empty());
}

}  // namespace
}  // namespace strata::imagetest
