// open_in_root and what is built on it: one table of hostile paths, run
// through openat2(2) and through the walk used where the kernel lacks it.
#include "base/in_root.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "base/temp_dir.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;

enum class Backend { kOpenat2, kWalk };

void write_file(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
}

std::string read_fd(int fd) {
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()))) > 0)
        out.append(buf, static_cast<size_t>(n));
    return out;
}

// <work>/outside/secret is what an escape would reach; <work>/root is the
// root, with its own /outside/secret that a clamped ".." reaches instead.
class InRoot : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        if (GetParam() == Backend::kOpenat2 && !detail::openat2_available())
            GTEST_SKIP() << "this kernel has no openat2(2)";
        detail::force_in_root_walk(GetParam() == Backend::kWalk);
        work_.emplace(TempDir::create(fs::temp_directory_path(), "strata-inroot-"));
        outside_ = work_->path() / "outside";
        root_ = work_->path() / "root";
        write_file(outside_ / "secret", "host secret");
        write_file(root_ / "outside" / "secret", "inside secret");
        write_file(root_ / "dir" / "f", "inside f");
        write_file(root_ / "etc" / "passwd", "inside passwd");
        auto link = [&](const std::string& target, const std::string& name) {
            fs::create_symlink(target, root_ / name);
        };
        link("/", "to_root");
        link("..", "to_dotdot");
        link("../../../..", "to_dotdots");
        link("../outside", "rel_outside");
        link(outside_.string(), "abs_host");
        link("loop_b", "loop_a");
        link("loop_a", "loop_b");
        link("self_loop", "self_loop");
        link("/proc/self/root", "proc_root");
        link("dir/f", "file_link");
        link("/made/here", "dangling_dir");
        link("/new-target", "dangling");
        link("/dir/../to_dotdots/dir", "dir_via_links");
        // 41 links in a row (one more than the kernel follows) and 40.
        for (int i = 0; i < 41; ++i)
            link(i == 40 ? "dir/f" : "long" + std::to_string(i + 1), "long" + std::to_string(i));
        root_fd_.reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(root_fd_);
    }
    void TearDown() override { detail::force_in_root_walk(false); }

    // (dev, ino) of <root>/rel, not following a final symlink.
    std::pair<dev_t, ino_t> id_of(const std::string& rel) {
        struct stat st {};
        const fs::path p = rel.empty() ? root_ : root_ / rel;
        EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
        return {st.st_dev, st.st_ino};
    }
    static std::pair<dev_t, ino_t> id_of_fd(int fd) {
        struct stat st {};
        EXPECT_EQ(::fstat(fd, &st), 0);
        return {st.st_dev, st.st_ino};
    }
    size_t outside_entries() {
        size_t n = 0;
        for ([[maybe_unused]] auto& e : fs::recursive_directory_iterator(outside_))
            ++n;
        return n;
    }

    std::optional<TempDir> work_;
    fs::path outside_, root_;
    UniqueFd root_fd_;
};

struct Case {
    std::string path;
    int flags;
    int err;            // 0: opens
    std::string lands;  // then: which entry of the root it opened ("" = the root)
};

