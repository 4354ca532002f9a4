#include "store/content_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "base/error.hpp"
#include "store/layer_fixture.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

int count_entries(const fs::path& dir) {
    int n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir))
        ++n;
    return n;
}

TEST(ContentStore, PutReadHasSizeList) {
    auto root = scratch();
    ContentStore cs(root.path());
    auto d = cs.put("{\"a\":1}");
    EXPECT_EQ(d, sha256_of("{\"a\":1}"));
    EXPECT_TRUE(cs.has(d));
    EXPECT_EQ(cs.blob_path(d), root.path() / "blobs" / "sha256" / d.hex);
    EXPECT_EQ(cs.size(d), 7u);
    EXPECT_EQ(cs.read(d), "{\"a\":1}");
    EXPECT_TRUE(cs.verify(d));
    auto d2 = cs.put("other");
    auto all = cs.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
    cs.remove(d);
    EXPECT_FALSE(cs.has(d));
    EXPECT_EQ(cs.list(), std::vector<Digest>{d2});
    cs.remove(d);  // idempotent
}

TEST(ContentStore, MissingBlobIsNotFound) {
    auto root = scratch();
    ContentStore cs(root.path());
    auto d = sha256_of("nope");
    EXPECT_FALSE(cs.has(d));
    EXPECT_FALSE(cs.verify(d));
    for (auto fn : {+[](ContentStore&c, const Digest&x) { (void)c.size(x); },
                    +[](ContentStore&c, const Digest&x) { (void)c.read(x); },
                    +[](ContentStore&c, const Digest&x) { (void)c.open(x); }}) {
        try {
            fn(cs, d);
            ADD_FAILURE() << "expected kNotFound";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
            EXPECT_NE(std::string(e.what()).find(d.str()), std::string::npos);
        }
    }
}

TEST(ContentStore, StreamingWriterIsInvisibleUntilCommit) {
    auto root = scratch();
    ContentStore cs(root.path());
    std::string data(3 << 20, 'q');  // bigger than the writer's buffer
    auto expected = sha256_of(data);
    auto w = cs.writer();
    w.write(data.data(), 1000);
    w.write(data.data() + 1000, data.size() - 1000);
    EXPECT_EQ(w.size(), data.size());
    EXPECT_EQ(w.digest_so_far(), expected);
    EXPECT_FALSE(cs.has(expected));  // readers never see a partial blob
    EXPECT_TRUE(cs.list().empty());
    EXPECT_EQ(count_entries(cs.tmp_dir()), 1);
    EXPECT_EQ(w.commit(expected), expected);
    EXPECT_TRUE(cs.has(expected));
    EXPECT_EQ(cs.size(expected), data.size());
    EXPECT_EQ(count_entries(cs.tmp_dir()), 0);
}

TEST(ContentStore, DigestMismatchStoresNothing) {
    auto root = scratch();
    ContentStore cs(root.path());
    auto w = cs.writer();
    w.write("actual");
    auto claimed = sha256_of("claimed");
    try {
        w.commit(claimed);
        FAIL() << "expected kCorrupt";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find(claimed.str()), std::string::npos);
    }
    EXPECT_FALSE(cs.has(claimed));
    EXPECT_FALSE(cs.has(sha256_of("actual")));
    EXPECT_EQ(count_entries(cs.tmp_dir()), 0);
    // put_fd with a wrong expectation behaves the same.
    auto fd = fd_with("payload");
    EXPECT_THROW(cs.put_fd(fd.get(), claimed), Error);
    EXPECT_TRUE(cs.list().empty());
}

TEST(ContentStore, AbandonedWriterLeavesNoTrace) {
    auto root = scratch();
    ContentStore cs(root.path());
    {
        auto w = cs.writer();
        w.write("half a blob");
    }
    EXPECT_TRUE(cs.list().empty());
    EXPECT_EQ(count_entries(cs.tmp_dir()), 0);
}

TEST(ContentStore, TruncatedOrAlteredBlobIsDetected) {
    auto root = scratch();
    ContentStore cs(root.path());
    auto d = cs.put("a perfectly good blob");
    ASSERT_EQ(::truncate(cs.blob_path(d).c_str(), 5), 0);
    EXPECT_FALSE(cs.verify(d));
    try {
        (void)cs.read(d);
        FAIL() << "expected kCorrupt";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find(d.hex), std::string::npos);
    }
}

