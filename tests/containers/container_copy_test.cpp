#include "containers/container_copy.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"
#include "containers/container_diff.hpp"
#include "containers/container_fs_fixture.hpp"

namespace strata::containers {
namespace {

using namespace fstest;

// A container filesystem made by hand (one lower layer, an empty upper
// directory) mounted through ContainerRoot as strata cp mounts a stopped
// container's, and a host directory to copy from and to.
class ContainerCopyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!is_root()) GTEST_SKIP() << "mounting an overlay needs root";
        put(l0 / "etc/passwd", "root:x:0:0\n");
        put(l0 / "etc/group", "root:x:0:\n");
        put(l0 / "data/a", "A");
        put(l0 / "data/sub/b", "B");
        ::chmod((l0 / "data").c_str(), 0750);
        fs::create_symlink("passwd", l0 / "etc/link");
        // A symlink that would leave the root if it were followed on the host.
        fs::create_symlink("../../../../../../../../" + host.string().substr(1), l0 / "escape");
        mkdirs(upper);
        mkdirs(work);
        put(host / "secret", "host secret\n");
        put(host / "file.txt", "file\n");
        put(host / "dir/x", "x\n");
        put(host / "dir/y/z", "z\n");
        root.emplace(ContainerRoot::mount_overlay({l0}, upper, work, false));
        opts.container_name = "ctr";
        opts.scratch_parent = tmp.path() / "scratch";
    }

    std::string in_ctr(const std::string& path) {
        UniqueFd fd(::openat(root->fd(), path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) return "<missing>";
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd.get(), buf, sizeof buf)) > 0)
            out.append(buf, static_cast<size_t>(n));
        return out;
    }
    bool ctr_is_dir(const std::string& path) {
        struct stat st {};
        return ::fstatat(root->fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISDIR(st.st_mode);
    }
    std::string error_of(const std::function<void()>& f) {
        try {
            f();
        } catch (const Error& e) {
            return e.what();
        }
        return "<no error>";
    }

    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-ctr-cp-");
    fs::path l0 = tmp.path() / "l0", upper = tmp.path() / "upper", work = tmp.path() / "work";
    fs::path host = tmp.path() / "host";
    std::optional<ContainerRoot> root;
    CopyOptions opts;
};

TEST(ContainerPathTest, SplitsAsDockerCpDoes) {
    auto p = split_container_path("web:/etc/hosts");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->container, "web");
    EXPECT_EQ(p->path, "/etc/hosts");
    EXPECT_FALSE(split_container_path("/abs/with:colon"));
    EXPECT_FALSE(split_container_path("./rel:colon"));
    EXPECT_FALSE(split_container_path("plain"));
    EXPECT_FALSE(split_container_path("-"));
}

TEST_F(ContainerCopyTest, FileIntoAnExistingDirectoryKeepsItsName) {
    copy_in(root->fd(), (host / "file.txt").string(), -1, "/etc/", opts);
    EXPECT_EQ(in_ctr("etc/file.txt"), "file\n");
    // Written through the overlay: /etc copied up, the file in the upper dir.
    EXPECT_EQ(get(upper / "etc/file.txt"), "file\n");
    EXPECT_FALSE(fs::exists(upper / "etc/passwd"));
    EXPECT_EQ(render_changes(upper_changes({l0}, upper)), "C /etc\nA /etc/file.txt\n");
}

TEST_F(ContainerCopyTest, FileToAMissingPathTakesThatName) {
    copy_in(root->fd(), (host / "file.txt").string(), -1, "/etc/renamed", opts);
    EXPECT_EQ(in_ctr("etc/renamed"), "file\n");
}

TEST_F(ContainerCopyTest, FileOverAnImageFileReplacesItInTheUpperDir) {
    copy_in(root->fd(), (host / "file.txt").string(), -1, "/etc/passwd", opts);
    EXPECT_EQ(in_ctr("etc/passwd"), "file\n");
    EXPECT_EQ(get(l0 / "etc/passwd"), "root:x:0:0\n");  // the layer below is untouched
    EXPECT_EQ(get(upper / "etc/passwd"), "file\n");
}

TEST_F(ContainerCopyTest, FileToAMissingDirectoryIsRefused) {
    EXPECT_NE(error_of([&] {
                  copy_in(root->fd(), (host / "file.txt").string(), -1, "/nodir/", opts);
              }).find("no such directory"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  copy_in(root->fd(), (host / "file.txt").string(), -1, "/nodir/x", opts);
              }).find("Could not find the file /nodir in container ctr"),
              std::string::npos);
}

