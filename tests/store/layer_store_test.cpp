// LayerStore (unpacked layers) and taking in foreign tars: store_layer_tar,
// store_layer_blob.
#include "store/layer_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>

#include "base/error.hpp"
#include "store/compression.hpp"
#include "store/content_store.hpp"
#include "store/gzip_encoder.hpp"
#include "store/layer_fixture.hpp"
#include "store/layer_writer.hpp"
#include "store/whiteout.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

std::string compress(Compression c, const std::string& data) {
    std::string out;
    Compressor z(c, [&](const void* d, size_t n) { out.append(static_cast<const char*>(d), n); });
    z.write(data.data(), data.size());
    z.finish();
    return out;
}

std::string decompress(const std::string& data) {
    auto fd = fd_with(data);
    Decompressor d(fd.get());
    std::string out;
    for (auto chunk = d.next(); !chunk.empty(); chunk = d.next())
        out.append(chunk);
    return out;
}

// zlib's own gzip reader (windowBits 16+15), independent of strata's.
std::string gunzip(const std::string& gz) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    z.avail_in = static_cast<uInt>(gz.size());
    std::string out;
    char buf[65536];
    int r = Z_OK;
    while (r == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        r = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    }
    EXPECT_EQ(r, Z_STREAM_END) << "a complete gzip stream";
    EXPECT_EQ(z.avail_in, 0u) << "nothing after the trailer";
    inflateEnd(&z);
    return out;
}

TEST(Compression, NamesAndMediaTypes) {
    EXPECT_EQ(parse_compression("gzip"), Compression::kGzip);
    EXPECT_EQ(parse_compression("zstd"), Compression::kZstd);
    EXPECT_EQ(parse_compression("uncompressed"), Compression::kNone);
    EXPECT_EQ(parse_compression("none"), Compression::kNone);
    EXPECT_THROW(parse_compression("lz4"), Error);
    EXPECT_EQ(layer_media_type(Compression::kGzip), "application/vnd.oci.image.layer.v1.tar+gzip");
    EXPECT_EQ(layer_media_type(Compression::kZstd), "application/vnd.oci.image.layer.v1.tar+zstd");
    EXPECT_EQ(layer_media_type(Compression::kNone), "application/vnd.oci.image.layer.v1.tar");
    EXPECT_EQ(layer_media_type(Compression::kGzip, false),
              "application/vnd.docker.image.rootfs.diff.tar.gzip");
    for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
        EXPECT_EQ(compression_from_media_type(layer_media_type(c)), c);
        EXPECT_EQ(compression_from_media_type(layer_media_type(c, false)), c);
    }
    EXPECT_FALSE(
        compression_from_media_type("application/vnd.oci.image.config.v1+json").has_value());
}

TEST(Compression, RoundTripsAndIsDeterministic) {
    std::string data;
    for (int i = 0; i < 200000; ++i)
        data += std::to_string(i * 31 % 977);
    for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
        auto z = compress(c, data);
        EXPECT_EQ(z, compress(c, data));
        EXPECT_EQ(decompress(z), data);
        EXPECT_EQ(detect_compression(z.data(), z.size()), c);
        if (c != Compression::kNone) {
            EXPECT_LT(z.size(), data.size() / 2);
        }
    }
    EXPECT_EQ(decompress(""), "");
}

TEST(Compression, BlockGzipIsTheSameWhateverTheThreadsAndChunks) {
    // Text and random bytes across several 256 KiB blocks, and the edges.
    std::string data;
    uint32_t x = 12345;
    for (size_t i = 0; i < 3 * GzipEncoder::kBlock + 777; ++i) {
        x = x * 1103515245 + 12345;
        data.push_back(i % 3 ? static_cast<char>(x >> 24) : static_cast<char>('a' + i % 7));
    }
    for (const std::string& input :
         {std::string(), std::string("x"), data, data.substr(0, GzipEncoder::kBlock)}) {
        std::string reference;
        for (unsigned threads : {0u, 1u, 3u}) {
            for (size_t chunk : {size_t{1} << 20, size_t{4097}}) {
                std::string out;
                GzipEncoder enc(
                    [&](const void* d, size_t n) { out.append(static_cast<const char*>(d), n); },
                    threads);
                for (size_t off = 0; off < input.size(); off += chunk)
                    enc.write(input.data() + off, std::min(chunk, input.size() - off));
                enc.finish();
                if (reference.empty()) reference = out;
                EXPECT_EQ(out, reference) << threads << " threads, chunks of " << chunk;
            }
        }
        EXPECT_EQ(gunzip(reference), input) << input.size() << " bytes";
        EXPECT_EQ(detect_compression(reference.data(), reference.size()), Compression::kGzip);
        EXPECT_EQ(compress(Compression::kGzip, input), reference) << "Compressor: same bytes";
    }
}

