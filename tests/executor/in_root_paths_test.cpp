// Paths a Dockerfile or an image controls — COPY/ADD destinations, COPY
// --from sources, WORKDIR — are resolved inside the image's root: a symlink
// to "/" or to "../../.." in a stage or on the destination never leads to the
// host's files.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor/copy/workdir_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

// <tmp>/etc/secret and <tmp>/host stand for the host; <tmp>/stage is a
// stage's (or the parent image's) only layer.
class InRootPaths : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-inroot-exec-");
        ctx_ = tmp_->path() / "ctx";
        stage_ = tmp_->path() / "stage";
        layer_ = tmp_->path() / "layer";
        host_ = tmp_->path() / "host";
        for (const auto& d : {ctx_, stage_, layer_, host_})
            fs::create_directories(d);
        write_text(tmp_->path() / "etc" / "secret", "host");
        tree(stage_, {"f etc/secret 0600 =stage", "l to_root /", "l up ../../../..",
                      "l to_host " + host_.string(), "l to_secret /etc/secret"});
    }
    size_t host_entries() {
        size_t n = 0;
        for ([[maybe_unused]] auto& e : fs::recursive_directory_iterator(host_))
            ++n;
        return n;
    }

    std::optional<TempDir> tmp_;
    fs::path ctx_, stage_, layer_, host_;
};

TEST_F(InRootPaths, CopyFromAStageReadsThroughLinksInsideTheStage) {
    LayerStackView stage({stage_}, "stage 'build'");
    LayerStackView below({});
    CopyRequest req;
    req.sources = {"/to_root/etc/secret", "/up/etc/secret"};
    req.dest = "/out/";
    run_copy(req, stage, below, layer_);
    EXPECT_EQ(read_text(layer_ / "out" / "secret"), "stage");

    // What the cache key hashes is opened inside the layer, never by path.
    req.sources = {"/up/etc/secret"};
    const auto selected = select_sources(req, stage);
    ASSERT_EQ(selected.size(), 1u);
    EXPECT_EQ(selected[0].view_path, "/etc/secret");
    UniqueFd fd = stage.open_file_at(selected[0].layer, selected[0].view_path);
    char buf[16] = {};
    ASSERT_EQ(::read(fd.get(), buf, sizeof buf), 5);
    EXPECT_EQ(std::string(buf), "stage");
    // A path that climbs out through a link, or ends on one, is refused.
    EXPECT_THROW(stage.open_file_at(0, "/up/etc/secret"), Error);
    EXPECT_THROW(stage.open_file_at(0, "/to_secret"), Error);
}

TEST_F(InRootPaths, CopyDestinationThroughLinksToTheRootLandsInTheLayer) {
    tree(ctx_, {"f a 0644 =ctx"});
    BuildContext context(ctx_, frontend::DockerIgnore());
    LayerStackView parent({stage_});
    for (const char* dest : {"/to_root/d1/", "/up/d2/", "/to_host/d3/"}) {
        SCOPED_TRACE(dest);
        CopyRequest req;
        req.sources = {"a"};
        req.dest = dest;
        run_copy(req, context, parent, layer_);
    }
    EXPECT_EQ(read_text(layer_ / "d1" / "a"), "ctx");
    EXPECT_EQ(read_text(layer_ / "d2" / "a"), "ctx");
    EXPECT_EQ(read_text(layer_ / host_.relative_path() / "d3" / "a"), "ctx");
    EXPECT_EQ(host_entries(), 0u);
    EXPECT_EQ(read_text(tmp_->path() / "etc" / "secret"), "host");
    EXPECT_FALSE(fs::exists(tmp_->path() / "d1"));
}

TEST_F(InRootPaths, CopyOntoALinkToAHostFileReplacesTheLink) {
    tree(ctx_, {"f secret 0644 =ctx"});
    BuildContext context(ctx_, frontend::DockerIgnore());
    LayerStackView parent({stage_});
    CopyRequest req;
    req.sources = {"secret"};
    req.dest = "/up/etc/";
    run_copy(req, context, parent, layer_);
    EXPECT_EQ(read_text(layer_ / "etc" / "secret"), "ctx");
    EXPECT_EQ(read_text(tmp_->path() / "etc" / "secret"), "host");
    EXPECT_EQ(read_text(stage_ / "etc" / "secret"), "stage");
}

TEST_F(InRootPaths, WorkdirThroughLinksIsMadeInTheLayer) {
    LayerStackView parent({stage_});
    make_workdir("/to_root/w1", "", parent, layer_);
    EXPECT_TRUE(fs::is_directory(layer_ / "w1"));
    fs::path layer2 = tmp_->path() / "layer2";
    fs::create_directories(layer2);
    make_workdir("/up/../w2/sub", "", parent, layer2);
    EXPECT_TRUE(fs::is_directory(layer2 / "w2" / "sub"));
    fs::path layer3 = tmp_->path() / "layer3";
    fs::create_directories(layer3);
    make_workdir("/to_host/w3", "", parent, layer3);
    EXPECT_TRUE(fs::is_directory(layer3 / host_.relative_path() / "w3"));
    EXPECT_EQ(host_entries(), 0u);
    EXPECT_FALSE(fs::exists(tmp_->path() / "w1"));
    EXPECT_FALSE(fs::exists(tmp_->path() / "w2"));
}

}  // namespace
}  // namespace strata::executor