TEST(ContentStore, PutFdStreamsAndVerifies) {
    auto root = scratch();
    ContentStore cs(root.path());
    std::string data(5 << 20, 'z');
    auto fd = fd_with(data);
    auto d = cs.put_fd(fd.get(), sha256_of(data));
    EXPECT_EQ(cs.read(d), data);
}

TEST(ContentStore, ConcurrentWritersOfTheSameBlob) {
    auto root = scratch();
    ContentStore cs(root.path());
    auto a = cs.writer();
    auto b = cs.writer();
    a.write("same");
    b.write("same");
    auto da = a.commit();
    auto db = b.commit();
    EXPECT_EQ(da, db);
    EXPECT_EQ(cs.read(da), "same");
    EXPECT_EQ(count_entries(cs.tmp_dir()), 0);
}

}  // namespace

// --- compare_with: a blob the new one is likely to equal ---------------------

namespace {

std::string bytes_of(size_t size, unsigned seed) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; ++i)
        s[i] = static_cast<char>(((i + seed) * 2654435761u) >> 9);
    return s;
}

// Writes `data` in 1 MiB writes (as a layer arrives) through a writer that
// compares with `likely`; returns the digest and how much went to the disk.
std::pair<Digest, uint64_t> write_comparing(ContentStore& cs, const Digest& likely,
                                            const std::string& data) {
    auto w = cs.writer();
    w.compare_with(likely);
    for (size_t at = 0; at < data.size(); at += 1 << 20)
        w.write(data.data() + at, std::min<size_t>(1 << 20, data.size() - at));
    const uint64_t written = w.bytes_written();
    return {w.commit(), written};
}

}  // namespace

TEST(ContentStoreLikely, TheSameBytesAreComparedNotWritten) {
    auto root = scratch();
    ContentStore cs(root.path());
    const std::string data = bytes_of(5 << 20, 1);
    const Digest old = cs.put(data);
    const auto before = fs::last_write_time(cs.blob_path(old));
    const auto [d, written] = write_comparing(cs, old, data);
    EXPECT_EQ(d, old);
    EXPECT_EQ(written, 0u);
    EXPECT_EQ(fs::last_write_time(cs.blob_path(old)), before);
    EXPECT_EQ(count_entries(root.path() / "tmp"), 0);  // no temp file left
    EXPECT_TRUE(cs.verify(old));
}

TEST(ContentStoreLikely, ADifferenceAnywhereGivesTheNewBlob) {
    auto root = scratch();
    ContentStore cs(root.path());
    const std::string data = bytes_of(5 << 20, 2);
    const Digest old = cs.put(data);
    struct Case {
        const char* name;
        std::string bytes;
    };
    std::vector<Case> cases;
    cases.push_back({"first byte", data});
    cases.back().bytes[0] ^= 1;
    cases.push_back({"in the middle of a write", data});
    cases.back().bytes[(3 << 20) + 12345] ^= 1;
    cases.push_back({"last byte", data});
    cases.back().bytes.back() ^= 1;
    cases.push_back({"longer", data + "more"});
    cases.push_back({"shorter by a write", data.substr(0, 4 << 20)});
    cases.push_back({"shorter by a byte", data.substr(0, data.size() - 1)});
    cases.push_back({"empty", ""});
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto [d, written] = write_comparing(cs, old, c.bytes);
        EXPECT_EQ(d, sha256_of(c.bytes));
        EXPECT_EQ(cs.read(d), c.bytes);
        EXPECT_EQ(cs.read(old), data);  // the likely blob is untouched
    }
    EXPECT_EQ(count_entries(root.path() / "tmp"), 0);
}

TEST(ContentStoreLikely, AMissingOrRemovedLikelyBlobIsJustWritten) {
    auto root = scratch();
    ContentStore cs(root.path());
    const std::string data = bytes_of(3 << 20, 3);
    // Never there.
    const auto [d1, w1] = write_comparing(cs, sha256_of("not stored"), data);
    EXPECT_EQ(d1, sha256_of(data));
    EXPECT_EQ(w1, data.size());
    // Removed while the writer compared with it (prune): the bytes that
    // matched come from the open blob, and the blob is there again.
    const Digest old = cs.put(data);
    auto w = cs.writer();
    w.compare_with(old);
    w.write(data.data(), 2 << 20);
    cs.remove(old);
    w.write(data.data() + (2 << 20), data.size() - (2 << 20));
    EXPECT_EQ(w.commit(), old);
    EXPECT_EQ(cs.read(old), data);
}
