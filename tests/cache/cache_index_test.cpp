// The build cache index: entries round-trip, bad files are misses (never
// errors), entries whose blob is gone are unusable, prune drops them (or
// everything) and keeps the blobs of the rest alive; build records for
// --explain round-trip and are not rewritten when unchanged.
#include <gtest/gtest.h>

#include <fstream>

#include "base/atomic_file.hpp"
#include "base/temp_dir.hpp"
#include "cache/build_record.hpp"
#include "cache/cache_index.hpp"
#include "cache/cache_prune.hpp"
#include "store/content_store.hpp"
#include "store/image_store_io.hpp"

namespace strata::cache {
namespace {

namespace fs = std::filesystem;

class CacheIndexTest : public ::testing::Test {
  protected:
    TempDir dir_ = TempDir::create(fs::temp_directory_path(), "strata-cache-index-");
    store::ContentStore blobs_{dir_.path()};
    CacheIndex index_{dir_.path() / "cache"};

    CacheEntry entry(const std::string& key_input, std::optional<std::string> blob) {
        CacheEntry e;
        e.key = store::sha256_of(key_input).str();
        e.created = "2024-01-01T00:00:00Z";
        e.description = "[1/2] COPY a /a";
        if (blob) {
            store::LayerRecord l;
            l.digest = blobs_.put(*blob);
            l.diff_id = store::sha256_of("tar of " + *blob);
            l.size = blob->size();
            l.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
            l.unpacked_size = 7;
            e.layer = l;
        }
        return e;
    }
};

TEST_F(CacheIndexTest, PutGetRoundTrip) {
    const CacheEntry with = entry("k1", "layer bytes");
    const CacheEntry without = entry("k2", std::nullopt);
    index_.put(with);
    index_.put(without);
    EXPECT_EQ(index_.get(with.key), with);
    EXPECT_EQ(index_.get(without.key), without);
    EXPECT_FALSE(index_.get(store::sha256_of("other").str()).has_value());
    EXPECT_EQ(index_.list().size(), 2u);
    EXPECT_EQ(CacheIndex::from_json(CacheIndex::to_json(with), "x"), with);
}

TEST_F(CacheIndexTest, CorruptOrForeignFilesAreMisses) {
    const CacheEntry e = entry("k1", "layer");
    index_.put(e);
    const fs::path file = index_.dir() / "steps" / store::Digest::parse(e.key).hex;
    for (const std::string bad : {"", "{", "{\"version\":99}", "[1,2]",
                                  "{\"version\":1,\"key\":\"sha256:00\",\"created\":\"x\","
                                  "\"layer\":null}"}) {
        write_file_atomic(file, bad);
        EXPECT_FALSE(index_.get(e.key).has_value()) << bad;
    }
    std::vector<std::string> unreadable;
    index_.list(&unreadable);
    EXPECT_EQ(unreadable.size(), 0u) << "the last one parses but names another key";
    write_file_atomic(file, "garbage");
    index_.list(&unreadable);
    EXPECT_EQ(unreadable.size(), 1u);
    index_.put(e);  // rewritten by the next build
    EXPECT_EQ(index_.get(e.key), e);
}

// Entries are written without fsync (CacheIndex::put): a crash can leave
// one empty or cut short at any byte, and each of those must read as a miss.
TEST_F(CacheIndexTest, AnEntryCutShortAnywhereIsAMiss) {
    const CacheEntry e = entry("cut", "layer bytes");
    index_.put(e);
    const fs::path file = dir_.path() / "cache" / "steps" / store::Digest::parse(e.key).hex;
    const std::string whole = store::read_whole_file(file);
    for (size_t n = 0; n < whole.size(); ++n) {
        write_file_atomic(file, whole.substr(0, n));
        EXPECT_FALSE(index_.get(e.key)) << n;
    }
    write_file_atomic(file, std::string(whole.size(), '\0'));
    EXPECT_FALSE(index_.get(e.key));
    write_file_atomic(file, whole);
    EXPECT_EQ(index_.get(e.key), e);
}

TEST_F(CacheIndexTest, EveryPutAndRemoveAdvancesTheGeneration) {
    const uint64_t g0 = index_.generation();
    const CacheEntry e = entry("gen", std::nullopt);
    index_.put(e);
    EXPECT_EQ(index_.generation(), g0 + 1);
    CacheIndex other(dir_.path() / "cache");  // another process, say
    other.put(e);
    other.remove(e.key);
    EXPECT_EQ(index_.generation(), g0 + 3);
    EXPECT_EQ(index_.own_changes(), 1u);
    EXPECT_EQ(other.own_changes(), 2u);
    index_.memo("x");
    index_.put_memo("x", "y");  // memos are derived values, not entries
    EXPECT_EQ(index_.generation(), g0 + 3);
}

TEST_F(CacheIndexTest, EntryWithoutItsBlobIsUnusableAndPruned) {
    const CacheEntry keep = entry("keep", "kept layer");
    const CacheEntry gone = entry("gone", "removed layer");
    index_.put(keep);
    index_.put(gone);
    blobs_.remove(gone.layer->digest);
    EXPECT_TRUE(CacheIndex::usable(keep, blobs_));
    EXPECT_FALSE(CacheIndex::usable(gone, blobs_));

    CacheGcParticipant gc(index_, blobs_);  // no policy: only what cannot be used
    store::PruneReport report;
    gc.prune({}, report);
    ASSERT_EQ(report.other.size(), 1u);
    EXPECT_NE(report.other[0].first.find("cache entry"), std::string::npos);
    EXPECT_FALSE(index_.get(gone.key).has_value());
    store::GcRoots roots;
    gc.add_roots(roots);
    EXPECT_EQ(roots.blobs, (std::set<store::Digest>{keep.layer->digest}));
    EXPECT_EQ(roots.layers, (std::set<store::Digest>{keep.layer->diff_id}));

    CacheGcParticipant all(index_, blobs_, CachePrunePolicy{});  // all of it
    index_.put_memo("input", "value");
    store::PruneReport report2;
    all.prune({}, report2);
    EXPECT_TRUE(index_.list().empty());
    EXPECT_FALSE(index_.memo("input").has_value());
    EXPECT_GT(report2.freed, 0u);
}

TEST_F(CacheIndexTest, MemoIsKeyedByItsExactInput) {
    EXPECT_FALSE(index_.memo("a").has_value());
    index_.put_memo("a", "xxh3:1");
    index_.put_memo("b", "xxh3:2");
    EXPECT_EQ(index_.memo("a"), "xxh3:1");
    EXPECT_EQ(index_.memo("b"), "xxh3:2");
}

// Memos are written without fsync: whatever a crash leaves of one (empty,
// cut short, zeros where its bytes were) is a miss, never a wrong value.
TEST_F(CacheIndexTest, WhatACrashLeavesOfAMemoIsAMiss) {
    const std::string value = "xxh3:0123456789abcdef0123456789abcdef";
    index_.put_memo("input", value);
    ASSERT_EQ(index_.memo("input"), value);
    const fs::path file = dir_.path() / "cache" / "memo" / store::sha256_of("input").hex;
    ASSERT_TRUE(fs::exists(file));
    std::string whole;
    {
        std::ifstream in(file, std::ios::binary);
        whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto leave = [&](const std::string& bytes) {
        std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
        return index_.memo("input");
    };
    EXPECT_FALSE(leave("").has_value()) << "empty";
    for (size_t n = 1; n < whole.size(); ++n)
        EXPECT_FALSE(leave(whole.substr(0, n)).has_value()) << "cut short at " << n;
    EXPECT_FALSE(leave(std::string(whole.size(), '\0')).has_value()) << "zeros";
    std::string other = whole;
    other[6] = other[6] == '1' ? '2' : '1';
    EXPECT_FALSE(leave(other).has_value()) << "another value under this name";
    EXPECT_EQ(leave(whole), value) << "whole again";
}

TEST_F(CacheIndexTest, BuildRecordsRoundTripAndSkipUnchangedWrites) {
    BuildRecords records(dir_.path() / "cache");
    const std::string id = BuildRecords::id_for("ctx\nDockerfile\n");
    EXPECT_FALSE(records.load(id).has_value());
    BuildRecord r;
    r.base_keys[0] = "sha256:base";
    r.base_refs[0] = "busybox@sha256:1";
    r.steps.push_back({0,
                       1,
                       "[1/2] COPY a /a",
                       "COPY a /a",
                       "sha256:k",
                       "sha256:p",
                       {{"op", "COPY"}, {"src", "a"}}});
    records.save(id, r);
    const auto loaded = records.load(id);
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(*loaded, r);

    const fs::path file = dir_.path() / "cache" / "builds" / (id + ".json");
    const auto before = fs::last_write_time(file);
    write_file_atomic(file, store::read_whole_file(file));  // same bytes, new mtime
    const auto rewritten = fs::last_write_time(file);
    records.save(id, r);
    EXPECT_EQ(fs::last_write_time(file), rewritten) << "unchanged bytes: not written";
    EXPECT_GE(rewritten, before);
    r.steps[0].key = "sha256:other";
    records.save(id, r);
    EXPECT_EQ(records.load(id)->steps[0].key, "sha256:other") << "changed: written";

    FileListing files{{"a.txt", "xxh3:1"}, {"dir/b", "xxh3:2"}};
    records.save_files(id, "xxh3:root1", files);
    EXPECT_EQ(records.load_files(id), files);
    // Same context digest: the listing is not rewritten, whatever is passed.
    records.save_files(id, "xxh3:root1", FileListing{});
    EXPECT_EQ(records.load_files(id), files);
    records.save_files(id, "xxh3:root2", FileListing{{"c", "xxh3:3"}});
    EXPECT_EQ(records.load_files(id), (FileListing{{"c", "xxh3:3"}}));
}

// Build records are hints written without fsync: what a crash can leave —
// a listing cut short or garbled, a record cut short, an empty file — is
// read as no record, never as a wrong one.
TEST_F(CacheIndexTest, BuildRecordsACrashLeftBehindAreNone) {
    BuildRecords records(dir_.path() / "cache");
    const std::string id = BuildRecords::id_for("ctx\nDockerfile\n");
    const fs::path dir = dir_.path() / "cache" / "builds";
    FileListing files{{"a.txt", "xxh3:1"}, {"dir/b", "xxh3:2"}, {"dir/c", "xxh3:3"}};
    records.save_files(id, "xxh3:root1", files);
    ASSERT_EQ(records.load_files(id), files);
    const std::string whole = store::read_whole_file(dir / (id + ".files"));
    write_file_atomic(dir / (id + ".files"), whole.substr(0, whole.size() - 9));  // cut short
    EXPECT_FALSE(records.load_files(id).has_value());
    std::string garbled = whole;
    garbled[garbled.size() - 3] = '\0';
    write_file_atomic(dir / (id + ".files"), garbled);
    EXPECT_FALSE(records.load_files(id).has_value());
    write_file_atomic(dir / (id + ".files"), "");
    EXPECT_FALSE(records.load_files(id).has_value());
    write_file_atomic(dir / (id + ".files"), "xxh3:root1\nxxh3:1 a.txt\n");  // the old format
    EXPECT_FALSE(records.load_files(id).has_value());
    records.save_files(id, "xxh3:root1", files);
    EXPECT_EQ(records.load_files(id), files) << "a listing that does not load is written again";

    BuildRecord r;
    r.steps.push_back({0, 1, "[1/2] COPY a /a", "COPY a /a", "sha256:k", "sha256:p", {}});
    records.save(id, r);
    const std::string record = store::read_whole_file(dir / (id + ".json"));
    write_file_atomic(dir / (id + ".json"), record.substr(0, record.size() / 2));
    EXPECT_FALSE(records.load(id).has_value());
}

}  // namespace
}  // namespace strata::cache
