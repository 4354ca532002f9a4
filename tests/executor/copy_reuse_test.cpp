// The COPY reuse index (executor/copy/copy_reuse.hpp): its encoding, what
// it refuses to read, and the rules for what a layer records and a rebuild
// takes from it. The build-level behaviour is in
// tests/build/reproducible_test.cpp (ACopyRebuiltAfterAnEdit...).
#include "executor/copy/copy_reuse.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/build_id.hpp"
#include "base/temp_dir.hpp"
#include "store/digest.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::executor;

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = 1'800'000'000 * kSecond;  // the snapshot's start
constexpr int64_t kOld = kStart - 3600 * kSecond;

cache::StatRecord identity(uint64_t ino, int64_t ctime = kOld) {
    return reuse_identity(2049, ino, 100 + ino, kOld, ctime, S_IFREG | 0644,
                          cache::Hash128{ino * 7, ino * 13});
}

constexpr store::HeaderInputs kHeader{S_IFREG | 0644, 0, 0, 1'700'000'000};

CopyReuseIndex sample() {
    CopyReuseIndex index;
    index.set_build_id(binary_build_id());
    index.add("app/a.txt", 1024, identity(1), kHeader);
    index.add("app/b.txt", 2048, identity(2));
    index.add("app/sub/\xc3\xa9t\xc3\xa9", 4096, identity(3));  // UTF-8 bytes
    return index;
}

TEST(CopyReuseIndex, EncodesAndDecodesEveryRecord) {
    const auto index = sample();
    const auto back = CopyReuseIndex::decode(index.encode());
    ASSERT_TRUE(back);
    ASSERT_EQ(back->size(), 3u);
    const auto* b = back->find("app/b.txt");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->offset, 2048u);
    EXPECT_EQ(std::memcmp(&b->source, &index.find("app/b.txt")->source, sizeof b->source), 0);
    EXPECT_NE(back->find("app/sub/\xc3\xa9t\xc3\xa9"), nullptr);
    EXPECT_EQ(back->build_id(), binary_build_id());
    EXPECT_EQ(back->find("app/a.txt")->header, kHeader);
    EXPECT_FALSE(back->find("app/b.txt")->header);
    EXPECT_EQ(back->find("app/c.txt"), nullptr);
    EXPECT_EQ(back->find("app"), nullptr);
    EXPECT_EQ(back->encode(), index.encode());
}

TEST(CopyReuseIndex, KeepsNamesSortedAndOneRecordPerName) {
    CopyReuseIndex index;
    index.add("z", 1, identity(1));
    index.add("a", 2, identity(2));
    index.add("m", 3, identity(3));
    index.add("a", 4, identity(4));  // the later record of a name wins
    ASSERT_EQ(index.size(), 3u);
    EXPECT_EQ(index.find("a")->offset, 4u);
    EXPECT_EQ(index.find("m")->offset, 3u);
    EXPECT_EQ(index.find("z")->offset, 1u);
    ASSERT_TRUE(CopyReuseIndex::decode(index.encode()));
}

TEST(CopyReuseIndex, AnythingButWhatEncodeWroteIsNoIndex) {
    const std::string good = sample().encode();
    for (size_t n = 0; n < good.size(); ++n)
        EXPECT_FALSE(CopyReuseIndex::decode(good.substr(0, n))) << "cut at " << n;
    for (size_t i = 0; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x20);
        EXPECT_FALSE(CopyReuseIndex::decode(bad)) << "byte " << i << " flipped";
    }
    EXPECT_FALSE(CopyReuseIndex::decode(good + "x"));
    EXPECT_FALSE(CopyReuseIndex::decode(""));
}

TEST(CopyReuseIndex, IsKeptPerLayerAndAMissingOneIsNone) {
    TempDir dir = TempDir::create(fs::temp_directory_path(), "copy-index-test-");
    const fs::path kept = dir.path() / "copy-index";
    const auto a = store::sha256_of("layer a");
    const auto b = store::sha256_of("layer b");
    EXPECT_FALSE(CopyReuseIndex::load(kept, a));
    sample().save(kept, a);
    ASSERT_TRUE(CopyReuseIndex::load(kept, a));
    EXPECT_EQ(CopyReuseIndex::load(kept, a)->size(), 3u);
    EXPECT_FALSE(CopyReuseIndex::load(kept, b));
    std::ofstream(kept / a.hex) << "garbage";
    EXPECT_FALSE(CopyReuseIndex::load(kept, a));
}

