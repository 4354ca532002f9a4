// ADD with a wildcard over local archives through whole builds: each
// archive matched is unpacked (BuildKit), and a changed archive is a new key.
#include <gtest/gtest.h>

#include "build_fixture.hpp"
#include "executor/executor_test_util.hpp"

namespace strata::buildtest {
namespace {

using executor::test_util::write_tar;

class AddUnpackBuild : public BuildTest {};

TEST_F(AddUnpackBuild, WildcardUnpacksEachArchive) {
    write_tar(ctx() / "a.tar", {{"from-a", 'f', "A", 0644}});
    write_tar(ctx() / "b.tar", {{"sub/from-b", 'f', "B", 0600}});
    file("c.txt", "plain");
    const Tree t = rootfs(build("FROM scratch\nADD *.tar *.txt /dest/\n"));
    expect_file(t, "/dest/from-a", "A");
    expect_file(t, "/dest/sub/from-b", "B", 0600);
    expect_file(t, "/dest/c.txt", "plain");
    EXPECT_FALSE(t.count("/dest/a.tar"));
    EXPECT_FALSE(t.count("/dest/b.tar"));
}

TEST_F(AddUnpackBuild, ChangedArchiveIsRebuilt) {
    write_tar(ctx() / "a.tar", {{"f", 'f', "1", 0644}});
    write_tar(ctx() / "b.tar", {{"g", 'f', "2", 0644}});
    dockerfile("FROM scratch\nADD [\"*.tar\", \"/d/\"]\n");
    expect_file(rootfs(build()), "/d/g", "2");
    write_tar(ctx() / "b.tar", {{"g", 'f', "changed", 0644}});
    expect_file(rootfs(build()), "/d/g", "changed");
}

}  // namespace
}  // namespace strata::buildtest
