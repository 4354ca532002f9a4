// --chown: parsing, /etc/passwd and /etc/group lookups in the destination
// image, and the owners COPY gives files and the directories it creates.
#include "executor/copy/owner.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

const char* kPasswd =
    "# comment\n"
    "root:x:0:0:root:/root:/bin/sh\n"
    "broken:x:notanumber:1\n"
    "\n"
    "app:x:1001:1002:App:/home/app:/bin/sh\n"
    "app:x:9999:9999:second entry is ignored::\n"
    "svc:x:70:71::/:/sbin/nologin\r\n";
const char* kGroup =
    "root:x:0:\n"
    "staff:x:50:app,svc\n"
    "bad:x:\n"
    "app:x:1002:\n";

TEST(Owner, PasswdAndGroupParsing) {
    auto app = find_passwd_entry(kPasswd, "app");
    ASSERT_TRUE(app);
    EXPECT_EQ(app->uid, 1001u);
    EXPECT_EQ(app->gid, 1002u);
    auto svc = find_passwd_entry(kPasswd, "svc");
    ASSERT_TRUE(svc);
    EXPECT_EQ(svc->gid, 71u);
    EXPECT_FALSE(find_passwd_entry(kPasswd, "broken"));
    EXPECT_FALSE(find_passwd_entry(kPasswd, "nobody"));
    EXPECT_FALSE(find_passwd_entry(kPasswd, "# comment"));
    auto staff = find_group_entry(kGroup, "staff");
    ASSERT_TRUE(staff);
    EXPECT_EQ(staff->gid, 50u);
    EXPECT_FALSE(find_group_entry(kGroup, "bad"));
}

TEST(Owner, ParseSpec) {
    auto s = ChownSpec::parse("app:staff");
    EXPECT_EQ(s.user, "app");
    ASSERT_TRUE(s.group);
    EXPECT_EQ(*s.group, "staff");
    EXPECT_FALSE(ChownSpec::parse("1000").group);
    EXPECT_THROW(ChownSpec::parse(":staff"), Error);
    EXPECT_THROW(ChownSpec::parse("app:"), Error);
    EXPECT_THROW(ChownSpec::parse(""), Error);
    EXPECT_EQ(parse_id("4294967295"), 4294967295u);
    EXPECT_FALSE(parse_id("4294967296"));
    EXPECT_FALSE(parse_id("-1"));
}

class ChownCopy : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-chown-");
        ctx_ = tmp_->path() / "ctx";
        parent_ = tmp_->path() / "parent";
        layer_ = tmp_->path() / "layer";
        tree(ctx_, {"f a.txt 0644 1234:1234", "d dir 0750", "f dir/in 0600"});
        // Alpine-like: /etc/passwd is reached through a symlink.
        tree(parent_,
             {"d etc 0755", "d usr/share/base 0755", "l etc/group ../usr/share/base/group"});
        write_text(parent_ / "etc/passwd", kPasswd);
        write_text(parent_ / "usr/share/base/group", kGroup);
        fs::create_directories(layer_);
    }

    std::vector<std::string> copy(const std::string& chown, std::vector<std::string> sources,
                                  const std::string& dest) {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        CopyRequest req;
        req.sources = std::move(sources);
        req.dest = dest;
        req.chown = chown;
        run_copy(req, context, below, layer_);
        auto lines = snapshot(layer_);
        std::sort(lines.begin(), lines.end());
        return lines;
    }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_;
};

TEST_F(ChownCopy, UserAndGroupNames) {
    EXPECT_EQ(join_lines(copy("app:staff", {"a.txt", "dir"}, "/srv/app/")),
              sorted_lines({"d /srv 0755 1001:50", "d /srv/app 0755 1001:50",
                            "f /srv/app/a.txt 0644 1001:50 =a.txt",
                            "f /srv/app/in 0600 1001:50 =dir/in"}));
}

TEST_F(ChownCopy, UserNameGivesPrimaryGroup) {
    EXPECT_EQ(join_lines(copy("app", {"a.txt"}, "/x")),
              sorted_lines({"f /x 0644 1001:1002 =a.txt"}));
}

TEST_F(ChownCopy, NumericUserWithNamedGroup) {
    EXPECT_EQ(join_lines(copy("4000:staff", {"a.txt"}, "/x")),
              sorted_lines({"f /x 0644 4000:50 =a.txt"}));
}

TEST_F(ChownCopy, NamedUserNumericGroup) {
    EXPECT_EQ(join_lines(copy("svc:9", {"a.txt"}, "/x")), sorted_lines({"f /x 0644 70:9 =a.txt"}));
}

TEST_F(ChownCopy, UnknownUserIsAnError) {
    try {
        copy("nobody", {"a.txt"}, "/x");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(e.what()).find("unknown user 'nobody'"), std::string::npos)
            << e.what();
    }
}

TEST_F(ChownCopy, UnknownGroupIsAnError) {
    try {
        copy("app:wheel", {"a.txt"}, "/x");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unknown group 'wheel'"), std::string::npos)
            << e.what();
    }
}

TEST_F(ChownCopy, NoPasswdFileMeansUnknown) {
    fs::remove(parent_ / "etc/passwd");
    EXPECT_THROW(copy("app", {"a.txt"}, "/x"), Error);
    // Numeric ids need no file.
    EXPECT_EQ(join_lines(copy("5:6", {"a.txt"}, "/y")), sorted_lines({"f /y 0644 5:6 =a.txt"}));
}

TEST_F(ChownCopy, WithoutChownContextFilesAreRootAndParentsRoot) {
    EXPECT_EQ(join_lines(copy("", {"a.txt"}, "/new/dir/")),
              sorted_lines(
                  {"d /new 0755 0:0", "d /new/dir 0755 0:0", "f /new/dir/a.txt 0644 0:0 =a.txt"}));
}

}  // namespace
}  // namespace strata::executor
