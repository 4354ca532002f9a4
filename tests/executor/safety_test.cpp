// Escaping attempts: no symlink — in the parent image, in the sources, or one
// that the same COPY just wrote into the layer — may redirect a write outside
// the layer directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor/copy/layer_tree.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

class Safety : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-safe-");
        ctx_ = tmp_->path() / "ctx";
        parent_ = tmp_->path() / "parent";
        layer_ = tmp_->path() / "layer";
        host_ = tmp_->path() / "host";  // stands for the host's filesystem
        for (const auto& d : {ctx_, parent_, layer_, host_})
            fs::create_directories(d);
    }
    void copy(std::vector<std::string> sources, const std::string& dest) {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        CopyRequest req;
        req.sources = std::move(sources);
        req.dest = dest;
        run_copy(req, context, below, layer_);
    }
    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_, host_;
};

TEST_F(Safety, ParentSymlinkToAbsoluteHostPathStaysInLayer) {
    tree(ctx_, {"f pwned 0644"});
    tree(parent_, {"l evil " + host_.string()});
    copy({"pwned"}, "/evil/");
    EXPECT_TRUE(fs::is_empty(host_));
    // The link's target is taken inside the image's root.
    EXPECT_TRUE(fs::exists(layer_ / host_.relative_path() / "pwned"));
}

TEST_F(Safety, SymlinkWrittenByTheSameCopyIsNotFollowed) {
    // a/sub is a symlink to the host directory; b/sub is a directory whose
    // file would land in the host through it.
    tree(ctx_, {"d a 0755", "l a/sub " + host_.string(), "d b 0755", "d b/sub 0755",
                "f b/sub/pwned 0644"});
    try {
        copy({"a", "b"}, "/dst/");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot copy to non-directory: /dst/sub"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(fs::is_empty(host_));
    EXPECT_TRUE(fs::is_symlink(layer_ / "dst/sub"));
}

TEST_F(Safety, FileOverLayerSymlinkReplacesTheLinkNotItsTarget) {
    write_text(host_ / "victim", "original");
    tree(ctx_, {"d a 0755", "l a/f " + (host_ / "victim").string(), "d b 0755", "f b/f 0644"});
    copy({"a", "b"}, "/dst/");
    EXPECT_EQ(read_text(host_ / "victim"), "original");
    EXPECT_FALSE(fs::is_symlink(layer_ / "dst/f"));
    EXPECT_EQ(read_text(layer_ / "dst/f"), "b/f");
}

TEST_F(Safety, LayerTreeRefusesToWalkThroughSymlinks) {
    ASSERT_EQ(::symlink(host_.c_str(), (layer_ / "link").c_str()), 0);
    LayerTree t(layer_);
    EXPECT_THROW(t.open_path("/link"), Error);
    EXPECT_THROW(t.make_dir(t.root(), "link", EntryMeta{}, true), Error);
    EXPECT_THROW(t.write_file(t.root(), "link", std::string_view("x"), EntryMeta{}), Error);
    EXPECT_THROW(t.make_dir(t.root(), "..", EntryMeta{}, true), Error);
    EXPECT_THROW(t.write_file(t.root(), "a/b", std::string_view("x"), EntryMeta{}), Error);
    EXPECT_TRUE(fs::is_empty(host_));
}

TEST_F(Safety, SourcesNeverLeaveTheContext) {
    write_text(host_ / "secret", "s");
    tree(ctx_, {"d d 0755", "l d/abs " + (host_ / "secret").string(), "l d/rel ../../host/secret"});
    // Inside a copied directory the links are copied as links...
    copy({"d"}, "/x/");
    EXPECT_TRUE(fs::is_symlink(layer_ / "x/abs"));
    EXPECT_TRUE(fs::is_symlink(layer_ / "x/rel"));
    // ...but naming one as a source, which follows it, is an error.
    EXPECT_THROW(copy({"d/abs"}, "/y"), Error);
    EXPECT_THROW(copy({"d/rel"}, "/y"), Error);
    EXPECT_THROW(copy({"d/*"}, "/y/"), Error);
    EXPECT_FALSE(fs::exists(layer_ / "y"));
}

// A COPY that links unchanged files from the last build's layer (before a
// RUN, or an ADD) opens them beneath that layer's root without following a
// symlink: an image's link there cannot make the new layer share a host
// file's inode.
TEST_F(Safety, FilesLinkedFromTheLastLayerNeverThroughASymlink) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "linking an open file (AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH";
    tree(ctx_, {"f pwned 0644"});
    tree(host_, {"f pwned 0644"});  // the same bytes, mode, owner and time
    const fs::path old = tmp_->path() / "old";
    tree(old, {"l dst " + host_.string(), "f real/pwned 0644 =pwned"});
    BuildContext context(ctx_, frontend::DockerIgnore());
    LayerStackView below({parent_});
    CopyEnvironment env;
    env.reuse_layer = old;
    CopyRequest req;
    req.sources = {"pwned"};
    req.dest = "/dst/";
    EXPECT_EQ(run_copy(req, context, below, layer_, env).reused, 0u);
    struct stat made {
    }, host{};
    ASSERT_EQ(::lstat((layer_ / "dst/pwned").c_str(), &made), 0);
    ASSERT_EQ(::lstat((host_ / "pwned").c_str(), &host), 0);
    EXPECT_NE(made.st_ino, host.st_ino);
    EXPECT_EQ(host.st_nlink, 1u);
    // The same file at a real path of the old layer is linked.
    req.dest = "/real/";
    EXPECT_EQ(run_copy(req, context, below, layer_, env).reused, 1u);
}

}  // namespace
}  // namespace strata::executor
