// COPY sources with wildcards go through Go's path.Match (base/go/path.hpp),
// and the destination through BuildKit's rule (planner/copy_dest.hpp), in the
// real COPY engine: a hostile pattern over long names finishes at once, and a
// destination spelled "dir/." copies into dir like "dir/".
#include <gtest/gtest.h>

#include <chrono>

#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

class WildcardSource : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create("/tmp", "strata-ws-");
        ctx_ = tmp_->path() / "c";
        parent_ = tmp_->path() / "p";
        layer_ = tmp_->path() / "l";
        fs::create_directories(ctx_);
        fs::create_directories(parent_);
        fs::create_directories(layer_);
    }

    void copy(std::vector<std::string> sources, const std::string& dest) {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        CopyRequest req;
        req.sources = std::move(sources);
        req.dest = dest;
        run_copy(req, context, below, layer_);
    }

    std::string layer() { return sorted_lines(snapshot(layer_)); }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_;
};

// Ten stars over 250-byte names: a matcher that backtracks into earlier stars
// needs far longer than the bound (nine stars over 60 bytes took ~85 s).
TEST_F(WildcardSource, ManyStarsOverLongNamesFinishAtOnce) {
    const std::string as(249, 'a');
    write_text(ctx_ / (as + "a"), "no");
    write_text(ctx_ / (as + "b"), "yes");
    write_text(ctx_ / "short", "no");
    const auto start = std::chrono::steady_clock::now();
    copy({"*a*a*a*a*a*a*a*a*a*a*b"}, "/out/");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(layer(), sorted_lines({"d /out 0755 0:0", "f /out/" + as + "b 0644 0:0 =yes"}));
    EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST_F(WildcardSource, DestinationEndingInSlashDotIsADirectory) {
    write_text(ctx_ / "f", "x");
    write_text(ctx_ / "g", "y");
    copy({"f", "g"}, "/d/.");  // several sources need a directory destination
    EXPECT_EQ(layer(), sorted_lines({"d /d 0755 0:0", "f /d/f 0644 0:0 =x", "f /d/g 0644 0:0 =y"}));
}

}  // namespace
}  // namespace strata::executor