TEST_P(InRoot, TableOfPaths) {
    std::string dotdots;
    for (int i = 0; i < 1300; ++i)
        dotdots += "../";
    std::string dots = "dir/";
    for (int i = 0; i < 1000; ++i)
        dots += "./";
    const Case cases[] = {
        {"dir/f", O_RDONLY, 0, "dir/f"},
        {"/dir/f", O_RDONLY, 0, "dir/f"},
        {"../../../dir/f", O_RDONLY, 0, "dir/f"},
        {"dir/../../../../etc/passwd", O_RDONLY, 0, "etc/passwd"},
        {"/", O_PATH | O_DIRECTORY, 0, ""},
        {".", O_PATH | O_DIRECTORY, 0, ""},
        {"..", O_RDONLY | O_DIRECTORY, 0, ""},
        {"dir/..", O_PATH, 0, ""},
        {"dir/", O_RDONLY | O_DIRECTORY, 0, "dir"},
        // Symlinks to "/" and ".." never climb above the root.
        {"to_root", O_PATH | O_DIRECTORY, 0, ""},
        {"to_root/", O_PATH, 0, ""},
        {"to_root/etc/passwd", O_RDONLY, 0, "etc/passwd"},
        {"to_root/../../etc/passwd", O_RDONLY, 0, "etc/passwd"},
        {"to_dotdot/etc/passwd", O_RDONLY, 0, "etc/passwd"},
        {"to_dotdots/outside/secret", O_RDONLY, 0, "outside/secret"},
        {"rel_outside/secret", O_RDONLY, 0, "outside/secret"},
        {"dir_via_links/f", O_RDONLY, 0, "dir/f"},
        // An absolute link to a host path means that path inside the root.
        {"abs_host/secret", O_RDONLY, ENOENT, ""},
        {"proc_root/etc/passwd", O_RDONLY, ENOENT, ""},
        // Loops.
        {"loop_a", O_RDONLY, ELOOP, ""},
        {"loop_a/x", O_RDONLY, ELOOP, ""},
        {"self_loop/x", O_PATH, ELOOP, ""},
        {"long0", O_RDONLY, ELOOP, ""},
        {"long1", O_RDONLY, 0, "dir/f"},  // 40 links: the most the kernel follows
        // A symlink as the last component.
        {"file_link", O_RDONLY, 0, "dir/f"},
        {"file_link", O_PATH | O_NOFOLLOW, 0, "file_link"},
        {"file_link", O_RDONLY | O_NOFOLLOW, ELOOP, ""},
        {"to_root", O_PATH | O_NOFOLLOW, 0, "to_root"},
        {"to_root/", O_PATH | O_NOFOLLOW, 0, ""},  // a trailing slash follows it
        // Not there, not a directory.
        {"missing/x", O_RDONLY, ENOENT, ""},
        {"dir/f/", O_RDONLY, ENOTDIR, ""},
        {"dir/f/x", O_RDONLY, ENOTDIR, ""},
        {"", O_RDONLY, ENOENT, ""},
        // Long paths.
        {dotdots + "dir/f", O_RDONLY, 0, "dir/f"},
        {dots + "f", O_RDONLY, 0, "dir/f"},
        {std::string(5000, 'a'), O_RDONLY, ENAMETOOLONG, ""},
        {dotdots + dotdots + "dir/f", O_RDONLY, ENAMETOOLONG, ""},
        {"dir/" + std::string(300, 'x'), O_RDONLY, ENAMETOOLONG, ""},
        // NUL bytes.
        {std::string("dir\0/f", 6), O_RDONLY, EINVAL, ""},
        {std::string("dir/f\0", 6), O_RDONLY, EINVAL, ""},
    };
    for (const Case& c : cases) {
        const std::string shown = c.path.size() > 60 ? c.path.substr(0, 60) + "..." : c.path;
        SCOPED_TRACE("path \"" + shown + "\" flags " + std::to_string(c.flags));
        errno = 0;
        UniqueFd fd = open_in_root(root_fd_.get(), c.path, c.flags);
        if (c.err != 0) {
            EXPECT_FALSE(fd);
            EXPECT_EQ(errno, c.err) << std::strerror(errno);
            continue;
        }
        ASSERT_TRUE(fd) << std::strerror(errno);
        EXPECT_EQ(id_of_fd(fd.get()), id_of(c.lands));
    }
}

TEST_P(InRoot, TheWalkAndTheKernelAgreeOnFlags) {
    // The walk itself, called directly, on a few cases of the table.
    UniqueFd fd = detail::open_in_root_walk(root_fd_.get(), "to_dotdots/outside/secret", O_RDONLY);
    ASSERT_TRUE(fd);
    EXPECT_EQ(read_fd(fd.get()), "inside secret");
    EXPECT_FALSE(detail::open_in_root_walk(root_fd_.get(), "loop_a", O_RDONLY));
    EXPECT_EQ(errno, ELOOP);
    EXPECT_FALSE(detail::open_in_root_walk(root_fd_.get(), "abs_host/secret", O_RDONLY));
    EXPECT_EQ(errno, ENOENT);
}

TEST_P(InRoot, CreateLandsInside) {
    // Through a symlink to "/", to "../../..", and a dangling one.
    for (const char* p : {"to_root/new1", "to_dotdots/new2", "to_dotdot/dir/new3", "dangling"}) {
        SCOPED_TRACE(p);
        UniqueFd fd = open_in_root(root_fd_.get(), p, O_WRONLY | O_CREAT, 0644);
        ASSERT_TRUE(fd) << std::strerror(errno);
        ASSERT_EQ(::write(fd.get(), "x", 1), 1);
    }
    EXPECT_TRUE(fs::exists(root_ / "new1"));
    EXPECT_TRUE(fs::exists(root_ / "new2"));
    EXPECT_TRUE(fs::exists(root_ / "dir" / "new3"));
    EXPECT_TRUE(fs::exists(root_ / "new-target"));
    // A symlinked directory that points at a host directory: not followed there.
    EXPECT_FALSE(open_in_root(root_fd_.get(), "abs_host/new4", O_WRONLY | O_CREAT, 0644));
    EXPECT_EQ(errno, ENOENT);
    // O_EXCL does not follow the last symlink.
    EXPECT_FALSE(open_in_root(root_fd_.get(), "file_link", O_WRONLY | O_CREAT | O_EXCL, 0644));
    EXPECT_EQ(errno, EEXIST);
    EXPECT_EQ(outside_entries(), 1u) << "something was created outside the root";
    std::ifstream in(outside_ / "secret");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(s, "host secret");
}