TEST_F(ContainerCopyTest, DirectoryRules) {
    // DEST missing: made, holding SRC's content.
    copy_in(root->fd(), (host / "dir").string(), -1, "/opt", opts);
    EXPECT_EQ(in_ctr("opt/x"), "x\n");
    EXPECT_EQ(in_ctr("opt/y/z"), "z\n");
    // DEST a directory: SRC copied into it as a subdirectory…
    copy_in(root->fd(), (host / "dir").string(), -1, "/etc", opts);
    EXPECT_EQ(in_ctr("etc/dir/x"), "x\n");
    // …or, with "/.", its content.
    copy_in(root->fd(), (host / "dir").string() + "/.", -1, "/data", opts);
    EXPECT_EQ(in_ctr("data/x"), "x\n");
    EXPECT_EQ(in_ctr("data/a"), "A");  // what was there stays
    EXPECT_FALSE(ctr_is_dir("data/dir"));
    // DEST a file: refused.
    EXPECT_NE(error_of([&] {
                  copy_in(root->fd(), (host / "dir").string(), -1, "/etc/passwd", opts);
              }).find("cannot copy directory"),
              std::string::npos);
    // SRC ending in '/' must be a directory.
    EXPECT_NE(error_of([&] {
                  copy_in(root->fd(), (host / "file.txt").string() + "/", -1, "/etc", opts);
              }).find("not a directory"),
              std::string::npos);
}

TEST_F(ContainerCopyTest, OutOfTheContainer) {
    const fs::path out = tmp.path() / "out";
    mkdirs(out);
    copy_out(root->fd(), "/etc/passwd", out.string(), -1, opts);
    EXPECT_EQ(get(out / "passwd"), "root:x:0:0\n");
    copy_out(root->fd(), "/data", (out / "copy").string(), -1, opts);
    EXPECT_EQ(get(out / "copy/a"), "A");
    EXPECT_EQ(get(out / "copy/sub/b"), "B");
    EXPECT_EQ(fs::status(out / "copy").permissions(), fs::perms(0750));
    copy_out(root->fd(), "/data/.", out.string(), -1, opts);
    EXPECT_EQ(get(out / "a"), "A");
    // A symlink is copied as a link, -L copies what it points at.
    copy_out(root->fd(), "/etc/link", out.string(), -1, opts);
    EXPECT_TRUE(fs::is_symlink(out / "link"));
    EXPECT_EQ(fs::read_symlink(out / "link"), "passwd");
    CopyOptions follow = opts;
    follow.follow_link = true;
    copy_out(root->fd(), "/etc/link", (out / "followed").string(), -1, follow);
    EXPECT_FALSE(fs::is_symlink(out / "followed"));
    EXPECT_EQ(get(out / "followed"), "root:x:0:0\n");
    EXPECT_NE(error_of([&] {
                  copy_out(root->fd(), "/nope", out.string(), -1, opts);
              }).find("Could not find the file /nope in container ctr"),
              std::string::npos);
}

