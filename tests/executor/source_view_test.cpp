// LayerStackView and BuildContext: merging a stack of overlay-style layer
// directories (whiteouts, opaque directories), chroot-like symlink
// resolution, .dockerignore visibility, and COPY --from reading a stack.
#include "executor/copy/source_view.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

std::vector<std::string> names(const SourceView& v, const std::string& path) {
    auto n = v.lookup(path, true);
    if (!n) return {"<missing>"};
    std::vector<std::string> out;
    for (const auto& c : v.children(*n))
        out.push_back(c.name);
    return out;
}

class Stack : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-view-");
        l0_ = tmp_->path() / "l0";
        l1_ = tmp_->path() / "l1";
        l2_ = tmp_->path() / "l2";
        tree(l0_, {"d etc 0755", "f etc/a 0644 =a0", "f etc/b 0644 =b0", "d var 0755",
                   "f var/log 0644 =log", "d gone 0755", "f gone/x 0644", "f etc/passwd 0644 =pw",
                   "d opt 0755", "f opt/keep 0600 =keep"});
        tree(l1_,
             {"d etc 0755", "f etc/a 0640 1000:1001 =a1", "w etc/b", "o var", "f var/new 0644 =new",
              "w gone", "l link /etc/a", "l up ../../../etc", "d opt 0755"});
        tree(l2_, {"d gone 0700", "f gone/again 0644 =again"});
    }
    std::optional<TempDir> tmp_;
    fs::path l0_, l1_, l2_;
};

TEST_F(Stack, UpperLayerWinsAndWhiteoutsHide) {
    LayerStackView v({l0_, l1_});
    auto a = v.lookup("/etc/a", true);
    ASSERT_TRUE(a);
    EXPECT_EQ(v.read_all(*a), "a1");
    EXPECT_EQ(a->layer, 1u);
    EXPECT_EQ(a->st.st_uid, 1000u);
    EXPECT_FALSE(v.lookup("/etc/b", true));
    EXPECT_EQ(names(v, "/etc"), (std::vector<std::string>{"a", "passwd"}));
    // Files of lower layers merge into directories of upper ones.
    EXPECT_EQ(names(v, "/opt"), (std::vector<std::string>{"keep"}));
}

TEST_F(Stack, OpaqueDirectoryHidesLowerContent) {
    LayerStackView v({l0_, l1_});
    EXPECT_EQ(names(v, "/var"), (std::vector<std::string>{"new"}));
    EXPECT_FALSE(v.lookup("/var/log", true));
    // Without the upper layer the old content is there.
    LayerStackView lower({l0_});
    EXPECT_EQ(names(lower, "/var"), (std::vector<std::string>{"log"}));
}

TEST_F(Stack, WhiteoutOfDirectoryAndRecreation) {
    LayerStackView v({l0_, l1_});
    EXPECT_FALSE(v.lookup("/gone", true));
    EXPECT_FALSE(v.lookup("/gone/x", true));
    // A later layer makes the directory again, without the old file.
    LayerStackView v2({l0_, l1_, l2_});
    EXPECT_EQ(names(v2, "/gone"), (std::vector<std::string>{"again"}));
    EXPECT_EQ(names(v2, "/"),
              (std::vector<std::string>{"etc", "gone", "link", "opt", "up", "var"}));
}

TEST_F(Stack, SymlinksResolveInsideTheView) {
    LayerStackView v({l0_, l1_});
    auto via_abs = v.resolve("/link", true);
    ASSERT_TRUE(via_abs.node);
    EXPECT_EQ(via_abs.path, "/etc/a");
    EXPECT_EQ(v.read_all(*via_abs.node), "a1");
    auto no_follow = v.lookup("/link", false);
    ASSERT_TRUE(no_follow);
    EXPECT_EQ(no_follow->type, FileType::kSymlink);
    EXPECT_EQ(no_follow->link_target, "/etc/a");
    // "../../../etc" cannot climb above the root: it is /etc of the view,
    // never the host's.
    auto pw = v.resolve("/up/passwd", true);
    ASSERT_TRUE(pw.node);
    EXPECT_EQ(pw.path, "/etc/passwd");
    EXPECT_EQ(v.read_all(*pw.node), "pw");
    EXPECT_EQ(v.host_path(*pw.node), l0_ / "etc/passwd");
    auto missing = v.resolve("/link/../nothing/x", true);
    EXPECT_FALSE(missing.node);
}

TEST_F(Stack, SymlinkLoopIsAnError) {
    fs::path l = tmp_->path() / "loop";
    tree(l, {"l a b", "l b a"});
    LayerStackView v({l});
    EXPECT_THROW(v.resolve("/a/x", true), Error);
}

TEST_F(Stack, EmptyStackIsScratch) {
    LayerStackView v({});
    EXPECT_TRUE(v.children(v.root()).empty());
    EXPECT_FALSE(v.lookup("/etc/passwd", true));
}