TEST_P(InRoot, MagicLinksAreRefused) {
    // /proc as the root: /proc/self is a plain symlink, /proc/self/root a
    // magic one that would jump to the host's "/".
    UniqueFd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(proc);
    UniqueFd ok = open_in_root(proc.get(), "self/status", O_RDONLY);
    EXPECT_TRUE(ok) << std::strerror(errno);
    const std::string own_fd = "self/fd/" + std::to_string(proc.get());
    for (const std::string& p :
         {std::string("self/root/etc/passwd"), std::string("self/root"), std::string("self/cwd"),
          std::string("thread-self/root/etc"), own_fd, std::string("self/exe")}) {
        SCOPED_TRACE(p);
        EXPECT_FALSE(open_in_root(proc.get(), p, O_RDONLY));
        EXPECT_EQ(errno, ELOOP);
    }
    // The link itself may be opened, as a link.
    UniqueFd link = open_in_root(proc.get(), "self/root", O_PATH | O_NOFOLLOW);
    ASSERT_TRUE(link) << std::strerror(errno);
    struct stat st {};
    ASSERT_EQ(::fstat(link.get(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_P(InRoot, RefuseModeFailsWhereClampWouldStayAtTheRoot) {
    auto open_refusing = [&](const char* p) {
        return open_in_root(root_fd_.get(), p, O_RDONLY, 0, InRootEscape::kRefuse);
    };
    for (const char* p : {"to_dotdot/etc/passwd", "rel_outside/secret", "../etc/passwd",
                          "to_dotdots/dir/f", "dir/../../etc/passwd"}) {
        SCOPED_TRACE(p);
        EXPECT_FALSE(open_refusing(p));
        EXPECT_EQ(errno, EXDEV);
    }
    // Absolute links still start again at the root; ".." inside is fine.
    for (const char* p : {"to_root/etc/passwd", "dir/../etc/passwd", "/etc/passwd", "file_link"}) {
        SCOPED_TRACE(p);
        EXPECT_TRUE(open_refusing(p)) << std::strerror(errno);
    }
    EXPECT_FALSE(open_refusing("missing"));
    EXPECT_EQ(errno, ENOENT);
}

TEST_P(InRoot, ParentAndMakeDirs) {
    auto p = open_parent_in_root(root_fd_.get(), "to_dotdots/a/b/leaf", true);
    ASSERT_TRUE(p.dir) << std::strerror(errno);
    EXPECT_EQ(p.leaf, "leaf");
    EXPECT_EQ(id_of_fd(p.dir.get()), id_of("a/b"));

    // Through a dangling symlink to a directory: its target is made, inside.
    p = open_parent_in_root(root_fd_.get(), "dangling_dir/sub/leaf", true);
    ASSERT_TRUE(p.dir) << std::strerror(errno);
    EXPECT_EQ(id_of_fd(p.dir.get()), id_of("made/here/sub"));

    p = open_parent_in_root(root_fd_.get(), "x/y/z", false);
    EXPECT_FALSE(p.dir);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_FALSE(fs::exists(root_ / "x"));

    p = open_parent_in_root(root_fd_.get(), "/", false);
    ASSERT_TRUE(p.dir);
    EXPECT_EQ(p.leaf, "");
    EXPECT_EQ(id_of_fd(p.dir.get()), id_of(""));

    p = open_parent_in_root(root_fd_.get(), "dir/..", false);
    EXPECT_FALSE(p.dir);
    EXPECT_EQ(errno, EINVAL);

    p = open_parent_in_root(root_fd_.get(), "dir/f/leaf", true);
    EXPECT_FALSE(p.dir);
    EXPECT_EQ(errno, ENOTDIR);

    UniqueFd d = make_dirs_in_root(root_fd_.get(), "abs_host/m1/m2");
    ASSERT_TRUE(d) << std::strerror(errno);
    EXPECT_EQ(id_of_fd(d.get()), id_of(fs::relative(outside_, "/").string() + "/m1/m2"));
    d = make_dirs_in_root(root_fd_.get(), "n1/missing/../n2");
    ASSERT_TRUE(d) << std::strerror(errno);
    EXPECT_EQ(id_of_fd(d.get()), id_of("n1/n2"));
    EXPECT_FALSE(make_dirs_in_root(root_fd_.get(), "loop_a/x"));
    EXPECT_EQ(errno, ELOOP);
    EXPECT_EQ(outside_entries(), 1u) << "something was created outside the root";
}

INSTANTIATE_TEST_SUITE_P(Backends, InRoot, ::testing::Values(Backend::kOpenat2, Backend::kWalk),
                         [](const auto& info) {
                             return info.param == Backend::kOpenat2 ? std::string("openat2")
                                                                    : std::string("walk");
                         });

TEST(CleanInRoot, AsGoPathCleanMadeAbsolute) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "/"},           {"/", "/"},           {"a/./b/", "/a/b"}, {"/../../tmp/x", "/tmp/x"},
        {"a/../../b", "/b"}, {"//a//b//", "/a/b"}, {"..", "/"},        {"a/b/../c/.", "/a/c"},
    };
    for (const auto& [in, out] : cases)
        EXPECT_EQ(clean_in_root(in), out) << in;
}

}  // namespace
}  // namespace strata
