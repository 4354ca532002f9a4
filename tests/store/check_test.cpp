// store check: finds every kind of damage, and nothing in a healthy store.
#include <gtest/gtest.h>

#include "store/image_archive_fixture.hpp"
#include "store/store_check.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

class CheckTest : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = std::make_unique<ImageStore>(dir_.path() / "root");
        img_ = import_tar(*store_, make_busybox_rootfs(dir_.path()), "busybox:latest");
        auto report = check_store(*store_);
        ASSERT_TRUE(report.ok());
        ASSERT_EQ(report.images, 1u);
        ASSERT_EQ(report.names, 1u);
        ASSERT_EQ(report.blobs, 3u);
    }
    bool reports(const std::string& needle, const CheckOptions& opts = {}) {
        auto report = check_store(*store_, opts);
        for (const auto& p : report.problems)
            if (p.find(needle) != std::string::npos) return true;
        ADD_FAILURE() << "no problem mentions '" << needle << "'; got "
                      << (report.problems.empty() ? "none" : report.problems[0]);
        return false;
    }
    TempDir dir_ = scratch();
    std::unique_ptr<ImageStore> store_;
    ImageRecord img_;
};

TEST_F(CheckTest, CorruptBlob) {
    write_file(store_->content().blob_path(img_.config), "{\"tampered\":true}");
    EXPECT_TRUE(reports("blob " + img_.config.str() + ": content does not match"));
}

TEST_F(CheckTest, MissingLayerBlob) {
    fs::remove(store_->content().blob_path(img_.layers[0].digest));
    EXPECT_TRUE(reports(img_.layers[0].digest.str() + " is missing"));
}

TEST_F(CheckTest, LayerWhoseContentIsNotItsDiffId) {
    // A blob that is intact (hash matches its name) but is not the layer the
    // config describes: only decompressing shows it.
    std::string other = TarBuilder().file("x", "y").finish();
    auto d = store_->content().put(other);
    auto rec = img_;
    rec.layers[0].digest = d;
    rec.layers[0].size = other.size();
    Manifest m = store_->manifest(img_);
    m.layers[0].digest = d;
    m.layers[0].size = int64_t(other.size());
    rec.manifest = store_->content().put(m.canonical());
    rec.manifest_size = m.canonical().size();
    auto txn = store_->begin();
    txn.put_image(rec);
    txn.commit();
    EXPECT_TRUE(reports("uncompressed content is"));
    CheckOptions fast;
    fast.verify_layer_contents = false;
    EXPECT_TRUE(check_store(*store_, fast).ok());
}

TEST_F(CheckTest, NameWithoutImage) {
    fs::remove(store_->images_dir() / (img_.manifest.hex + ".json"));
    EXPECT_TRUE(reports("busybox:latest points at " + img_.manifest.str()));
}

TEST_F(CheckTest, DamagedRecordAndNames) {
    write_file(store_->images_dir() / (img_.manifest.hex + ".json"), "{");
    EXPECT_TRUE(reports(img_.manifest.hex + ".json"));
    write_file(store_->names_file(), "not json");
    EXPECT_TRUE(reports("names.json"));
}

TEST_F(CheckTest, RecordDisagreeingWithItsManifest) {
    auto rec = img_;
    rec.config = store_->content().put("{}");
    auto txn = store_->begin();
    txn.put_image(rec);
    txn.commit();
    EXPECT_TRUE(reports("manifest names config"));
}

TEST_F(CheckTest, UnusedThingsAreNotesNotProblems) {
    store_->content().put("unused");
    fs::create_directories(store_->tmp_dir() / "import-xyz");
    auto report = check_store(*store_);
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(report.notes.size(), 2u);
}

}  // namespace
}  // namespace strata::store
