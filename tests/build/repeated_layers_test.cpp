// Chains that hold the same layer (diffID) more than once — `RUN true` twice,
// the same COPY in two places — must still run: the kernel refuses one
// directory twice among an overlay's lower layers ("Too many levels of
// symbolic links"), so the store gives every position its own directory
// (LayerStore::ensure_chain). Positions: adjacent, separated, first and
// last, three times; as a RUN's root, as the source of COPY --from and of
// RUN --mount=from; an empty layer repeated; store check and prune after.
// Privileged tier: root, overlayfs, strata-init, busybox.
#include <gtest/gtest.h>

#include <fstream>

#include "build_fixture.hpp"
#include "executor/run/container_runner.hpp"
#include "store/prune.hpp"
#include "store/store_check.hpp"

namespace strata::buildtest {
namespace {

class RepeatedLayersTest : public RunBuildTest {
  public:
    void SetUp() override {
        RunBuildTest::SetUp();
        if (IsSkipped()) return;
        use_container_runner();
        file("a.txt", "alpha\n");
    }

    // Expects the image's layers at these positions to be one layer (so the
    // test builds the chain it means to), and nothing mounted afterwards.
    void expect_same_layer(const store::ImageRecord& img, std::vector<size_t> positions) {
        ASSERT_FALSE(positions.empty());
        for (size_t p : positions) {
            ASSERT_LT(p, img.layers.size());
            EXPECT_EQ(img.layers[p].diff_id, img.layers[positions[0]].diff_id)
                << "layer " << p << " differs from layer " << positions[0];
        }
    }

    // Builds with SOURCE_DATE_EPOCH: the mount-point directories a RUN leaves
    // get one mtime, so equal steps give equal layers whatever the second
    // they ran in (without it they collide only within one second).
    executor::BuildResult build_same(const std::string& text = {}, bool no_cache = false) {
        executor::BuildRequest r = request(text);
        r.source_date_epoch = 1700000000;
        r.plan.no_cache = no_cache;
        return build(r);
    }

    static std::string describe(const Tree& t) {
        std::string s;
        for (const auto& [path, node] : t)
            s += path + " " + node.type + "\n";
        return s;
    }