store::LayerFile layer_file(const std::string& name) {
    store::LayerFile f;
    f.name = name;
    return f;
}

TEST(CopyReuse, AFileIsTakenOnlyWhenEveryFieldOfItsStatAndHashMatches) {
    const auto index = sample();
    auto blob = std::make_shared<const UniqueFd>();
    std::vector<store::LayerFile> files = {layer_file("app/a.txt"), layer_file("app/b.txt"),
                                           layer_file("app/new.txt"), layer_file("app/sub/x")};
    std::vector<std::optional<cache::StatRecord>> sources = {identity(1), identity(2), identity(9),
                                                             std::nullopt};
    EXPECT_EQ(use_stored_bytes(files, sources, index, blob), 2u);
    ASSERT_TRUE(files[0].stored);
    EXPECT_EQ(files[0].stored->offset, 1024u);
    EXPECT_EQ(files[1].stored->offset, 2048u);
    EXPECT_EQ(files[0].stored->header, kHeader) << "written by this binary";
    EXPECT_FALSE(files[1].stored->header) << "its header was not one block";
    EXPECT_FALSE(files[2].stored) << "not in the index";
    EXPECT_FALSE(files[3].stored) << "not from the build context";

    // An index another strata wrote: its bytes are taken, its headers not.
    auto other = CopyReuseIndex::decode(index.encode());
    other->set_build_id("another build");
    std::vector<store::LayerFile> again = {layer_file("app/a.txt")};
    std::vector<std::optional<cache::StatRecord>> same = {identity(1)};
    EXPECT_EQ(use_stored_bytes(again, same, *other, blob), 1u);
    EXPECT_FALSE(again[0].stored->header);

    // Each field on its own: a change of any of them is a change of the file.
    using Change = void (*)(cache::StatRecord&);
    const std::vector<std::pair<const char*, Change>> changes = {
        {"dev", [](cache::StatRecord& r) { ++r.dev; }},
        {"inode", [](cache::StatRecord& r) { ++r.ino; }},
        {"size", [](cache::StatRecord& r) { ++r.size; }},
        {"mtime", [](cache::StatRecord& r) { ++r.mtime_ns; }},
        {"ctime", [](cache::StatRecord& r) { ++r.ctime_ns; }},
        {"mode", [](cache::StatRecord& r) { r.mode ^= 0100; }},
        {"hash", [](cache::StatRecord& r) { ++r.hash.hi; }},
    };
    for (const auto& [what, change] : changes) {
        std::vector<store::LayerFile> one = {layer_file("app/a.txt")};
        std::vector<std::optional<cache::StatRecord>> src = {identity(1)};
        change(*src[0]);
        EXPECT_EQ(use_stored_bytes(one, src, index, blob), 0u) << what;
        EXPECT_FALSE(one[0].stored) << what;
    }
}

TEST(CopyReuse, ALayerRecordsFilesOldEnoughWithoutXattrsFromTheContext) {
    std::vector<store::LayerFile> files = {layer_file("a"), layer_file("b"), layer_file("c"),
                                           layer_file("d"), layer_file("e")};
    std::vector<std::optional<cache::StatRecord>> sources = {
        identity(1),
        identity(2, kStart - kSecond),  // changed a second before the snapshot: racy
        identity(3),                    // has xattrs (below)
        std::nullopt,                   // not from the context
        identity(5, kStart - cache::StatCache::kRacyMarginNs - 1),  // just old enough
    };
    std::vector<store::WrittenFile> written(5);
    for (size_t i = 0; i < written.size(); ++i) {
        written[i].offset = 1024 * (i + 1);
        written[i].header_size = 512;
        written[i].header = kHeader;
    }
    written[2].xattrs = true;
    written[4].header_size = 1536;  // a PAX header before it
    const auto index = index_of_written(files, sources, written, kStart);
    EXPECT_EQ(index.build_id(), binary_build_id());
    ASSERT_EQ(index.size(), 2u);
    EXPECT_EQ(index.find("a")->offset, 1024u);
    EXPECT_EQ(index.find("a")->header, kHeader);
    EXPECT_FALSE(index.find("e")->header);
    EXPECT_EQ(index.find("e")->offset, 5120u);
    EXPECT_EQ(index.find("b"), nullptr);
    EXPECT_EQ(index.find("c"), nullptr);
    EXPECT_EQ(index.find("d"), nullptr);
}

}  // namespace
