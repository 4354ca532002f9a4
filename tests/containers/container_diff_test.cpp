#include "containers/container_diff.hpp"

#include <gtest/gtest.h>

#include "containers/container_fs_fixture.hpp"
#include "containers/container_record.hpp"

namespace strata::containers {
namespace {

using namespace fstest;

class ContainerDiffTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!is_root()) GTEST_SKIP() << "whiteouts (mknod) and trusted.* xattrs need root";
        // The image: two layers, the second deleting /var/gone of the first.
        put(l0 / "etc/passwd", "root:x:0:0\n");
        put(l0 / "etc/group", "root:x:0:\n");
        put(l0 / "bin/sh", "#!sh\n", 0755);
        put(l0 / "var/old/a", "a\n");
        put(l0 / "var/keep", "k\n");
        put(l0 / "var/gone", "g\n");
        mkdirs(l1 / "var");
        whiteout(l1 / "var/gone");
        for (const char* d : {"etc", "bin", "var", "var/old"})
            set_mtime(l0 / d, 1000000);
        set_mtime(l1 / "var", 1000000);
    }

    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-ctr-diff-");
    fs::path l0 = tmp.path() / "l0", l1 = tmp.path() / "l1", upper = tmp.path() / "upper";
    std::vector<fs::path> lower() const { return {l0, l1}; }
};

TEST_F(ContainerDiffTest, LowerEntryHonoursWhiteoutsAndOpaqueDirs) {
    EXPECT_TRUE(lower_entry(lower(), "etc/passwd"));
    EXPECT_TRUE(lower_entry(lower(), "var/old"));
    EXPECT_FALSE(lower_entry(lower(), "var/gone"));  // whiteout in the upper layer
    EXPECT_FALSE(lower_entry(lower(), "nope"));
    // An opaque directory in l1 hides l0's content under it.
    mkdirs(l1 / "etc");
    make_opaque(l1 / "etc");
    EXPECT_FALSE(lower_entry(lower(), "etc/passwd"));
    EXPECT_TRUE(lower_entry(lower(), "etc"));
    // A file over a directory hides what was under it.
    put(l1 / "bin", "not a dir");
    EXPECT_FALSE(lower_entry(lower(), "bin/sh"));
}

TEST_F(ContainerDiffTest, UpperDirGivesDockersLinesInWalkOrder) {
    // /bin copied up unchanged, /bin/sh deleted.
    mkdirs(upper / "bin");
    same_metadata(l0 / "bin", upper / "bin");
    whiteout(upper / "bin/sh");
    same_metadata(l0 / "bin", upper / "bin");
    // /etc: a changed file and a new one (the directory's mtime changed).
    put(upper / "etc/passwd", "root:x:0:0\nuser:x:1000:1000\n");
    put(upper / "etc/new", "n\n");
    // A new tree.
    put(upper / "newdir/f", "f\n");
    // /var/old deleted and made again (opaque), /var itself unchanged.
    put(upper / "var/old/b", "b\n");
    make_opaque(upper / "var/old");
    same_metadata(l1 / "var", upper / "var");

    const auto changes = upper_changes(lower(), upper);
    EXPECT_EQ(render_changes(changes),
              "C /bin\n"
              "D /bin/sh\n"
              "C /etc\n"
              "A /etc/new\n"
              "C /etc/passwd\n"
              "A /newdir\n"
              "A /newdir/f\n"
              "C /var\n"
              "D /var/old\n"
              "A /var/old/b\n");
}

TEST_F(ContainerDiffTest, WalkOrderIsPerComponentNotBytewiseOnWholePaths) {
    // filepath.Walk visits /a, /a/b, then /a.txt ('.' sorts before '/' in
    // whole paths, but walks go directory by directory).
    put(upper / "a/b", "x");
    put(upper / "a.txt", "y");
    EXPECT_EQ(render_changes(upper_changes(lower(), upper)), "A /a\nA /a/b\nA /a.txt\n");
}

TEST_F(ContainerDiffTest, MountPointStubsAreNoChanges) {
    // Made by the sandbox: /etc/hosts (empty file, /etc copied up for it),
    // a volume target /data/vol (and its new parent /data), /proc.
    mkdirs(upper / "etc");
    same_metadata(l0 / "etc", upper / "etc");
    put(upper / "etc/hosts", "");
    set_mtime(upper / "etc", 2000000);  // creating hosts changed /etc's mtime
    mkdirs(upper / "data/vol");
    mkdirs(upper / "proc");
    // A real change beside them.
    put(upper / "tmp/x", "x");

    Container c;
    MountSpec volume;
    volume.type = MountSpec::Type::kVolume;
    volume.source = "v";
    volume.target = "/data/vol";
    c.spec.mounts.push_back(volume);
    const auto points = container_mount_points(c);
    const auto stubs = mount_stubs(lower(), upper, points);
    EXPECT_EQ(stubs, (std::set<std::string>{"data", "data/vol", "etc", "etc/hosts", "proc"}));
    EXPECT_EQ(render_changes(upper_changes(lower(), upper, stubs)), "A /tmp\nA /tmp/x\n");

    // Something written beside a stub makes its directory a change again.
    put(upper / "etc/motd", "hi\n");
    const auto stubs2 = mount_stubs(lower(), upper, points);
    EXPECT_FALSE(stubs2.count("etc"));
    EXPECT_TRUE(stubs2.count("etc/hosts"));
    EXPECT_EQ(render_changes(upper_changes(lower(), upper, stubs2)),
              "C /etc\nA /etc/motd\nA /tmp\nA /tmp/x\n");
    // A mount point file the container wrote into before the mount (not
    // empty) is no stub.
    put(upper / "etc/hosts", "127.0.0.1 x\n");
    EXPECT_FALSE(mount_stubs(lower(), upper, points).count("etc/hosts"));
}

TEST_F(ContainerDiffTest, EmptyUpperHasNoChanges) {
    mkdirs(upper);
    EXPECT_TRUE(upper_changes(lower(), upper).empty());
}

}  // namespace
}  // namespace strata::containers
