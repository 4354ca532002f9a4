// Layers stored as plain tars, compressed when they leave (save), once per
// (diffID, compression): export_image, its memo, prune, and the archive.
#include <gtest/gtest.h>

#include <fstream>

#include "base/error.hpp"
#include "store/export_image.hpp"
#include "store/image_archive_fixture.hpp"
#include "store/prune.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

class ExportImageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = std::make_unique<ImageStore>(dir_.path() / "root");
        tar_ = make_busybox_rootfs(dir_.path() / "rootfs", "export");
        image_ = import_tar(*store_, tar_, "app:1");
    }
    // export_image, counting how many layers it had to compress.
    ImageRecord exported(Compression c, int* compressed) {
        ExportOptions o;
        o.compression = c;
        o.on_compress = [compressed](const LayerRecord&) { ++*compressed; };
        return export_image(*store_, image_, o);
    }
    TempDir dir_ = scratch();
    std::unique_ptr<ImageStore> store_;
    fs::path tar_;
    ImageRecord image_;
};

TEST_F(ExportImageTest, ImportedLayersAreStoredAsPlainTars) {
    ASSERT_EQ(image_.layers.size(), 1u);
    EXPECT_EQ(image_.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
    // A plain tar's blob digest is its diffID.
    EXPECT_EQ(image_.layers[0].digest, image_.layers[0].diff_id);
}

TEST_F(ExportImageTest, CompressesOnceAndKeepsTheImageId) {
    int n = 0;
    ImageRecord out = exported(Compression::kGzip, &n);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(out.id(), image_.id());  // same config: same image ID
    EXPECT_NE(out.manifest, image_.manifest);
    ASSERT_EQ(out.layers.size(), 1u);
    EXPECT_EQ(out.layers[0].diff_id, image_.layers[0].diff_id);
    EXPECT_EQ(out.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    EXPECT_LT(out.layers[0].size, image_.layers[0].size);
    const std::string blob = store_->content().read(out.layers[0].digest);
    ASSERT_GE(blob.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(blob[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(blob[1]), 0x8b);
    // The manifest is in the store, names the compressed layer, same config.
    Manifest m = Manifest::parse(store_->content().read(out.manifest));
    EXPECT_EQ(m.config.digest, image_.config);
    EXPECT_EQ(m.layers[0].digest, out.layers[0].digest);
    EXPECT_EQ(m.layers[0].size, static_cast<int64_t>(out.layers[0].size));

    // The second export reads the memo: nothing compressed, the same answer.
    int again = 0;
    EXPECT_EQ(exported(Compression::kGzip, &again), out);
    EXPECT_EQ(again, 0);
    // Another compression is another memo.
    int z = 0;
    ImageRecord zstd = exported(Compression::kZstd, &z);
    EXPECT_EQ(z, 1);
    EXPECT_EQ(zstd.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
    EXPECT_NE(zstd.layers[0].digest, out.layers[0].digest);
    // Asking for what is stored changes nothing.
    int none = 0;
    EXPECT_EQ(exported(Compression::kNone, &none), image_);
    EXPECT_EQ(none, 0);
}

TEST_F(ExportImageTest, SaveIsTheSameBytesTheSecondTimeAndInAnotherStore) {
    const std::string first = save_bytes(*store_, {"app:1"});
    const std::string second = save_bytes(*store_, {"app:1"});
    EXPECT_EQ(first, second);
    ImageStore other(dir_.path() / "other");
    import_tar(other, tar_, "app:1");
    EXPECT_EQ(save_bytes(other, {"app:1"}), first);
    // The archive's layer is gzip, and loading it back gives the same image.
    auto entries = tar_entries(first);
    int gz = 0;
    for (const auto& [name, data] : entries)
        if (name.rfind("blobs/sha256/", 0) == 0 && data.size() > 2 &&
            static_cast<unsigned char>(data[0]) == 0x1f &&
            static_cast<unsigned char>(data[1]) == 0x8b)
            ++gz;
    EXPECT_EQ(gz, 1);
    ImageStore third(dir_.path() / "third");
    auto report = load_bytes(third, first);
    ASSERT_EQ(report.images.size(), 1u);
    EXPECT_EQ(report.images[0].image.id(), image_.id());
    EXPECT_EQ(save_bytes(third, {"app:1"}), first);
}

TEST_F(ExportImageTest, AMemoWhoseBlobIsGoneIsMadeAgain) {
    int n = 0;
    ImageRecord out = exported(Compression::kGzip, &n);
    store_->content().remove(out.layers[0].digest);
    int again = 0;
    EXPECT_EQ(exported(Compression::kGzip, &again), out);
    EXPECT_EQ(again, 1);
    // A memo that names a blob of another size is not believed either.
    const fs::path memo = export_memo_path(*store_, image_.layers[0].diff_id, Compression::kGzip);
    std::ofstream(memo) << out.layers[0].digest.str() << " 12\n";
    int third = 0;
    EXPECT_EQ(exported(Compression::kGzip, &third), out);
    EXPECT_EQ(third, 1);
}

TEST_F(ExportImageTest, PruneReclaimsTheCompressedCopies) {
    int n = 0;
    ImageRecord out = exported(Compression::kGzip, &n);
    const fs::path memo = export_memo_path(*store_, image_.layers[0].diff_id, Compression::kGzip);
    ASSERT_TRUE(fs::exists(memo));
    auto report = prune_store(*store_, {});
    EXPECT_FALSE(store_->content().has(out.layers[0].digest));
    EXPECT_FALSE(store_->content().has(out.manifest));
    EXPECT_FALSE(fs::exists(memo));
    EXPECT_TRUE(store_->content().has(image_.layers[0].digest));  // the image's own blob stays
    bool reported = false;
    for (const auto& [d, size] : report.blobs)
        reported |= d == out.layers[0].digest;
    EXPECT_TRUE(reported);
    int again = 0;
    EXPECT_EQ(exported(Compression::kGzip, &again), out);  // the same bytes again
    EXPECT_EQ(again, 1);
}

TEST_F(ExportImageTest, ARottenLayerIsCorruptNotExported) {
    const fs::path blob = store_->content().blob_path(image_.layers[0].digest);
    std::string bytes = read_file(blob);
    bytes[600] = static_cast<char>(bytes[600] ^ 0x40);
    fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
    write_file(blob, bytes);
    int n = 0;
    try {
        exported(Compression::kGzip, &n);
        FAIL() << "exported a corrupt layer";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find("strata store check"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(
        fs::exists(export_memo_path(*store_, image_.layers[0].diff_id, Compression::kGzip)));
}

TEST_F(ExportImageTest, AnAlreadyCompressedLayerLeavesAsItIs) {
    ImageStore gz_store(dir_.path() / "gz");
    UniqueFd fd(::open(tar_.c_str(), O_RDONLY | O_CLOEXEC));
    ImportOptions o;
    o.compression = Compression::kGzip;
    o.name = Reference::parse("app:gz").with_default_tag();
    o.source_date_epoch = 1700000000;
    ImageRecord gz = import_rootfs(gz_store, fd.get(), o).image;
    ExportOptions e;
    int n = 0;
    e.on_compress = [&n](const LayerRecord&) { ++n; };
    EXPECT_EQ(export_image(gz_store, gz, e), gz);
    EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace strata::store