TEST(Compression, CorruptInputIsReported) {
    auto z = compress(Compression::kZstd, std::string(100000, 'a') + "tail");
    z[z.size() / 2] ^= 0x55;
    z = z.substr(0, z.size() - 3);
    try {
        decompress(z);
        FAIL() << "corrupt zstd accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    }
}

class LayerStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        work_.emplace(scratch());
        cs_.emplace(root());
    }
    fs::path root() const { return work_->path() / "store"; }
    std::optional<TempDir> work_;
    std::optional<ContentStore> cs_;
};

TEST_F(LayerStoreTest, EnsureUnpackedIsIdempotentAndComplete) {
    auto src = work_->path() / "src";
    write_file(src / "etc" / "hostname", "box\n");
    write_file(src / "bin" / "tool", "#!", 0755);
    fs::create_symlink("bin", src / "sbin");
    auto blob = write_layer(src, *cs_, {});
    LayerStore layers(root(), *cs_);
    EXPECT_FALSE(layers.has(blob.diff_id));
    auto p = layers.ensure_unpacked(blob.digest, blob.diff_id);
    EXPECT_EQ(p, root() / "layers" / blob.diff_id.hex);
    EXPECT_EQ(layers.path(blob.diff_id), p);
    EXPECT_TRUE(layers.has(blob.diff_id));
    EXPECT_EQ(describe_tree(src), describe_tree(p));
    EXPECT_EQ(layers.ensure_unpacked(blob.digest, blob.diff_id), p);
    EXPECT_EQ(layers.list(), std::vector<Digest>{blob.diff_id});
    EXPECT_TRUE(fs::is_empty(cs_->tmp_dir()));
    layers.remove(blob.diff_id);
    EXPECT_FALSE(layers.has(blob.diff_id));
    EXPECT_FALSE(fs::exists(p));
    EXPECT_TRUE(fs::is_empty(cs_->tmp_dir()));
    layers.remove(blob.diff_id);  // missing: fine
}

TEST_F(LayerStoreTest, UnpackedLayersUseOverlayWhiteouts) {
    if (!is_root()) GTEST_SKIP() << "overlay whiteouts need root";
    auto tar = TarBuilder().dir("o").file("o/.wh..wh..opq", "").file(".wh.gone", "").finish();
    auto w = cs_->writer();
    w.write(compress(Compression::kGzip, tar));
    auto digest = w.commit();
    LayerStore layers(root(), *cs_);
    auto p = layers.ensure_unpacked(digest, sha256_of(tar));
    struct stat st {};
    ASSERT_EQ(::lstat((p / "gone").c_str(), &st), 0);
    EXPECT_TRUE(is_overlay_whiteout(st));
    char v[4] = {};
    EXPECT_EQ(::lgetxattr((p / "o").c_str(), kTrustedOpaqueXattr, v, sizeof v), 1);
    EXPECT_EQ(v[0], 'y');
}

TEST_F(LayerStoreTest, WrongDiffIdLeavesNoLayer) {
    auto tar = TarBuilder().file("f", "content").finish();
    auto digest = cs_->put(tar);
    LayerStore layers(root(), *cs_);
    auto wrong = sha256_of("not this");
    try {
        layers.ensure_unpacked(digest, wrong);
        FAIL() << "accepted a wrong diffID";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    }
    EXPECT_FALSE(layers.has(wrong));
    EXPECT_TRUE(layer_entries(root()).empty());
    EXPECT_TRUE(fs::is_empty(cs_->tmp_dir()));
    EXPECT_THROW(layers.ensure_unpacked(sha256_of("missing blob"), wrong), Error);
}