TEST_F(ContainerCopyTest, TarStreamsBothWays) {
    const fs::path tar = tmp.path() / "out.tar";
    {
        UniqueFd fd(::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        copy_out(root->fd(), "/data", "-", fd.get(), opts);
    }
    EXPECT_EQ(sh("tar -tf " + tar.string() + " | sed 's,/$,,' | LC_ALL=C sort"),
              "data\ndata/a\ndata/sub\ndata/sub/b\n");
    {
        UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
        copy_in(root->fd(), "-", fd.get(), "/etc", opts);
    }
    EXPECT_EQ(in_ctr("etc/data/sub/b"), "B");
    // A file alone is named after itself.
    {
        UniqueFd fd(::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        copy_out(root->fd(), "/etc/group", "-", fd.get(), opts);
    }
    EXPECT_EQ(sh("tar -tf " + tar.string()), "group\n");
    // A tar goes into a directory only.
    UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_NE(error_of([&] {
                  copy_in(root->fd(), "-", fd.get(), "/etc/passwd", opts);
              }).find("must be a directory"),
              std::string::npos);
}

TEST_F(ContainerCopyTest, SymlinksNeverLeadOutOfTheContainer) {
    // /escape points (on the host) at the host directory: inside the
    // container it resolves inside the root, where there is no such path.
    EXPECT_NE(error_of([&] {
                  copy_out(root->fd(), "/escape/secret", (tmp.path() / "got").string(), -1, opts);
              }).find("Could not find the file"),
              std::string::npos);
    EXPECT_FALSE(fs::exists(tmp.path() / "got"));
    EXPECT_NE(error_of([&] {
                  copy_in(root->fd(), (host / "file.txt").string(), -1, "/escape/planted", opts);
              }),
              "<no error>");
    EXPECT_FALSE(fs::exists(host / "planted"));
    EXPECT_EQ(get(host / "secret"), "host secret\n");
    // Copying the link itself is fine: it is only a name.
    const fs::path out = tmp.path() / "links";
    mkdirs(out);
    copy_out(root->fd(), "/escape", out.string(), -1, opts);
    EXPECT_TRUE(fs::is_symlink(out / "escape"));
}

TEST_F(ContainerCopyTest, StoppedContainersVolumesAreRefusedClearly) {
    opts.unreachable = {"/data"};
    const std::string e =
        error_of([&] { copy_in(root->fd(), (host / "file.txt").string(), -1, "/data/sub", opts); });
    EXPECT_NE(e.find("inside the volume or bind mount at /data"), std::string::npos) << e;
    EXPECT_NE(error_of([&] { copy_out(root->fd(), "/data", "-", 1, opts); }), "<no error>");
    opts.unreachable.clear();
    opts.read_only = true;
    EXPECT_NE(error_of([&] {
                  copy_in(root->fd(), (host / "file.txt").string(), -1, "/etc", opts);
              }).find("read-only"),
              std::string::npos);
}

TEST_F(ContainerCopyTest, TheOverlayGoesWithTheLastDescriptor) {
    copy_in(root->fd(), (host / "file.txt").string(), -1, "/new.txt", opts);
    root.reset();
    // Nothing mounted anywhere on the host: the upper dir is free to use.
    EXPECT_EQ(sh("grep -c " + upper.string() + " /proc/self/mountinfo"), "0\n");
    EXPECT_EQ(get(upper / "new.txt"), "file\n");
    root.emplace(ContainerRoot::mount_overlay({l0}, upper, work, false));
    EXPECT_EQ(in_ctr("new.txt"), "file\n");
}

TEST_F(ContainerCopyTest, AStoppedContainersVolumesAreBoundForTheCopy) {
    root.reset();
    const fs::path vol = tmp.path() / "volume", ro = tmp.path() / "ro";
    put(vol / "old", "old\n");
    mkdirs(ro);
    root.emplace(ContainerRoot::mount_overlay({l0}, upper, work, false,
                                              {{vol, "/srv/vol", false}, {ro, "/data/ro", true}}));
    copy_in(root->fd(), (host / "file.txt").string(), -1, "/srv/vol/", opts);
    EXPECT_EQ(get(vol / "file.txt"), "file\n");  // into the volume, not the layer
    EXPECT_FALSE(fs::exists(upper / "srv/vol/file.txt"));
    const fs::path out = tmp.path() / "out";
    mkdirs(out);
    copy_out(root->fd(), "/srv/vol/old", out.string(), -1, opts);
    EXPECT_EQ(get(out / "old"), "old\n");
    EXPECT_NE(
        error_of([&] { copy_in(root->fd(), (host / "file.txt").string(), -1, "/data/ro/", opts); }),
        "<no error>");
    EXPECT_FALSE(fs::exists(ro / "file.txt"));
    // The mount points are in the upper dir, as the sandbox makes them;
    // nothing is left mounted once the root goes.
    EXPECT_TRUE(fs::is_directory(upper / "srv/vol"));
    root.reset();
    EXPECT_EQ(sh("grep -c " + tmp.path().string() + " /proc/self/mountinfo"), "0\n");
}

TEST_F(ContainerCopyTest, ARunningContainersProcAndSysAreLeftOutOfItsRoot) {
    root.reset();
    put(upper / "proc/kcore", "not for a tar");
    put(upper / "sys/x", "x");
    root.emplace(ContainerRoot::mount_overlay({l0}, upper, work, false));
    opts.live = true;
    const fs::path tar = tmp.path() / "root.tar";
    {
        UniqueFd fd(::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        copy_out(root->fd(), "/", "-", fd.get(), opts);
    }
    const std::string list = sh("tar -tf " + tar.string());
    EXPECT_NE(list.find("./etc/passwd"), std::string::npos) << list;
    EXPECT_EQ(list.find("proc"), std::string::npos) << list;
    EXPECT_EQ(list.find("sys"), std::string::npos) << list;
}

}  // namespace
}  // namespace strata::containers
