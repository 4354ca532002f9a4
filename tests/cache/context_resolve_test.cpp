// COPY source resolution inside a snapshot: symlinks followed within the
// context, anything leading outside is an error.
#include <gtest/gtest.h>

#include <string>

#include "base/error.hpp"
#include "cache/context_resolve.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/memory_filesystem.hpp"

namespace strata::cache {
namespace {

class Resolve : public ::testing::Test {
  protected:
    void SetUp() override {
        fs_.add_file("outside/secret", "s");
        fs_.add_file("ctx/src/main.c", "m");
        fs_.add_file("ctx/src/lib/a.h", "a");
        fs_.add_symlink("ctx/src/cur", "lib");
        fs_.add_symlink("ctx/src/up", "..");
        fs_.add_symlink("ctx/top", "src/lib/a.h");
        fs_.add_symlink("ctx/abs_in", "/ctx/src");
        fs_.add_symlink("ctx/abs_out", "/etc");
        fs_.add_symlink("ctx/esc", "../outside");
        fs_.add_symlink("ctx/src/deep_esc", "lib/../../..");
        fs_.add_symlink("ctx/loop1", "loop2");
        fs_.add_symlink("ctx/loop2", "loop1");
        fs_.add_symlink("ctx/dangling", "nothing/here");
        snap_ = snapshot_context(fs_, "/ctx");
    }
    std::string resolved(std::string_view p, bool follow_last = true) {
        Resolution r = resolve_in_context(snap_, p, follow_last);
        return r.entry ? std::string(r.entry->path) : "<none:" + r.path + ">";
    }
    std::string error_of(std::string_view p, ErrorKind kind = ErrorKind::kUsage) {
        try {
            resolve_in_context(snap_, p);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), kind) << e.what();
            return e.what();
        }
        return "<no error>";
    }

    MemoryFilesystem fs_;
    ContextSnapshot snap_;
};

TEST_F(Resolve, PlainPaths) {
    EXPECT_EQ(resolved("src/main.c"), "src/main.c");
    EXPECT_EQ(resolved("./src//main.c"), "src/main.c");
    EXPECT_EQ(resolved("/src/main.c"), "src/main.c");
    EXPECT_EQ(resolved("src/lib/../main.c"), "src/main.c");
    EXPECT_EQ(resolved("src/"), "src");
    EXPECT_EQ(resolved("."), "");
    EXPECT_EQ(resolved("/"), "");
    EXPECT_EQ(resolved("src/nope"), "<none:src/nope>");
    EXPECT_EQ(resolved("src/main.c/x"), "<none:src/main.c>");
}

TEST_F(Resolve, SymlinksInsideAreFollowed) {
    EXPECT_EQ(resolved("src/cur/a.h"), "src/lib/a.h");
    EXPECT_EQ(resolved("src/cur"), "src/lib");
    EXPECT_EQ(resolved("src/cur", false), "src/cur");
    EXPECT_EQ(resolved("top"), "src/lib/a.h");
    EXPECT_EQ(resolved("src/up/top"), "src/lib/a.h");
    EXPECT_EQ(resolved("src/cur/../main.c"), "src/main.c");  // ".." after a link: physical
    EXPECT_EQ(resolved("dangling"), "<none:nothing>");
    EXPECT_EQ(resolved("dangling", false), "dangling");
}

TEST_F(Resolve, OutsideIsAnError) {
    EXPECT_NE(error_of("../outside/secret").find("outside the build context"), std::string::npos);
    EXPECT_NE(error_of("src/../../x").find("outside the build context"), std::string::npos);
    std::string e = error_of("esc/secret");
    EXPECT_NE(e.find("'esc' is a symlink to '../outside'"), std::string::npos) << e;
    e = error_of("esc");
    EXPECT_NE(e.find("outside the build context"), std::string::npos) << e;
    e = error_of("abs_out/passwd");
    EXPECT_NE(e.find("'abs_out' is a symlink to '/etc'"), std::string::npos) << e;
    e = error_of("src/deep_esc");
    EXPECT_NE(e.find("outside the build context"), std::string::npos) << e;
    e = error_of("src/up/..");
    EXPECT_NE(e.find("outside the build context"), std::string::npos) << e;
    // An absolute target is a host path, even one that names the context.
    e = error_of("abs_in/main.c");
    EXPECT_NE(e.find("'abs_in' is a symlink to '/ctx/src'"), std::string::npos) << e;
    e = error_of("loop1", ErrorKind::kNotFound);
    EXPECT_NE(e.find("too many levels of symbolic links"), std::string::npos) << e;
    // Not following the last component: the link itself is the source.
    EXPECT_EQ(resolve_in_context(snap_, "esc", false).entry, snap_.find("esc"));
}

TEST(CleanContextPath, Cases) {
    EXPECT_EQ(clean_context_path("a/./b//c/"), "a/b/c");
    EXPECT_EQ(clean_context_path("/a/../b"), "b");
    EXPECT_EQ(clean_context_path("."), "");
    EXPECT_EQ(clean_context_path(""), "");
    EXPECT_EQ(clean_context_path(".."), std::nullopt);
    EXPECT_EQ(clean_context_path("a/../../b"), std::nullopt);
}

}  // namespace
}  // namespace strata::cache