TEST_F(LayerStoreTest, AdoptMovesADirectoryIn) {
    auto dir = cs_->tmp_dir() / "upper";
    write_file(dir / "x", "y");
    LayerStore layers(root(), *cs_);
    auto id = sha256_of("some diff id");
    auto p = layers.adopt(dir, id);
    EXPECT_EQ(read_file(p / "x"), "y");
    EXPECT_FALSE(fs::exists(dir));
    write_file(dir / "x", "dup");
    EXPECT_EQ(layers.adopt(dir, id), p);  // already there: the duplicate goes away
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_EQ(read_file(p / "x"), "y");
    EXPECT_TRUE(fs::is_empty(cs_->tmp_dir())) << "a small duplicate is deleted at once";

    // A large one goes to the trash, not deleted on the spot (see LayerStore) ...
    for (int i = 0; i < 1100; ++i)
        write_file(dir / "many" / std::to_string(i), "x");
    EXPECT_EQ(layers.adopt(dir, id), p);
    EXPECT_FALSE(fs::exists(dir));
    auto trash_dirs = [&] {
        size_t n = 0;
        for (const auto& e : fs::directory_iterator(cs_->tmp_dir()))
            n += e.path().filename().string().starts_with("trash-");
        return n;
    };
    EXPECT_EQ(trash_dirs(), 1u);
    EXPECT_EQ(layers.trash_count(), 1u);

    // ... unless its files are links to files kept elsewhere: removing it frees
    // only its directories.
    for (int i = 0; i < 1100; ++i) {
        fs::create_directories(dir / "many");
        fs::create_hard_link(p / "x", dir / "many" / std::to_string(i));
    }
    EXPECT_EQ(layers.adopt(dir, id), p);
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_EQ(trash_dirs(), 1u);
    EXPECT_EQ(read_file(p / "x"), "y");
}

TEST_F(LayerStoreTest, ALayerFromAnotherBootIsUnpackedAgain) {
    auto src = work_->path() / "src";
    write_file(src / "a", "alpha");
    write_file(src / "d" / "b", "beta");
    auto blob = write_layer(src, *cs_, {});
    LayerStore layers(root(), *cs_);
    auto p = layers.ensure_unpacked(blob.digest, blob.diff_id);
    const fs::path stamp = root() / "layers" / ".boot";
    ASSERT_TRUE(fs::exists(stamp)) << "layers/ is stamped with the boot it belongs to";
    const std::string boot = read_file(stamp);
    EXPECT_FALSE(fs::exists(p.string() + ".unsynced")) << "no marker per layer";
    EXPECT_TRUE(layers.has(blob.diff_id));
    EXPECT_EQ(layers.list(), std::vector<Digest>{blob.diff_id}) << "the stamp is not a layer";

    // As if the machine crashed before the files reached the disk, and a
    // strata process of the next boot looks at the layer.
    write_file(stamp, "00000000-0000-0000-0000-000000000000");
    fs::remove(p / "d" / "b");
    EXPECT_TRUE(layers.has(blob.diff_id)) << "a process trusts what it checked once";
    LayerStore after_reboot(root(), *cs_);
    EXPECT_EQ(read_file(stamp), boot) << "layers/ now belongs to this boot";
    EXPECT_FALSE(after_reboot.has(blob.diff_id)) << "not trusted after a reboot";
    EXPECT_EQ(after_reboot.ensure_unpacked(blob.digest, blob.diff_id), p);
    EXPECT_EQ(describe_tree(src), describe_tree(p)) << "unpacked again from the blob";
    EXPECT_TRUE(after_reboot.has(blob.diff_id));

    // The torn layers went to the trash (`strata prune` empties it), once:
    // a later process of this boot keeps what this boot made.
    EXPECT_EQ(layers.trash_count(), 1u);
    LayerStore later(root(), *cs_);
    EXPECT_TRUE(later.has(blob.diff_id));
    EXPECT_EQ(later.trash_count(), 1u);

    layers.remove(blob.diff_id);
    EXPECT_FALSE(fs::exists(p));
    EXPECT_TRUE(fs::exists(stamp));
}

