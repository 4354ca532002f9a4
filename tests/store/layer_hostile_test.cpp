// Hostile layer tars are refused with an error naming the entry, and nothing
// lands outside the target.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/error.hpp"
#include "store/compression.hpp"
#include "store/content_store.hpp"
#include "store/layer_fixture.hpp"
#include "store/layer_reader.hpp"
#include "store/layer_store.hpp"
#include "store/layer_writer.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

// <work>/outside/secret is what an escape would hit; <work>/target is where
// the layer goes.
class Hostile : public ::testing::Test {
  protected:
    void SetUp() override {
        work_.emplace(scratch());
        outside_ = work_->path() / "outside";
        target_ = work_->path() / "t1" / "t2" / "target";
        write_file(outside_ / "secret", "original");
        fs::create_directories(target_);
    }

    // Applies `tar` and expects kCorrupt mentioning `entry`.
    void expect_refused(const std::string& tar, const std::string& entry,
                        WhiteoutMode mode = WhiteoutMode::kApply) {
        auto fd = fd_with(tar);
        ApplyOptions o;
        o.whiteouts = mode;
        try {
            apply_layer(fd.get(), target_, o);
            ADD_FAILURE() << "layer with '" << entry << "' was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
            EXPECT_NE(std::string(e.what()).find(entry), std::string::npos)
                << "error does not name the entry: " << e.what();
        }
        EXPECT_EQ(read_file(outside_ / "secret"), "original");
        EXPECT_EQ(outside_entries(), 1) << "something was created outside the target";
    }

    int outside_entries() {
        int n = 0;
        for ([[maybe_unused]] auto& e : fs::recursive_directory_iterator(work_->path() / "outside"))
            ++n;
        return n;
    }

    std::optional<TempDir> work_;
    fs::path outside_, target_;
};

TEST_F(Hostile, DotDotPathsAreRefused) {
    expect_refused(TarBuilder().file("../../../outside/evil", "x").finish(),
                   "../../../outside/evil");
    expect_refused(TarBuilder().file("a/../../../../outside/evil", "x").finish(),
                   "a/../../../../outside/evil");
    expect_refused(TarBuilder().dir("..").finish(), "..");
    EXPECT_TRUE(fs::is_empty(target_)) << "the first entry was bad: nothing may be written";
}

TEST_F(Hostile, AbsolutePathsAreRefused) {
    auto abs = (outside_ / "evil").string();
    expect_refused(TarBuilder().file(abs, "x").finish(), abs);
    expect_refused(TarBuilder().symlink("ok", "x").hardlink("h", abs).finish(), abs);
    EXPECT_FALSE(fs::exists(outside_ / "evil"));
}

TEST_F(Hostile, WritingThroughASymlinkThatLeavesTheTargetIsRefused) {
    // target/lnk -> ../../../outside ; then target/lnk/evil
    expect_refused(TarBuilder().symlink("lnk", "../../../outside").file("lnk/evil", "x").finish(),
                   "lnk/evil");
    EXPECT_FALSE(fs::exists(outside_ / "evil"));
    // Through a chain of symlinks and a directory.
    expect_refused(TarBuilder()
                       .dir("d")
                       .symlink("d/up", "..")
                       .symlink("d/up2", "up/..")
                       .file("d/up2/../escape", "x")
                       .finish(),
                   "d/up2/../escape");
    expect_refused(TarBuilder()
                       .symlink("l2", "d2/../..")
                       .dir("d2")
                       .file("l2/outside/secret", "pwned")
                       .finish(),
                   "l2/outside/secret");
}

TEST_F(Hostile, AbsoluteSymlinksResolveInsideTheTarget) {
    // As in a chroot: /outside means <target>/outside, never the host path.
    auto fd = fd_with(
        TarBuilder().symlink("lnk", outside_.string()).file("lnk/secret", "inside").finish());
    apply_layer(fd.get(), target_);
    EXPECT_EQ(read_file(outside_ / "secret"), "original");
    EXPECT_EQ(read_file(target_ / fs::relative(outside_, "/") / "secret"), "inside");
}

TEST_F(Hostile, ReplacingASymlinkDoesNotWriteThroughIt) {
    fs::create_symlink(outside_ / "secret", target_ / "f");
    auto fd = fd_with(TarBuilder().file("f", "replaced").finish());
    apply_layer(fd.get(), target_);
    EXPECT_EQ(read_file(outside_ / "secret"), "original");
    EXPECT_FALSE(fs::is_symlink(target_ / "f"));
    EXPECT_EQ(read_file(target_ / "f"), "replaced");
}

TEST_F(Hostile, HardlinksToOutsideAreRefused) {
    expect_refused(TarBuilder().hardlink("h", "../../../outside/secret").finish(),
                   "../../../outside/secret");
    expect_refused(
        TarBuilder().symlink("lnk", "../../..").hardlink("h", "lnk/outside/secret").finish(),
        "lnk/outside/secret");
    expect_refused(TarBuilder().hardlink("h", "does/not/exist").finish(), "does/not/exist");
    EXPECT_FALSE(fs::exists(target_ / "h"));
}

TEST_F(Hostile, TruncatedStreamsAreRefused) {
    std::string big(200000, 'b');
    auto tar = TarBuilder().file("first", "ok").file("big", big).finish();
    auto cut = tar.substr(0, 512 * 3 + 1000);  // in the middle of big's data
    expect_refused(cut, "big");
    // Compressed and truncated.
    std::string gz;
    {
        Compressor c(Compression::kGzip,
                     [&](const void* d, size_t n) { gz.append(static_cast<const char*>(d), n); });
        c.write(tar.data(), tar.size());
        c.finish();
    }
    expect_refused(gz.substr(0, gz.size() / 2), "layer");
}

TEST_F(Hostile, GarbageIsRefused) {
    expect_refused(std::string(4096, 'G'), "layer");
    std::string header_only = TarBuilder().file("x", "y").finish().substr(0, 512);
    header_only[148] = 'Z';  // break the checksum
    expect_refused(header_only, "layer");
}

TEST_F(Hostile, LayerStoreLeavesNothingBehind) {
    ContentStore cs(work_->path() / "store");
    auto tar =
        TarBuilder().file("ok", "fine").symlink("lnk", "../../../..").file("lnk/x", "bad").finish();
    auto w = cs.writer();
    w.write(tar);
    auto digest = w.commit();
    LayerStore layers(work_->path() / "store", cs);
    auto diff_id = sha256_of(tar);
    try {
        layers.ensure_unpacked(digest, diff_id);
        FAIL() << "hostile layer unpacked";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find("lnk/x"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(layers.has(diff_id));
    EXPECT_TRUE(layers.list().empty());
    EXPECT_TRUE(fs::is_empty(cs.tmp_dir()));
}

TEST_F(Hostile, StoreLayerTarRefusesTruncatedInputAndStoresNothing) {
    ContentStore cs(work_->path() / "store");
    auto tar = TarBuilder().file("big", std::string(100000, 'x')).finish();
    auto fd = fd_with(tar.substr(0, 2048));
    EXPECT_THROW(store_layer_tar(fd.get(), cs, {}), Error);
    EXPECT_TRUE(cs.list().empty());
    EXPECT_TRUE(fs::is_empty(cs.tmp_dir()));
}

}  // namespace
