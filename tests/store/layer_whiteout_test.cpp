// Whiteouts and opaque directories, both directions: overlay upperdir → tar
// (.wh.* entries) → unpacked layer (overlay format) or merged rootfs (applied).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "base/error.hpp"
#include "store/content_store.hpp"
#include "store/layer_fixture.hpp"
#include "store/layer_reader.hpp"
#include "store/layer_writer.hpp"
#include "store/whiteout.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

bool is_whiteout(const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && is_overlay_whiteout(st);
}

std::string xattr(const fs::path& p, const char* name) {
    char buf[64];
    ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

std::vector<std::string> names(const std::vector<TarEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries)
        out.push_back(e.name);
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// An overlay upperdir: two whiteouts, a trusted-opaque and a user-opaque dir.
void make_upperdir(const fs::path& up) {
    fs::create_directories(up / "d");
    ASSERT_EQ(::mknod((up / "gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
    ASSERT_EQ(::mknod((up / "d" / "gone2").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
    write_file(up / "o" / "new", "new");
    set_xattr(up / "o", kTrustedOpaqueXattr, "y");
    write_file(up / "u" / "new", "new");
    set_xattr(up / "u", kUserOpaqueXattr, "y");
    write_file(up / "d" / "kept", "kept");
    for (auto it = fs::recursive_directory_iterator(up); it != fs::recursive_directory_iterator();
         ++it)
        set_mtime(it->path(), 1700000000);
}

class Whiteouts : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!is_root())
            GTEST_SKIP() << "overlay whiteouts need CAP_MKNOD and trusted.* xattrs (run as root)";
    }
};

TEST_F(Whiteouts, UpperdirBecomesOciWhiteoutEntries) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    make_upperdir(work.path() / "up");
    auto blob = write_layer(work.path() / "up", cs, {});
    auto entries = read_tar(cs.read(blob.digest));
    auto n = names(entries);
    EXPECT_TRUE(contains(n, ".wh.gone"));
    EXPECT_TRUE(contains(n, "d/.wh.gone2"));
    EXPECT_TRUE(contains(n, "o/.wh..wh..opq"));
    EXPECT_TRUE(contains(n, "u/.wh..wh..opq"));
    EXPECT_FALSE(contains(n, "gone"));
    for (const auto& e : entries) {
        if (e.name.find(".wh.") != std::string::npos) {
            EXPECT_TRUE(S_ISREG(e.mode)) << e.name;
            EXPECT_EQ(e.size, 0) << e.name;
        }
        for (const auto& [k, v] : e.xattrs)
            EXPECT_FALSE(is_overlay_xattr(k)) << e.name << " " << k;
    }
}

TEST_F(Whiteouts, OverlayModeRoundTripsTheUpperdir) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    make_upperdir(work.path() / "up");
    auto blob = write_layer(work.path() / "up", cs, {});
    auto layer = work.path() / "layer";
    fs::create_directories(layer);
    auto fd = cs.open(blob.digest);
    ApplyOptions o;
    o.whiteouts = WhiteoutMode::kOverlay;
    EXPECT_EQ(apply_layer(fd.get(), layer, o), blob.diff_id);
    EXPECT_TRUE(is_whiteout(layer / "gone"));
    EXPECT_TRUE(is_whiteout(layer / "d" / "gone2"));
    EXPECT_EQ(xattr(layer / "o", kTrustedOpaqueXattr), "y");
    EXPECT_EQ(xattr(layer / "u", kTrustedOpaqueXattr), "y");
    EXPECT_FALSE(fs::exists(layer / "o" / ".wh..wh..opq"));
    EXPECT_EQ(read_file(layer / "o" / "new"), "new");
    // And back to the same tar.
    auto again = write_layer(layer, cs, {});
    EXPECT_EQ(again.digest, blob.digest);
    EXPECT_EQ(again.diff_id, blob.diff_id);
}

TEST_F(Whiteouts, OverlayModeCanUseUserXattrs) {
    auto work = scratch();
    auto tar = TarBuilder().dir("o").file("o/.wh..wh..opq", "").finish();
    fs::create_directories(work.path() / "layer");
    ApplyOptions o;
    o.whiteouts = WhiteoutMode::kOverlay;
    o.user_xattr_overlay = true;
    auto fd = fd_with(tar);
    apply_layer(fd.get(), work.path() / "layer", o);
    EXPECT_EQ(xattr(work.path() / "layer" / "o", kUserOpaqueXattr), "y");
    EXPECT_EQ(xattr(work.path() / "layer" / "o", kTrustedOpaqueXattr), "");
}

TEST_F(Whiteouts, ApplyModeDeletesAndClearsLowerContent) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    make_upperdir(work.path() / "up");
    auto blob = write_layer(work.path() / "up", cs, {});
    // The merged rootfs of the lower layers.
    auto root = work.path() / "root";
    write_file(root / "gone", "lower");
    write_file(root / "d" / "gone2", "lower");
    write_file(root / "d" / "other", "lower");
    write_file(root / "o" / "old", "lower");
    fs::create_directories(root / "o" / "olddir" / "sub");
    write_file(root / "u" / "old", "lower");
    write_file(root / "keep", "lower");
    auto fd = cs.open(blob.digest);
    apply_layer(fd.get(), root);
    EXPECT_FALSE(fs::exists(fs::symlink_status(root / "gone")));
    EXPECT_FALSE(fs::exists(root / "d" / "gone2"));
    EXPECT_TRUE(fs::exists(root / "d" / "other"));
    EXPECT_EQ(read_file(root / "d" / "kept"), "kept");
    EXPECT_FALSE(fs::exists(root / "o" / "old"));
    EXPECT_FALSE(fs::exists(root / "o" / "olddir"));
    EXPECT_EQ(read_file(root / "o" / "new"), "new");
    EXPECT_FALSE(fs::exists(root / "u" / "old"));
    EXPECT_TRUE(fs::exists(root / "keep"));
    EXPECT_FALSE(fs::exists(root / ".wh.gone"));
    EXPECT_FALSE(fs::exists(root / "o" / ".wh..wh..opq"));
}