    void expect_no_mounts() {
        std::ifstream in("/proc/self/mountinfo");
        for (std::string line; std::getline(in, line);)
            EXPECT_EQ(line.find(root().string()), std::string::npos) << line;
    }
};

TEST_F(RepeatedLayersTest, AdjacentRunTrueThenRun) {
    auto r = build_same(
        "FROM busybox:latest\n"
        "RUN true\n"
        "RUN true\n"
        "RUN true\n"
        "RUN echo ok > /ok\n");
    EXPECT_EQ(outcomes(r), "BBBB");
    ASSERT_EQ(r.image.layers.size(), 5u);
    // The first leaves the mount points /dev, /proc, /sys and /etc; the next
    // ones only /etc (the directory of the /etc/hosts stub): equal layers.
    expect_same_layer(r.image, {2, 3});
    expect_file(rootfs(r), "/ok", "ok\n");
    expect_no_mounts();
    // Cached, and again with --no-cache (every RUN runs over the same chain).
    EXPECT_EQ(outcomes(build_same()), "CCCC");
    EXPECT_EQ(rootfs(build_same({}, true)).at("/ok").data, "ok\n");
}

TEST_F(RepeatedLayersTest, SeparatedByAnotherLayer) {
    auto r = build_same(
        "FROM busybox:latest\n"
        "COPY a.txt /a\n"
        "RUN echo one > /one\n"
        "COPY a.txt /a\n"
        "RUN cat /a /one > /both\n");
    ASSERT_EQ(r.image.layers.size(), 5u);
    expect_same_layer(r.image, {1, 3});
    expect_file(rootfs(r), "/both", "alpha\none\n");
}

TEST_F(RepeatedLayersTest, FirstAndLastPosition) {
    auto r = build_same(
        "FROM scratch\n"
        "COPY a.txt /a\n"
        "COPY --from=busybox:latest / /\n"
        "COPY a.txt /a\n"
        "RUN cat /a > /got\n");
    ASSERT_EQ(r.image.layers.size(), 4u);
    expect_same_layer(r.image, {0, 2});
    expect_file(rootfs(r), "/got", "alpha\n");
}

TEST_F(RepeatedLayersTest, ThreeTimes) {
    auto r = build_same(
        "FROM busybox:latest\n"
        "COPY a.txt /a\n"
        "COPY a.txt /a\n"
        "RUN true\n"
        "COPY a.txt /a\n"
        "RUN true\n"
        "RUN ls /a > /got\n");
    ASSERT_EQ(r.image.layers.size(), 7u);
    expect_same_layer(r.image, {1, 2, 4});
    expect_file(rootfs(r), "/got", "/a\n");
    expect_no_mounts();
}

// A WORKDIR that exists already gives the empty layer (a tar of two zero
// blocks: the same diffID in every image); twice in a row, then a RUN, then
// once more and a RUN.
TEST_F(RepeatedLayersTest, EmptyLayerRepeated) {
    auto r = build_same(
        "FROM busybox:latest\n"
        "WORKDIR /tmp\n"
        "WORKDIR /tmp\n"
        "RUN echo after > /after\n"
        "WORKDIR /tmp\n"
        "RUN cat /after > /again\n");
    ASSERT_EQ(r.image.layers.size(), 6u);
    expect_same_layer(r.image, {1, 2, 4});
    EXPECT_EQ(r.image.layers[1].diff_id.hex,
              "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")
        << describe(layer(r, 1));
    const Tree t = rootfs(r);
    expect_file(t, "/after", "after\n");
    expect_file(t, "/again", "after\n");
}

TEST_F(RepeatedLayersTest, CopyFromAStageThatRepeatsALayer) {
    auto r = build_same(
        "FROM busybox:latest AS rep\n"
        "RUN true\n"
        "RUN true\n"
        "COPY a.txt /a\n"
        "COPY a.txt /a\n"
        "RUN echo made > /made\n"
        "FROM busybox:latest\n"
        "COPY --from=rep /made /made\n"
        "COPY --from=rep /a /b\n");
    const Tree t = rootfs(r);
    expect_file(t, "/made", "made\n");
    expect_file(t, "/b", "alpha\n");
}

TEST_F(RepeatedLayersTest, RunMountFromAStageThatRepeatsALayer) {
    // The stage itself runs nothing over its repeats: only the bind mount's
    // overlay holds them.
    auto r = build_same(
        "FROM busybox:latest AS rep\n"
        "COPY a.txt /a\n"
        "RUN true\n"
        "COPY a.txt /a\n"
        "FROM busybox:latest\n"
        "RUN --mount=type=bind,from=rep,target=/m cat /m/a > /got\n"
        "RUN --mount=type=bind,from=rep,source=/,target=/m2 ls /m2/a > /got2\n");
    const Tree t = rootfs(r);
    expect_file(t, "/got", "alpha\n");
    expect_file(t, "/got2", "/m2/a\n");
    expect_no_mounts();
}

TEST_F(RepeatedLayersTest, StoreCheckAndPruneAfterwards) {
    auto r = build_same(
        "FROM busybox:latest\n"
        "RUN true\n"
        "RUN true\n"
        "RUN true\n"
        "COPY a.txt /a\n"
        "COPY a.txt /a\n"
        "RUN cat /a > /got\n"
        // The third RUN true's layer is still being written when the COPYs
        // run, so the RUN after them mounts it where it is, no copy needed;
        // this one mounts all of them stored, with two copies.
        "RUN cat /got > /got2\n");
    expect_same_layer(r.image, {2, 3});
    expect_same_layer(r.image, {4, 5});
    store::CheckReport c = store::check_store(store());
    EXPECT_TRUE(c.ok()) << (c.problems.empty() ? "" : c.problems.front());
    EXPECT_GE(c.layer_copies, 2u);
    const auto copies = store().layers().list_copies();

    // The image keeps its layers and their copies ...
    store::prune_store(store(), {});
    EXPECT_EQ(store().layers().list_copies(), copies);
    c = store::check_store(store());
    EXPECT_TRUE(c.ok()) << (c.problems.empty() ? "" : c.problems.front());
    EXPECT_EQ(outcomes(build_same()), "CCCCCCC");

    // ... until it is gone (the build cache takes no part in this prune).
    {
        auto gc = store().gc_exclusive();
        auto txn = store().begin();
        txn.remove_image(r.image.manifest);
        txn.commit();
    }
    store::prune_store(store(), {});
    EXPECT_TRUE(store().layers().list_copies().empty());
    c = store::check_store(store());
    EXPECT_TRUE(c.ok()) << (c.problems.empty() ? "" : c.problems.front());
    for (const auto& n : c.notes)
        EXPECT_EQ(n.find("copy"), std::string::npos) << n;
}

}  // namespace
}  // namespace strata::buildtest