// A layer adopted after a reboot (a RUN step's upper directory) never keeps
// a torn directory of the same layer from the boot before.
TEST_F(LayerStoreTest, AdoptAfterARebootNeverKeepsAnOldCopy) {
    auto src = work_->path() / "src";
    write_file(src / "a", "alpha");
    auto blob = write_layer(src, *cs_, {});
    const fs::path p = [&] {
        LayerStore layers(root(), *cs_);
        return layers.ensure_unpacked(blob.digest, blob.diff_id);
    }();
    fs::remove(p / "a");  // torn by the crash
    write_file(root() / "layers" / ".boot", "00000000-0000-0000-0000-000000000000");

    LayerStore after_reboot(root(), *cs_);
    EXPECT_FALSE(after_reboot.has(blob.diff_id));
    const fs::path again = work_->path() / "upper";
    fs::copy(src, again, fs::copy_options::recursive);
    EXPECT_EQ(after_reboot.adopt(again, blob.diff_id), p);
    EXPECT_EQ(read_file(p / "a"), "alpha");
    EXPECT_FALSE(fs::exists(again));
    EXPECT_EQ(after_reboot.trash_count(), 1u) << "the torn copy went to the trash";
}

// Processes that start at once after a reboot move the old layers aside
// once, and none loses a layer another one made meanwhile.
TEST_F(LayerStoreTest, ProcessesStartingAfterARebootRotateOnce) {
    auto src = work_->path() / "src";
    write_file(src / "a", "alpha");
    auto blob = write_layer(src, *cs_, {});
    { LayerStore(root(), *cs_).ensure_unpacked(blob.digest, blob.diff_id); }
    write_file(root() / "layers" / ".boot", "00000000-0000-0000-0000-000000000000");
    expect_all_children_succeed(4, [&] {
        ContentStore cs(root());
        LayerStore layers(root(), cs);
        return read_file(layers.ensure_unpacked(blob.digest, blob.diff_id) / "a") == "alpha";
    });
    LayerStore layers(root(), *cs_);
    EXPECT_TRUE(layers.has(blob.diff_id));
    EXPECT_EQ(layers.trash_count(), 1u);
}

TEST_F(LayerStoreTest, StoreLayerTarKeepsTheTarBytesAndRecompresses) {
    auto src = work_->path() / "src";
    write_file(src / "a" / "b.txt", std::string(50000, 'b'));
    write_file(src / "c", "c");
    auto tar_path = work_->path() / "rootfs.tar";
    std::string cmd = "tar -C " + src.string() + " -cf " + tar_path.string() + " .";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "tar is not available";
    auto tar = read_file(tar_path);
    write_file(work_->path() / "rootfs.tar.gz", compress(Compression::kGzip, tar));
    for (const auto& input : {tar_path, work_->path() / "rootfs.tar.gz"}) {
        for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
            SCOPED_TRACE(input.string() + " -> " + std::string(compression_name(c)));
            StoreTarOptions o;
            o.compression = c;
            auto blob = store_layer_tar(input, *cs_, o);
            EXPECT_EQ(blob.diff_id, sha256_of(tar));
            EXPECT_EQ(blob.tar_size, tar.size());
            EXPECT_EQ(blob.media_type, layer_media_type(c));
            auto stored = cs_->read(blob.digest);
            EXPECT_EQ(blob.size, stored.size());
            EXPECT_EQ(decompress(stored), tar);
        }
    }
    StoreTarOptions o;
    o.expected_diff_id = sha256_of("other");
    auto before = cs_->list();
    EXPECT_THROW(store_layer_tar(tar_path, *cs_, o), Error);
    EXPECT_EQ(cs_->list(), before);
}

TEST_F(LayerStoreTest, StoreLayerBlobKeepsCompressedBytes) {
    auto tar = TarBuilder().file("f", std::string(10000, 'f')).finish();
    for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
        auto bytes = compress(c, tar);
        auto fd = fd_with(bytes);
        auto blob = store_layer_blob(fd.get(), *cs_, sha256_of(bytes), sha256_of(tar));
        EXPECT_EQ(blob.digest, sha256_of(bytes));
        EXPECT_EQ(blob.diff_id, sha256_of(tar));
        EXPECT_EQ(blob.size, bytes.size());
        EXPECT_EQ(blob.tar_size, tar.size());
        EXPECT_EQ(blob.media_type, layer_media_type(c));
    }
    auto fd = fd_with(compress(Compression::kGzip, tar));
    EXPECT_THROW(store_layer_blob(fd.get(), *cs_, sha256_of("wrong")), Error);
}

}  // namespace
