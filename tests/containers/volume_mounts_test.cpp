// The first-use copy of an image's directory into a volume (whiteouts, opaque
// directories, owners, modes, xattrs, hard links, symlinks kept as links, a
// target that is a symlink leading out of the image), and the sandbox mounts
// made from a container's MountSpecs.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "containers/volume_mounts.hpp"

namespace strata::containers {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class VolumeCopyUp : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "hand-made layers need root (owners, whiteouts)";
        fs::create_directories(lower / "data/sub");
        fs::create_directories(upper / "data/sub");
        fs::create_directories(store);
        // Lower layer: /data with files, a hard link pair, a symlink leading
        // out, a file later deleted and a directory later made opaque.
        file(lower / "data/a", "alpha", 0640, 1000, 1001);
        file(lower / "data/gone", "deleted above", 0644, 0, 0);
        file(lower / "data/sub/hidden", "behind the opaque dir", 0644, 0, 0);
        file(lower / "data/h1", "linked", 0600, 0, 0);
        ASSERT_EQ(::link((lower / "data/h1").c_str(), (lower / "data/h2").c_str()), 0);
        fs::create_symlink("/etc/passwd", lower / "data/passwd");
        // (The top-most layer's copy of a directory gives its metadata.)
        for (const fs::path& layer : {lower, upper}) {
            ASSERT_EQ(::chown((layer / "data").c_str(), 1000, 1002), 0);
            ASSERT_EQ(::chmod((layer / "data").c_str(), 02770), 0);
        }
        xattrs = ::setxattr((lower / "data/a").c_str(), "user.origin", "lower", 5, 0) == 0;
        // A symlink that climbs out of the image, and one to /data.
        fs::create_symlink("../../../../../../etc", lower / "escape");
        fs::create_symlink("/data", lower / "alias");
        // Upper layer: /data/gone whited out, /data/sub opaque, a new file.
        ASSERT_EQ(::mknod((upper / "data/gone").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0);
        ASSERT_EQ(::setxattr((upper / "data/sub").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
        file(upper / "data/sub/c", "charlie", 0755, 7, 8);
        file(upper / "data/new", "new", 0644, 0, 0);
    }

    static void file(const fs::path& p, const std::string& content, mode_t mode, uid_t uid,
                     gid_t gid) {
        std::ofstream(p) << content;
        ASSERT_EQ(::chmod(p.c_str(), mode), 0);
        ASSERT_EQ(::chown(p.c_str(), uid, gid), 0);
    }

    std::vector<fs::path> layers() const { return {lower, upper}; }

    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-volume-copy-");
    fs::path lower = tmp.path() / "layer0", upper = tmp.path() / "layer1";
    fs::path store = tmp.path() / "store";
    bool xattrs = false;
};

TEST_F(VolumeCopyUp, CopiesTheMergedImageDirectoryOnce) {
    VolumeStore volumes(store);
    Volume v = volumes.create("data");
    ASSERT_TRUE(copy_up_volume(volumes, v, layers(), "/data"));
    const fs::path d = v.mountpoint();
    EXPECT_EQ(read(d / "a"), "alpha");
    EXPECT_EQ(read(d / "new"), "new");
    EXPECT_EQ(read(d / "sub/c"), "charlie");
    EXPECT_FALSE(fs::exists(d / "gone")) << "the whiteout must hide it";
    EXPECT_FALSE(fs::exists(d / "sub/hidden")) << "the opaque directory must hide it";
    struct stat st {};
    ASSERT_EQ(::lstat((d / "a").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 1001u);
    ASSERT_EQ(::lstat((d / "sub/c").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 7u);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    // The volume's root takes the image directory's owner and mode.
    ASSERT_EQ(::lstat(d.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 1002u);
    EXPECT_EQ(st.st_mode & 07777, 02770u);
    // Hard links stay linked; symlinks are copied as they are.
    struct stat h1 {
    }, h2{};
    ASSERT_EQ(::lstat((d / "h1").c_str(), &h1), 0);
    ASSERT_EQ(::lstat((d / "h2").c_str(), &h2), 0);
    EXPECT_EQ(h1.st_ino, h2.st_ino);
    EXPECT_TRUE(fs::is_symlink(d / "passwd"));
    EXPECT_EQ(fs::read_symlink(d / "passwd"), "/etc/passwd");
    if (xattrs) {
        char buf[16] = {};
        ASSERT_EQ(::getxattr((d / "a").c_str(), "user.origin", buf, sizeof buf), 5);
        EXPECT_EQ(std::string(buf, 5), "lower");
    }
    EXPECT_TRUE(volumes.get("data").populated);

    // Done once: a second container finds it populated, even when emptied.
    fs::remove(d / "a");
    Volume again = volumes.get("data");
    EXPECT_FALSE(copy_up_volume(volumes, again, layers(), "/data"));
    EXPECT_FALSE(fs::exists(d / "a"));
}

TEST_F(VolumeCopyUp, OnlyIntoAnEmptyVolume) {
    VolumeStore volumes(store);
    Volume v = volumes.create("busy");
    std::ofstream(v.mountpoint() / "mine") << "kept";
    EXPECT_FALSE(copy_up_volume(volumes, v, layers(), "/data"));
    EXPECT_FALSE(fs::exists(v.mountpoint() / "a"));
    EXPECT_EQ(read(v.mountpoint() / "mine"), "kept");
}

TEST_F(VolumeCopyUp, NothingWhereTheImageHasNoDirectory) {
    VolumeStore volumes(store);
    Volume v = volumes.create("empty");
    EXPECT_FALSE(copy_up_volume(volumes, v, layers(), "/nowhere"));
    EXPECT_FALSE(copy_up_volume(volumes, v, layers(), "/data/a"));  // a file
    EXPECT_FALSE(volumes.get("empty").populated) << "a later image may still fill it";
    // Then an image that has it fills it.
    EXPECT_TRUE(copy_up_volume(volumes, v, layers(), "/data/sub"));
    EXPECT_EQ(read(v.mountpoint() / "c"), "charlie");
}

TEST_F(VolumeCopyUp, ASymlinkTargetIsResolvedInsideTheImage) {
    VolumeStore volumes(store);
    // /escape -> ../../../../../../etc: inside the image that is /etc, which
    // the image does not have; the host's /etc must not be copied.
    Volume out = volumes.create("escape");
    EXPECT_FALSE(copy_up_volume(volumes, out, layers(), "/escape"));
    EXPECT_TRUE(fs::is_empty(out.mountpoint()));
    // Give the image an /etc: that one is copied, not the host's.
    fs::create_directories(lower / "etc");
    std::ofstream(lower / "etc/image-only") << "mine";
    EXPECT_TRUE(copy_up_volume(volumes, out, layers(), "/escape"));
    EXPECT_TRUE(fs::exists(out.mountpoint() / "image-only"));
    EXPECT_FALSE(fs::exists(out.mountpoint() / "passwd"));
    // /alias -> /data.
    Volume alias = volumes.create("alias");
    EXPECT_TRUE(copy_up_volume(volumes, alias, layers(), "/alias"));
    EXPECT_EQ(read(alias.mountpoint() / "a"), "alpha");
}

TEST_F(VolumeCopyUp, SandboxMountsOfEachKind) {
    const fs::path host_dir = tmp.path() / "host";
    fs::create_directories(host_dir);
    std::ofstream(tmp.path() / "host-file") << "f";
    const fs::path missing = tmp.path() / "made/by/run";

    Container c;
    c.id = std::string(64, 'c');
    auto add = [&](MountSpec::Type type, std::string source, std::string target, bool ro) {
        MountSpec m;
        m.type = type;
        m.source = std::move(source);
        m.target = std::move(target);
        m.read_only = ro;
        c.spec.mounts.push_back(m);
        return &c.spec.mounts.back();
    };
    add(MountSpec::Type::kVolume, "data", "/data/deeper", false);
    add(MountSpec::Type::kBind, host_dir.string(), "/host", true);
    add(MountSpec::Type::kBind, (tmp.path() / "host-file").string(), "/etc/f", false);
    add(MountSpec::Type::kBind, missing.string(), "/made", false);
    add(MountSpec::Type::kVolume, "nocopy", "/data", true)->no_copy = true;
    MountSpec* t = add(MountSpec::Type::kTmpfs, "", "/run", false);
    t->tmpfs_size = 1 << 20;
    t->tmpfs_mode = 0700;

    auto mounts = sandbox_mounts(store, c, layers());
    ASSERT_EQ(mounts.size(), 6u);
    // Parents first: /data before /data/deeper.
    std::vector<std::string> targets;
    for (const auto& m : mounts)
        targets.push_back(m.target);
    EXPECT_EQ(targets, (std::vector<std::string>{"/host", "/made", "/data", "/run", "/data/deeper",
                                                 "/etc/f"}));
    using Kind = sandbox::Mount::Kind;
    EXPECT_EQ(mounts[0].kind, Kind::kBind);
    EXPECT_EQ(mounts[0].source_root, fs::canonical(host_dir));
    EXPECT_EQ(mounts[0].source_path, "/");
    EXPECT_TRUE(mounts[0].read_only);
    EXPECT_TRUE(fs::is_directory(missing)) << "a missing -v source is made, as Docker does";
    EXPECT_FALSE(mounts[1].read_only);
    VolumeStore volumes(store);
    EXPECT_EQ(mounts[2].source_root, volumes.get("nocopy").mountpoint());
    EXPECT_TRUE(mounts[2].read_only);
    EXPECT_TRUE(fs::is_empty(volumes.get("nocopy").mountpoint())) << "nocopy";
    EXPECT_EQ(mounts[3].kind, Kind::kTmpfs);
    EXPECT_EQ(mounts[3].size_bytes, 1u << 20);
    EXPECT_EQ(mounts[3].tmpfs_mode, 0700u);
    EXPECT_EQ(mounts[5].source_root, fs::canonical(tmp.path()));
    EXPECT_EQ(mounts[5].source_path, "/host-file");
    // The named volume was made and filled from the image's /data/deeper —
    // which the image does not have, so it stays empty and unpopulated.
    EXPECT_EQ(mounts[4].source_root, volumes.get("data").mountpoint());
    EXPECT_FALSE(mounts[4].read_only);
    EXPECT_FALSE(volumes.get("data").populated);
}

TEST_F(VolumeCopyUp, SandboxMountsCopyUpANamedVolumeOnFirstUse) {
    Container c;
    c.id = std::string(64, 'd');
    MountSpec m;
    m.type = MountSpec::Type::kVolume;
    m.source = "fresh";
    m.target = "/data";
    c.spec.mounts.push_back(m);
    auto mounts = sandbox_mounts(store, c, layers());
    ASSERT_EQ(mounts.size(), 1u);
    VolumeStore volumes(store);
    EXPECT_EQ(read(volumes.get("fresh").mountpoint() / "a"), "alpha");
    EXPECT_TRUE(volumes.get("fresh").populated);
}

}  // namespace
}  // namespace strata::containers
