// tree_diff: the merged view of layers in overlay format copied into a
// directory, and a changed directory turned back into an overlay upper
// directory (whiteouts char 0:0, opaque directories), comparing exactly.
#include "sandbox/tree_diff.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/temp_dir.hpp"

namespace strata::sandbox {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& s) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << s;
}
std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
void whiteout(const fs::path& p) {
    ASSERT_EQ(::mknod(p.c_str(), S_IFCHR | 0, makedev(0, 0)), 0) << p;
}
void opaque(const fs::path& p) {
    ASSERT_EQ(::setxattr(p.c_str(), "trusted.overlay.opaque", "y", 1, 0), 0) << p;
}
bool is_whiteout(const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0;
}
bool is_opaque(const fs::path& p) {
    char v[4];
    return ::getxattr(p.c_str(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}
// Every path below `dir`, sorted.
std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it)
        out.push_back(it->path().lexically_relative(dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

class TreeDiff : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "whiteouts (mknod) and trusted xattrs need root";
        // Two layers: l1 below, l2 above it, in overlay format.
        write(l1() / "etc/conf", "one\n");
        write(l1() / "etc/gone", "x\n");
        write(l1() / "old/a", "a\n");
        write(l1() / "old/b", "b\n");
        write(l1() / "keep/k", "k\n");
        write(l1() / "same", "12345\n");
        fs::create_directories(l2() / "etc");
        whiteout(l2() / "etc/gone");
        fs::create_directories(l2() / "old");
        opaque(l2() / "old");
        write(l2() / "old/c", "c\n");
        write(l2() / "new", "new\n");
        ::link((l2() / "new").c_str(), (l2() / "new-link").c_str());
    }
    fs::path l1() const { return dir_.path() / "l1"; }
    fs::path l2() const { return dir_.path() / "l2"; }
    fs::path tree() const { return dir_.path() / "tree"; }
    fs::path upper() const { return dir_.path() / "upper"; }
    std::vector<fs::path> lower() const { return {l1(), l2()}; }

    TreeSnapshot copy() {
        fs::create_directories(tree());
        fs::create_directories(upper());
        return materialize_layers(lower(), tree(), &stats_);
    }

    TempDir dir_ = TempDir::create(fs::temp_directory_path(), "tree-diff-");
    CopyStats stats_;
};

TEST_F(TreeDiff, TheCopyIsTheMergedView) {
    copy();
    EXPECT_EQ(listing(tree()), (std::vector<std::string>{"etc", "etc/conf", "keep", "keep/k", "new",
                                                         "new-link", "old", "old/c", "same"}));
    EXPECT_FALSE(is_opaque(tree() / "old")) << "overlay's own xattrs are not copied";
    struct stat a {
    }, b{}, l{};
    ::stat((tree() / "new").c_str(), &a);
    ::stat((tree() / "new-link").c_str(), &b);
    ::stat((l2() / "new").c_str(), &l);
    EXPECT_EQ(a.st_ino, b.st_ino) << "a hard link inside a layer stays one";
    EXPECT_NE(a.st_ino, l.st_ino) << "never a link to the layer's own file";
    EXPECT_EQ(stats_.hardlinked, 1u);
}

TEST_F(TreeDiff, NothingChangedIsAnEmptyLayer) {
    const TreeSnapshot snap = copy();
    diff_tree(lower(), tree(), upper(), &snap);
    EXPECT_TRUE(listing(upper()).empty());
    diff_tree(lower(), tree(), upper(), nullptr);  // comparing every file's content
    EXPECT_TRUE(listing(upper()).empty());
}

TEST_F(TreeDiff, ChangesBecomeAnOverlayUpperDirectory) {
    const TreeSnapshot snap = copy();
    write(tree() / "etc/conf", "two\n");                        // changed content
    fs::remove(tree() / "keep/k");                              // a file removed
    fs::remove_all(tree() / "old");                             // a directory replaced:
    write(tree() / "old/d", "d\n");                             //   opaque, with its content
    ::chmod((tree() / "same").c_str(), 0600);                   // mode only
    write(tree() / "added/deep/file", "f\n");                   // a new directory tree
    ::symlink("/etc", (tree() / "ln").c_str());                 // a new symlink
    ::setxattr((tree() / "new").c_str(), "user.k", "v", 1, 0);  // an xattr

    diff_tree(lower(), tree(), upper(), &snap);
    EXPECT_EQ(listing(upper()),
              (std::vector<std::string>{"added", "added/deep", "added/deep/file", "etc", "etc/conf",
                                        "keep", "keep/k", "ln", "new", "new-link", "old", "old/d",
                                        "same"}));
    EXPECT_EQ(read(upper() / "etc/conf"), "two\n");
    EXPECT_TRUE(is_whiteout(upper() / "keep/k"));
    EXPECT_TRUE(is_opaque(upper() / "old"));
    EXPECT_FALSE(is_opaque(upper() / "etc"));
    EXPECT_FALSE(is_opaque(upper() / "added"));
    EXPECT_EQ(fs::status(upper() / "same").permissions(), fs::perms(0600));
    EXPECT_EQ(fs::read_symlink(upper() / "ln"), "/etc");
    char v[4] = {};
    EXPECT_EQ(::getxattr((upper() / "new").c_str(), "user.k", v, sizeof v), 1);
}

// ext4 hands a freed inode number out again at once: a directory removed
// and made again can have the old one's inode, and only its birth time
// tells it apart (here the snapshot's birth time is made older instead).
TEST_F(TreeDiff, ADirectoryWithTheSameInodeButAnotherBirthIsReplaced) {
    TreeSnapshot snap = copy();
    auto& id = snap.dirs.at("keep");
    if (!id.has_btime) GTEST_SKIP() << "no birth times on this filesystem";
    id.btime_sec -= 10;
    diff_tree(lower(), tree(), upper(), &snap);
    EXPECT_EQ(listing(upper()), (std::vector<std::string>{"keep", "keep/k"}));
    EXPECT_TRUE(is_opaque(upper() / "keep"));
    EXPECT_EQ(snap.dirs.at("etc"), dir_id_at(AT_FDCWD, (tree() / "etc").string()));
}

// Without a snapshot nothing can be skipped: a file whose size and mtime
// were put back is still compared by content.
TEST_F(TreeDiff, SameSizeAndMtimeButOtherContentIsAChange) {
    copy();
    struct stat st {};
    ::stat((tree() / "same").c_str(), &st);
    write(tree() / "same", "54321\n");
    const timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, (tree() / "same").c_str(), times, 0), 0);
    diff_tree(lower(), tree(), upper(), nullptr);
    EXPECT_EQ(listing(upper()), (std::vector<std::string>{"same"}));
    EXPECT_EQ(read(upper() / "same"), "54321\n");
}

