// The build-cache artifact (cache/cache_export.hpp): its format is
// deterministic and round-trips, a malformed or hostile one is an error
// naming it, imported blobs are fetched only when asked and verified
// (digest, size, diffID), and memos travel through CacheIndex.
#include "cache/cache_export.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "store/layer_writer.hpp"

namespace strata::cache {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void write(const fs::path& p, const std::string& s) {
    std::ofstream(p, std::ios::binary) << s;
}

class CacheExportTest : public ::testing::Test {
  protected:
    // A layer with one file holding `content`, written into `blobs`.
    store::LayerRecord layer(store::ContentStore& blobs, const std::string& content) {
        const fs::path d = dir_.path() / ("src-" + std::to_string(++n_));
        fs::create_directories(d);
        write(d / "f", content);
        const store::LayerBlob b = store::write_layer(d, blobs, store::LayerWriteOptions{});
        return {b.digest, b.diff_id, b.size, b.media_type, b.content_size};
    }
    static std::string key(char c) { return "sha256:" + std::string(64, c); }

    TempDir dir_ = TempDir::create(fs::temp_directory_path(), "strata-cache-export-");
    store::ContentStore a_{dir_.path() / "a"};
    store::ContentStore b_{dir_.path() / "b"};
    int n_ = 0;
};

TEST_F(CacheExportTest, ArtifactRoundTripsAndIsDeterministic) {
    const auto l1 = layer(a_, "one"), l2 = layer(a_, "two");
    CacheExport x;
    x.entries = {{key('c'), "2026-01-01T00:00:00Z", l2, "COPY two"},
                 {key('a'), "2026-01-01T00:00:00Z", l1, "COPY one"},
                 {key('b'), "2026-01-01T00:00:00Z", std::nullopt, "WORKDIR"},
                 {key('d'), "2026-01-01T00:00:00Z", l1, "COPY one again"}};
    x.memos = {{std::string(64, 'e'), "xxh3:1"}};
    const CacheArtifact art = make_cache_artifact(x);
    EXPECT_EQ(art.layers.size(), 2u) << "one blob per distinct layer";

    CacheExport shuffled = x;
    std::reverse(shuffled.entries.begin(), shuffled.entries.end());
    const CacheArtifact again = make_cache_artifact(shuffled);
    EXPECT_EQ(again.manifest, art.manifest);
    EXPECT_EQ(again.config, art.config);

    const json m = json::parse(art.manifest);
    EXPECT_EQ(m["artifactType"], kCacheArtifactType);
    EXPECT_EQ(m["config"]["mediaType"], kCacheConfigMediaType);

    const CacheExport back = parse_cache_artifact(art.manifest, art.config, "test");
    ASSERT_EQ(back.entries.size(), 4u);
    EXPECT_EQ(back.entries[0].key, key('a'));  // sorted by key
    EXPECT_EQ(back.entries[0].layer, l1);
    EXPECT_FALSE(back.entries[1].layer.has_value());
    EXPECT_EQ(back.entries[2].layer, l2);
    EXPECT_EQ(back.entries[3].layer, l1);
    EXPECT_EQ(back.memos, x.memos);
}

TEST_F(CacheExportTest, MalformedArtifactsAreErrorsNamingTheSource) {
    const auto l1 = layer(a_, "one");
    CacheExport x;
    x.entries = {{key('a'), "t", l1, "COPY one"}};
    const CacheArtifact art = make_cache_artifact(x);
    const json config = json::parse(art.config);
    const json manifest = json::parse(art.manifest);

    // Each row: how the config is spoiled, and words the error must hold.
    struct Row {
        const char* name;
        std::function<void(json&)> spoil;
        const char* needle;
    };
    const std::vector<Row> rows = {
        {"layer index out of range", [](json& c) { c["entries"][0]["layer"] = 7; }, "layer 7"},
        {"negative layer index", [](json& c) { c["entries"][0]["layer"] = -1; }, "layer -1"},
        {"key not a digest", [](json& c) { c["entries"][0]["key"] = "../../etc"; }, "not a digest"},
        {"bad layer digest", [](json& c) { c["layers"][0]["digest"] = "sha256:zz"; }, "test-src"},
        {"layer not the manifest's",
         [](json& c) { c["layers"][0]["digest"] = "sha256:" + std::string(64, '1'); }, "differs"},
        {"wrong version", [](json& c) { c["version"] = 2; }, "version 1"},
        {"entries not a list", [](json& c) { c["entries"] = 5; }, "malformed config"},
        {"memo not a hex",
         [](json& c) {
             c["memos"] = json::array({{{"input", "x"}, {"value", "y"}}});
         },
         "sha256 hex"},
    };
    for (const Row& r : rows) {
        json c = config;
        r.spoil(c);
        const std::string ctext = c.dump();
        json m = manifest;
        m["config"]["digest"] = store::sha256_of(ctext).str();
        m["config"]["size"] = ctext.size();
        try {
            parse_cache_artifact(m.dump(), ctext, "test-src");
            ADD_FAILURE() << r.name << ": accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kParse) << r.name;
            EXPECT_NE(std::string(e.what()).find("test-src"), std::string::npos)
                << r.name << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find(r.needle), std::string::npos)
                << r.name << ": " << e.what();
        }
    }
    // A config that is not the one the manifest names.
    EXPECT_THROW(parse_cache_artifact(art.manifest, art.config + " ", "x"), Error);
    // Not a strata cache: an image manifest.
    json img = manifest;
    img["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json";
    EXPECT_THROW(parse_cache_artifact(img.dump(), art.config, "x"), Error);
    EXPECT_THROW(parse_cache_artifact("{", art.config, "x"), Error);
}

// A blob source over another content store that counts its fetches and can
// lie about the bytes.
class CountingSource : public CacheBlobSource {
  public:
    explicit CountingSource(store::ContentStore& from) : from_(from) {}
    std::string name() const override { return "counting source"; }
    void fetch(const store::LayerRecord& l, store::ContentStore& blobs) override {
        ++fetches;
        UniqueFd fd = from_.open(l.digest);
        blobs.put_fd(fd.get(), l.digest);
    }
    int fetches = 0;

