// ADD of local archives as BuildKit unpacks them: every archive a wildcard
// matches is unpacked into the destination, whatever else it matches is
// copied beside them.
#include <gtest/gtest.h>

#include "executor/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

class AddUnpack : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-unpack-");
        ctx_ = tmp_->path() / "ctx";
        parent_ = tmp_->path() / "parent";
        layer_ = tmp_->path() / "layer";
        fs::create_directories(ctx_);
        fs::create_directories(parent_);
        fs::create_directories(layer_);
    }

    void add(std::vector<std::string> sources, const std::string& dest) {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        CopyRequest req;
        req.is_add = true;
        req.sources = std::move(sources);
        req.dest = dest;
        run_copy(req, context, below, layer_);
    }

    std::string layer() { return sorted_lines(snapshot(layer_)); }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_;
};

TEST_F(AddUnpack, WildcardUnpacksEveryArchive) {
    write_tar(ctx_ / "a.tar", {{"a/one", 'f', "1", 0644}});
    write_tar(ctx_ / "b.tar", {{"b/two", 'f', "2", 0600}});
    add({"*.tar"}, "/dest/");
    EXPECT_EQ(layer(),
              sorted_lines({"d /dest 0755 0:0", "d /dest/a 0755 0:0", "f /dest/a/one 0644 0:0 =1",
                            "d /dest/b 0755 0:0", "f /dest/b/two 0600 0:0 =2"}));
}

TEST_F(AddUnpack, WildcardMixesArchivesAndPlainFiles) {
    write_tar(ctx_ / "x.tar", {{"in-x", 'f', "x", 0644}});
    write_text(ctx_ / "y.tar", "not an archive");
    add({"?.tar"}, "/d/");
    EXPECT_EQ(layer(), sorted_lines({"d /d 0755 0:0", "f /d/in-x 0644 0:0 =x",
                                     "f /d/y.tar 0644 0:0 =not an archive"}));
}

TEST_F(AddUnpack, SeveralWildcardsAndExplicitArchives) {
    write_tar(ctx_ / "p1.tar", {{"p1", 'f', "1", 0644}});
    write_tar(ctx_ / "p2.tar", {{"p2", 'f', "2", 0644}});
    write_tar(ctx_ / "q.tar", {{"q", 'f', "q", 0644}});
    add({"p*.tar", "q.tar"}, "/o/");
    EXPECT_EQ(layer(), sorted_lines({"d /o 0755 0:0", "f /o/p1 0644 0:0 =1", "f /o/p2 0644 0:0 =2",
                                     "f /o/q 0644 0:0 =q"}));
}

}  // namespace
}  // namespace strata::executor
