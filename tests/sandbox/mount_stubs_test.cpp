// make_etc_stubs: a RUN step's /etc/hosts and /etc/resolv.conf mount points
// made in its upper directory before the overlay, only where the layers
// surely lack them; remove_stubs takes them out again.
#include "sandbox/mount_stubs.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"

namespace strata::sandbox {
namespace {

namespace fs = std::filesystem;

void etc_dir(const fs::path& l, mode_t mode = 0755) {
    fs::create_directories(l / "etc");
    ::chmod((l / "etc").c_str(), mode);
}
void file(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
}
bool whiteout(const fs::path& p) {
    return ::mknod(p.c_str(), S_IFCHR | 0600, makedev(0, 0)) == 0;
}

class EtcStubsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_.emplace(TempDir::create(fs::temp_directory_path(), "strata-stubs-test-"));
        upper_ = dir_->path() / "upper";
        fs::create_directories(upper_);
    }

    // A new layer directory (lowest first in `lower_`), filled by `fill`.
    fs::path layer(const std::function<void(const fs::path&)>& fill = {}) {
        const fs::path l = dir_->path() / ("layer" + std::to_string(lower_.size()));
        fs::create_directories(l);
        if (fill) fill(l);
        lower_.push_back(l);
        return l;
    }
    std::vector<std::string> make() { return make_etc_stubs(lower_, upper_); }
    bool upper_is_empty() const { return fs::is_empty(upper_); }

    std::optional<TempDir> dir_;
    fs::path upper_;
    std::vector<fs::path> lower_;
};

TEST_F(EtcStubsTest, MadeWithTheModeOfTheTopmostEtc) {
    layer([](const fs::path& l) { etc_dir(l, 0755); });
    layer();  // no /etc: looked through
    layer([](const fs::path& l) { etc_dir(l, 02750); });
    layer();
    EXPECT_EQ(make(), (std::vector<std::string>{"/etc/hosts", "/etc/resolv.conf"}));
    struct stat st {};
    ASSERT_EQ(::lstat((upper_ / "etc").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 02750u) << "as a copy-up of the topmost /etc";
    for (const char* f : {"etc/hosts", "etc/resolv.conf"}) {
        ASSERT_EQ(::lstat((upper_ / f).c_str(), &st), 0) << f;
        EXPECT_TRUE(S_ISREG(st.st_mode)) << f;
        EXPECT_EQ(st.st_size, 0) << f;
    }
    // After the run: the files go, /etc stays (as with init's stubs).
    remove_stubs(upper_, {"/etc/hosts", "/etc/resolv.conf"});
    EXPECT_FALSE(fs::exists(upper_ / "etc/hosts"));
    EXPECT_TRUE(fs::is_directory(upper_ / "etc"));
}

TEST_F(EtcStubsTest, OwnerOfTheTopmostEtc) {
    if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
    layer([](const fs::path& l) {
        etc_dir(l, 0750);
        ASSERT_EQ(::chown((l / "etc").c_str(), 7, 42), 0);
    });
    ASSERT_EQ(make().size(), 2u);
    struct stat st {};
    ASSERT_EQ(::lstat((upper_ / "etc").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 7u);
    EXPECT_EQ(st.st_gid, 42u);
    EXPECT_EQ(st.st_mode & 07777, 0750u);
}

TEST_F(EtcStubsTest, AnOpaqueEtcHidesTheLayersBelow) {
    if (::geteuid() != 0) GTEST_SKIP() << "trusted.* xattrs need root";
    layer([](const fs::path& l) {
        etc_dir(l);
        file(l / "etc/hosts");  // hidden by the opaque /etc above
    });
    layer([](const fs::path& l) {
        etc_dir(l, 0711);
        ASSERT_EQ(::setxattr((l / "etc").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    });
    EXPECT_EQ(make().size(), 2u);
    EXPECT_EQ(fs::status(upper_ / "etc").permissions(),
              fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

// Whenever the layers leave a doubt, nothing is made: init decides inside
// the container, as before.
struct Doubt {
    const char* what;
    std::function<void(const fs::path&)> top;  // over a layer with a plain /etc
};

class EtcStubsDoubtTest : public EtcStubsTest, public ::testing::WithParamInterface<Doubt> {};

TEST_P(EtcStubsDoubtTest, NothingIsMade) {
    layer([](const fs::path& l) { etc_dir(l); });
    layer(GetParam().top);
    EXPECT_TRUE(make().empty()) << GetParam().what;
    EXPECT_TRUE(upper_is_empty()) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Layers, EtcStubsDoubtTest,
    ::testing::Values(
        Doubt{"hosts in a layer", [](const fs::path& l) { file(l / "etc/hosts"); }},
        Doubt{"resolv.conf in a layer", [](const fs::path& l) { file(l / "etc/resolv.conf"); }},
        Doubt{"a symlink for hosts",
              [](const fs::path& l) {
                  fs::create_directories(l / "etc");
                  fs::create_symlink("/nowhere", l / "etc/hosts");
              }},
        Doubt{"/etc a symlink",
              [](const fs::path& l) { fs::create_directory_symlink("/srv/etc", l / "etc"); }},
        Doubt{"/etc a file", [](const fs::path& l) { file(l / "etc"); }},
        Doubt{"/etc whited out",
              [](const fs::path& l) {
                  if (::geteuid() == 0)
                      ASSERT_TRUE(whiteout(l / "etc"));
                  else
                      file(l / "etc");  // mknod needs root: a file is as doubtful
              }},
        Doubt{"hosts whited out",
              [](const fs::path& l) {
                  fs::create_directories(l / "etc");
                  if (::geteuid() == 0)
                      ASSERT_TRUE(whiteout(l / "etc/hosts"));
                  else
                      file(l / "etc/hosts");
              }},
        Doubt{"/etc with an xattr of its own",
              [](const fs::path& l) {
                  fs::create_directories(l / "etc");
                  if (::setxattr((l / "etc").c_str(), "user.test", "1", 1, 0) != 0)
                      file(l / "etc/hosts");  // no user xattrs here: doubt another way
              }}),
    [](const ::testing::TestParamInfo<Doubt>& i) { return "Case" + std::to_string(i.index); });

TEST_F(EtcStubsTest, NoEtcInAnyLayer) {
    layer();
    layer([](const fs::path& l) { fs::create_directories(l / "bin"); });
    EXPECT_TRUE(make().empty());
    EXPECT_TRUE(upper_is_empty());
}

TEST_F(EtcStubsTest, AnUpperWithEtcIsLeftAlone) {
    layer([](const fs::path& l) { etc_dir(l); });
    fs::create_directories(upper_ / "etc");
    file(upper_ / "etc/keep");
    EXPECT_TRUE(make().empty());
    EXPECT_TRUE(fs::exists(upper_ / "etc/keep"));
    EXPECT_FALSE(fs::exists(upper_ / "etc/hosts"));
}

}  // namespace
}  // namespace strata::sandbox
