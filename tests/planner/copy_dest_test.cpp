// BuildKit's COPY/ADD destination rule (planner/copy_dest.hpp), shared by the
// planner and the executor: pathRelativeToWorkingDir with keepSlash, then the
// file op's cleanPath.
#include "planner/copy_dest.hpp"

#include <gtest/gtest.h>

#include <string>

namespace strata::planner {
namespace {

TEST(CopyDest, RelativeToTheWorkingDirectory) {
    EXPECT_EQ(copy_dest("/app", "x"), "/app/x");
    EXPECT_EQ(copy_dest("/app", "x/y"), "/app/x/y");
    EXPECT_EQ(copy_dest("/app", "../etc"), "/etc");
    EXPECT_EQ(copy_dest("/app", "../../../x"), "/x");
    EXPECT_EQ(copy_dest("/app", "x/.."), "/app");
    EXPECT_EQ(copy_dest("", "rel"), "/rel");
    EXPECT_EQ(copy_dest("app", "rel"), "/app/rel");  // a relative workdir hangs off "/"
    EXPECT_EQ(copy_dest("/a//b/", "c"), "/a/b/c");
}

TEST(CopyDest, EmptyAndDotMeanIntoTheWorkingDirectory) {
    EXPECT_EQ(copy_dest("/app", ""), "/app/");
    EXPECT_EQ(copy_dest("/app", "."), "/app/");
    EXPECT_EQ(copy_dest("/app", "./"), "/app/");
    EXPECT_EQ(copy_dest("/", "."), "/");
    EXPECT_EQ(copy_dest("", ""), "/");
}

TEST(CopyDest, TrailingSlashIsKept) {
    EXPECT_EQ(copy_dest("/app", "x/"), "/app/x/");
    EXPECT_EQ(copy_dest("/app", "../etc/"), "/etc/");
    EXPECT_EQ(copy_dest("/app", "x//"), "/app/x/");
    EXPECT_EQ(copy_dest("/app", "/abs/"), "/abs/");
    EXPECT_EQ(copy_dest("/app", "/"), "/");
    EXPECT_EQ(copy_dest("/app", "x/../"), "/app/");
}

// BuildKit keeps a trailing "/." as written (NormalizePath's keepSlash, then
// the file op's cleanPath); its copy then treats "dir/." like "dir/". The
// planner used to turn it into "dir/" and the executor kept "dir/.": both now
// take this one rule.
TEST(CopyDest, TrailingSlashDotIsKept) {
    EXPECT_EQ(copy_dest("/app", "x/."), "/app/x/.");
    EXPECT_EQ(copy_dest("/app", "/y/."), "/y/.");
    EXPECT_EQ(copy_dest("/app", "/abs/./d/."), "/abs/d/.");
    EXPECT_EQ(copy_dest("/", "/."), "/.");
    EXPECT_EQ(copy_dest("/app", "./."), "/app/.");
    EXPECT_EQ(copy_dest("/app", "../."), "/.");
}

TEST(CopyDest, AbsoluteDestinationsAreCleaned) {
    EXPECT_EQ(copy_dest("/app", "/abs//y"), "/abs/y");
    EXPECT_EQ(copy_dest("/app", "/a/./b/../c"), "/a/c");
    EXPECT_EQ(copy_dest("/app", "/../x"), "/x");
    EXPECT_EQ(copy_dest("/app", "//"), "/");
}

TEST(CopyDest, DirectorySpelling) {
    EXPECT_TRUE(copy_dest_is_dir(copy_dest("/app", ".")));
    EXPECT_TRUE(copy_dest_is_dir(copy_dest("/app", "x/")));
    EXPECT_TRUE(copy_dest_is_dir(copy_dest("/app", "x/.")));
    EXPECT_TRUE(copy_dest_is_dir("/"));
    EXPECT_TRUE(copy_dest_is_dir("/."));
    EXPECT_FALSE(copy_dest_is_dir(copy_dest("/app", "x")));
    EXPECT_FALSE(copy_dest_is_dir("/app/x.d"));
}

}  // namespace
}  // namespace strata::planner