TEST_F(Whiteouts, OpaqueMarkerIsNotReadAsAPlainWhiteout) {
    // Read as `.wh.` + ".wh..opq", the marker would delete a file named
    // ".wh..opq" and leave the lower content visible.
    auto work = scratch();
    auto root = work.path() / "root";
    write_file(root / "o" / "lower", "x");
    write_file(root / "o" / ".wh..opq", "decoy");
    auto fd = fd_with(TarBuilder().dir("o").file("o/.wh..wh..opq", "").finish());
    apply_layer(fd.get(), root);
    EXPECT_TRUE(fs::is_directory(root / "o"));
    EXPECT_FALSE(fs::exists(root / "o" / "lower"));
    EXPECT_FALSE(fs::exists(root / "o" / ".wh..opq"));
}

TEST_F(Whiteouts, SameLayerEntriesSurviveWhiteoutsInAnyOrder) {
    // OCI: whiteouts apply to lower layers only, wherever the marker sits.
    auto work = scratch();
    auto root = work.path() / "root";
    write_file(root / "o" / "old", "lower");
    write_file(root / "f", "lower");
    auto tar = TarBuilder()
                   .dir("o")
                   .file("o/new", "this layer")
                   .dir("o/sub")
                   .file("o/sub/x", "this layer")
                   .file("o/.wh..wh..opq", "")  // after its siblings
                   .file("f", "this layer")
                   .file(".wh.f", "")
                   .file(".wh..wh.plnk", "")  // AUFS metadata: ignored
                   .finish();
    auto fd = fd_with(tar);
    apply_layer(fd.get(), root);
    EXPECT_FALSE(fs::exists(root / "o" / "old"));
    EXPECT_EQ(read_file(root / "o" / "new"), "this layer");
    EXPECT_EQ(read_file(root / "o" / "sub" / "x"), "this layer");
    EXPECT_EQ(read_file(root / "f"), "this layer");
    EXPECT_FALSE(fs::exists(root / ".wh..wh.plnk"));
}

TEST_F(Whiteouts, OverlayModeKeepsSameLayerEntries) {
    auto work = scratch();
    auto layer = work.path() / "layer";
    fs::create_directories(layer);
    auto fd = fd_with(TarBuilder().file("f", "mine").file(".wh.f", "").file(".wh.g", "").finish());
    ApplyOptions o;
    o.whiteouts = WhiteoutMode::kOverlay;
    apply_layer(fd.get(), layer, o);
    EXPECT_EQ(read_file(layer / "f"), "mine");
    EXPECT_TRUE(is_whiteout(layer / "g"));
}

TEST_F(Whiteouts, WhiteoutOfAMissingPathIsHarmless) {
    auto work = scratch();
    auto root = work.path() / "root";
    fs::create_directories(root);
    auto fd = fd_with(TarBuilder().file("nope/.wh.x", "").file(".wh.y", "").finish());
    EXPECT_NO_THROW(apply_layer(fd.get(), root));
    EXPECT_TRUE(fs::is_empty(root));
}

TEST_F(Whiteouts, OverlayMountOfUnpackedLayersMatchesAppliedRootfs) {
    // The real check of kOverlay: overlayfs must show what kApply builds.
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    auto base = work.path() / "base";
    write_file(base / "gone", "lower");
    write_file(base / "d" / "gone2", "lower");
    write_file(base / "d" / "other", "lower");
    write_file(base / "o" / "old", "lower");
    write_file(base / "u" / "old", "lower");
    write_file(base / "keep", "lower");
    for (auto it = fs::recursive_directory_iterator(base); it != fs::recursive_directory_iterator();
         ++it)
        set_mtime(it->path(), 1700000000);
    make_upperdir(work.path() / "up");
    auto l1 = write_layer(base, cs, {});
    auto l2 = write_layer(work.path() / "up", cs, {});

    auto applied = work.path() / "applied";
    fs::create_directories(applied);
    for (const auto& l : {l1, l2}) {
        auto fd = cs.open(l.digest);
        apply_layer(fd.get(), applied);
    }
    ApplyOptions ov;
    ov.whiteouts = WhiteoutMode::kOverlay;
    std::vector<fs::path> lowers;
    for (const auto& l : {l1, l2}) {
        lowers.push_back(work.path() / ("layer-" + l.diff_id.short_id()));
        fs::create_directories(lowers.back());
        auto fd = cs.open(l.digest);
        apply_layer(fd.get(), lowers.back(), ov);
    }
    auto merged = work.path() / "merged";
    fs::create_directories(merged);
    std::string opts = "lowerdir=" + lowers[1].string() + ":" + lowers[0].string();
    if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0)
        GTEST_SKIP() << "cannot mount overlayfs here: " << std::strerror(errno);
    auto shown = describe_tree(merged, false);
    ::umount2(merged.c_str(), MNT_DETACH);
    EXPECT_EQ(shown, describe_tree(applied, false));
}

}  // namespace