// What copying costs: STRATA_MEASURE_COPY=/some/dir copies it as one layer
// and prints the time (no assertion: a measurement, run by hand).
TEST(TreeDiffMeasure, CopyOfALargeTree) {
    const char* src = std::getenv("STRATA_MEASURE_COPY");
    if (!src) GTEST_SKIP() << "set STRATA_MEASURE_COPY to a directory to measure";
    const char* parent = std::getenv("STRATA_MEASURE_DEST");
    TempDir d = TempDir::create(parent ? parent : "/var/tmp", "copy-measure-");
    CopyStats s;
    const auto t0 = std::chrono::steady_clock::now();
    const TreeSnapshot snap = materialize_layers({src}, d.path(), &s);
    const auto t1 = std::chrono::steady_clock::now();
    TempDir up = TempDir::create(d.path().parent_path(), "copy-measure-upper-");
    diff_tree({src}, d.path(), up.path(), &snap);
    const auto t2 = std::chrono::steady_clock::now();
    using ms = std::chrono::milliseconds;
    std::printf(
        "copy: %llu files, %llu dirs, %llu other, %llu bytes, %llu reflinked, %llu "
        "hardlinked: %lld ms; diff of the untouched copy: %lld ms\n",
        static_cast<unsigned long long>(s.files), static_cast<unsigned long long>(s.dirs),
        static_cast<unsigned long long>(s.others), static_cast<unsigned long long>(s.bytes),
        static_cast<unsigned long long>(s.reflinked), static_cast<unsigned long long>(s.hardlinked),
        static_cast<long long>(std::chrono::duration_cast<ms>(t1 - t0).count()),
        static_cast<long long>(std::chrono::duration_cast<ms>(t2 - t1).count()));
}

}  // namespace
}  // namespace strata::sandbox