TEST_F(Stack, CopyFromStackKeepsOwnersAndSeesOnlyMergedState) {
    LayerStackView stage({l0_, l1_}, "stage 'build'");
    fs::path parent = tmp_->path() / "parent", layer = tmp_->path() / "layer";
    fs::create_directories(parent);
    fs::create_directories(layer);
    LayerStackView below({parent});
    CopyRequest req;
    req.sources = {"/etc", "/var/", "opt/keep", "/link"};
    req.dest = "/out/";
    run_copy(req, stage, below, layer);
    auto got = snapshot(layer);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(join_lines(got),
              sorted_lines({"d /out 0755 0:0", "f /out/a 0640 1000:1001 =a1",
                            "f /out/keep 0600 0:0 =keep", "f /out/link 0640 1000:1001 =a1",
                            "f /out/new 0644 0:0 =new", "f /out/passwd 0644 0:0 =pw"}));
    // A whited-out path is missing, with the stage named.
    req.sources = {"/gone/x"};
    try {
        run_copy(req, stage, below, layer);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(e.what()).find("\"/gone/x\": not found in stage 'build'"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(Stack, CopyFromStackWithChownOverridesOwners) {
    LayerStackView stage({l0_, l1_});
    fs::path parent = tmp_->path() / "parent", layer = tmp_->path() / "layer";
    fs::create_directories(parent);
    fs::create_directories(layer);
    LayerStackView below({parent});
    CopyRequest req;
    req.sources = {"/etc/a"};
    req.dest = "/a";
    req.chown = "7:8";
    run_copy(req, stage, below, layer);
    EXPECT_EQ(join_lines(snapshot(layer)), sorted_lines({"f /a 0640 7:8 =a1"}));
}

// Listing a directory must not hold a descriptor per subdirectory and layer:
// a wide directory in a deep stack has to copy under a small fd limit.
TEST(StackLimits, WideDirectoryUnderSmallDescriptorLimit) {
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-wide-");
    std::vector<fs::path> layers;
    for (int l = 0; l < 4; ++l) {
        fs::path dir = tmp.path() / fmt::format("l{}", l);
        for (int i = 0; i < 600; ++i)
            fs::create_directories(dir / "wide" / fmt::format("d{}", i));
        write_text(dir / "wide/d7" / fmt::format("f{}", l), "x");
        layers.push_back(dir);
    }
    fs::path parent = tmp.path() / "parent", layer = tmp.path() / "layer";
    fs::create_directories(parent);
    fs::create_directories(layer);
    struct rlimit old {};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
    struct rlimit low = old;
    low.rlim_cur = 128;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    size_t copied = 0;
    std::string error;
    try {
        LayerStackView stage(layers);
        LayerStackView below({parent});
        CopyRequest req;
        req.sources = {"/wide"};
        req.dest = "/w/";
        copied = run_copy(req, stage, below, layer).entries;
    } catch (const std::exception& e) {
        error = e.what();
    }
    ::setrlimit(RLIMIT_NOFILE, &old);
    EXPECT_EQ(error, "");
    EXPECT_EQ(copied, 1u + 600u + 4u);  // /w, the directories, d7's four files
}

TEST(BuildContextView, DockerignoreExceptionsKeepParents) {
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-ctx-");
    tree(tmp.path(), {"f a 0644", "d dir 0755", "f dir/drop 0644", "f dir/keep 0644", "d logs 0755",
                      "f logs/x.log 0644", "d empty 0755"});
    BuildContext ctx(tmp.path(),
                     frontend::DockerIgnore::parse("dir\n!dir/keep\nlogs\n", ".dockerignore"));
    EXPECT_EQ(names(ctx, "/"), (std::vector<std::string>{"a", "dir", "empty"}));
    EXPECT_EQ(names(ctx, "/dir"), (std::vector<std::string>{"keep"}));
    EXPECT_FALSE(ctx.lookup("/dir/drop", true));
    EXPECT_FALSE(ctx.lookup("/logs/x.log", true));
    EXPECT_FALSE(ctx.keeps_ownership());
}

TEST(BuildContextView, SymlinksMayNotLeave) {
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-ctx-");
    tree(tmp.path(), {"f a 0644", "d d 0755", "l d/ok ../a", "l d/abs /etc", "l d/up ../.."});
    BuildContext ctx(tmp.path(), frontend::DockerIgnore());
    auto ok = ctx.resolve("/d/ok", true);
    ASSERT_TRUE(ok.node);
    EXPECT_EQ(ok.path, "/a");
    EXPECT_THROW(ctx.resolve("/d/abs/passwd", true), Error);
    EXPECT_THROW(ctx.resolve("/d/up/x", true), Error);
    // Without following, the link itself is an ordinary entry.
    auto abs = ctx.lookup("/d/abs", false);
    ASSERT_TRUE(abs);
    EXPECT_EQ(abs->type, FileType::kSymlink);
}

}  // namespace
}  // namespace strata::executor