  private:
    store::ContentStore& from_;
};

TEST_F(CacheExportTest, ImportedBlobsAreFetchedOnlyWhenAskedAndVerified) {
    const auto l1 = layer(a_, "one"), l2 = layer(a_, "two");
    CacheExport x;
    x.entries = {{key('a'), "t", l1, "one"}, {key('b'), "t", l2, "two"}};
    auto src = std::make_shared<CountingSource>(a_);
    ImportedCache imported;
    imported.add(
        parse_cache_artifact(make_cache_artifact(x).manifest, make_cache_artifact(x).config, "t"),
        src);
    ASSERT_TRUE(imported.get(key('a')));
    EXPECT_FALSE(imported.get(key('z')));
    EXPECT_EQ(src->fetches, 0) << "import reads no layer";

    imported.provide({l2}, b_);
    EXPECT_EQ(src->fetches, 1);
    EXPECT_TRUE(b_.has(l2.digest));
    EXPECT_FALSE(b_.has(l1.digest));
    imported.provide({l1, l2}, b_);
    EXPECT_EQ(src->fetches, 2) << "a blob the store has is not fetched again";
    EXPECT_EQ(imported.fetched().size(), 2u);
}

TEST_F(CacheExportTest, ALyingDiffIdIsRefusedAndTheBlobRemoved) {
    const auto l1 = layer(a_, "one");
    store::LayerRecord lie = l1;
    lie.diff_id = store::Digest::parse("sha256:" + std::string(64, '0'));
    ImportedCache imported;
    CacheExport x;
    x.entries = {{key('a'), "t", lie, "one"}};
    imported.add(x, std::make_shared<CountingSource>(a_));
    try {
        imported.provide({lie}, b_);
        ADD_FAILURE() << "accepted a layer whose diffID lies";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find("counting source"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(l1.diff_id.str()), std::string::npos) << e.what();
    }
    EXPECT_FALSE(b_.has(l1.digest)) << "the refused blob is not left in the store";

    // A size that lies is refused too.
    store::LayerRecord big = l1;
    big.size += 1;
    ImportedCache imported2;
    CacheExport y;
    y.entries = {{key('a'), "t", big, "one"}};
    imported2.add(y, std::make_shared<CountingSource>(a_));
    EXPECT_THROW(imported2.provide({big}, b_), Error);
    EXPECT_FALSE(b_.has(l1.digest));
}

TEST_F(CacheExportTest, LayoutRoundTripAndStaleBlobsGo) {
    const auto l1 = layer(a_, "one"), l2 = layer(a_, "two");
    const fs::path d = dir_.path() / "layout";
    CacheExport x;
    x.entries = {{key('a'), "t", l1, "one"}, {key('b'), "t", l2, "two"}};
    write_cache_layout(d, make_cache_artifact(x), a_);
    EXPECT_TRUE(fs::exists(d / "oci-layout"));
    const CacheExport back = read_cache_layout(d);
    EXPECT_EQ(back.entries.size(), 2u);

    // Export only the first: the second layer's blob leaves the directory.
    x.entries.pop_back();
    write_cache_layout(d, make_cache_artifact(x), a_);
    EXPECT_TRUE(fs::exists(d / "blobs/sha256" / l1.digest.hex));
    EXPECT_FALSE(fs::exists(d / "blobs/sha256" / l2.digest.hex));
    EXPECT_EQ(read_cache_layout(d).entries.size(), 1u);

    // A blob swapped for other bytes is refused when fetched.
    write(d / "blobs/sha256" / l1.digest.hex, "not the layer");
    ImportedCache imported;
    imported.add(read_cache_layout(d), layout_blob_source(d));
    EXPECT_THROW(imported.provide({l1}, b_), Error);
    EXPECT_FALSE(b_.has(l1.digest));

    EXPECT_THROW(read_cache_layout(dir_.path() / "none"), Error);
}

TEST_F(CacheExportTest, MemosAreRecordedAndImported) {
    CacheIndex index(dir_.path() / "cache");
    index.put_memo("input one", "v1");
    EXPECT_EQ(index.memo("input one"), "v1");
    EXPECT_FALSE(index.memo("input two"));
    const auto used = index.memos_used();
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used.begin()->first, store::sha256_of("input one").hex);

    CacheIndex other(dir_.path() / "cache2");
    other.import_memos(used);
    EXPECT_EQ(other.memo("input one"), "v1") << "read from the imported memos";
    EXPECT_FALSE(fs::exists(dir_.path() / "cache2/memo" / store::sha256_of("input one").hex))
        << "imported memos are not written into the store";
}

}  // namespace
}  // namespace strata::cache
