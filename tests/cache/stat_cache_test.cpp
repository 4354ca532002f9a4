// The stat cache: hits without reads, every stat field invalidates, racy
// entries, persistence (corrupt files ignored), concurrent writers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/memory_filesystem.hpp"
#include "cache/stat_cache.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::cache {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kSec = 1'000'000'000;

struct Fixture {
    MemoryFilesystem mfs;
    StatCache cache;

    explicit Fixture(int files = 100) {
        for (int i = 0; i < files; ++i)
            mfs.add_file("ctx/d" + std::to_string(i % 10) + "/f" + std::to_string(i),
                         "content " + std::to_string(i));
        mfs.advance(10 * kSec);  // everything is old: not racy
    }
    ContextSnapshot snap(const frontend::DockerIgnore* ig = nullptr, unsigned threads = 1) {
        mfs.reset_counters();
        SnapshotOptions o;
        o.stat_cache = &cache;
        o.ignore = ig;
        o.threads = threads;
        return snapshot_context(mfs, "ctx", o);
    }
    uint64_t reads() { return mfs.counters().reads.load(); }
};

TEST(StatCache, UnchangedContextIsRecheckedWithStatsOnly) {
    Fixture f(1000);
    ContextSnapshot first = f.snap();
    EXPECT_EQ(f.reads(), 1000u);
    EXPECT_EQ(first.stats().files_hashed, 1000u);
    EXPECT_EQ(f.cache.size(), 1000u);
    EXPECT_TRUE(f.cache.dirty());

    for (unsigned threads : {1u, 4u}) {
        ContextSnapshot again = f.snap(nullptr, threads);
        EXPECT_EQ(f.reads(), 0u) << "an unchanged context must not be read";
        EXPECT_EQ(f.mfs.counters().bytes_read.load(), 0u);
        EXPECT_EQ(f.mfs.counters().stats.load(), 1000u + 10u + 1u);  // files, dirs, root
        EXPECT_EQ(again.stats().cache_hits, 1000u);
        EXPECT_EQ(again.stats().files_hashed, 0u);
        EXPECT_EQ(again.root().digest, first.root().digest);
    }
}

struct StatEdit {
    const char* name;
    void (*edit)(MemoryFilesystem&, const FileStat&);
};

class StatFieldInvalidates : public ::testing::TestWithParam<StatEdit> {};

TEST_P(StatFieldInvalidates, OneFileRehashed) {
    Fixture f(20);
    f.snap();
    ASSERT_EQ(f.reads(), 20u);
    f.mfs.advance(10 * kSec);
    // The stat of the file as the cache recorded it.
    FileStat st;
    auto root = f.mfs.open_root("ctx/d3");
    ASSERT_TRUE(root->stat("f13", st));
    GetParam().edit(f.mfs, st);
    f.mfs.advance(10 * kSec);
    ContextSnapshot s = f.snap();
    EXPECT_EQ(f.reads(), 1u) << GetParam().name;
    EXPECT_EQ(s.stats().files_hashed, 1u);
    EXPECT_EQ(s.stats().cache_hits, 19u);
}

const StatEdit kStatEdits[] = {
    {"size",
     [](MemoryFilesystem& m, const FileStat&) { m.write("ctx/d3/f13", "longer content 13"); }},
    {"mtime only",
     [](MemoryFilesystem& m, const FileStat& st) {
         m.set_times("ctx/d3/f13", st.mtime_ns + 1, st.ctime_ns);
     }},
    {"ctime only",
     [](MemoryFilesystem& m, const FileStat& st) {
         m.set_times("ctx/d3/f13", st.mtime_ns, st.ctime_ns + 1);
     }},
    {"inode only", [](MemoryFilesystem& m, const FileStat&) { m.set_inode("ctx/d3/f13", 77777); }},
    {"mode", [](MemoryFilesystem& m, const FileStat&) { m.chmod("ctx/d3/f13", 0600); }},
};

INSTANTIATE_TEST_SUITE_P(Fields, StatFieldInvalidates, ::testing::ValuesIn(kStatEdits),
                         [](const ::testing::TestParamInfo<StatEdit>& i) {
                             std::string n = i.param.name;
                             for (char& c : n)
                                 if (c == ' ') c = '_';
                             return n;
                         });

TEST(StatCache, ForgedMtimeSameSizeStillSeesNewContent) {
    // moby/buildkit#4817: same size, mtime put back (tar, touch -d) → BuildKit
    // kept the stale content. ctime cannot be put back, so strata rehashes.
    Fixture f(5);
    ContextSnapshot before = f.snap();
    FileStat st;
    ASSERT_TRUE(f.mfs.open_root("ctx/d2")->stat("f2", st));
    f.mfs.advance(10 * kSec);
    f.mfs.write("ctx/d2/f2", "CONTENT 2");  // same length as "content 2"
    f.mfs.set_mtime("ctx/d2/f2", st.mtime_ns);
    f.mfs.advance(10 * kSec);
    ContextSnapshot after = f.snap();
    EXPECT_EQ(f.reads(), 1u);
    EXPECT_NE(after.find("d2/f2")->content, before.find("d2/f2")->content);
    EXPECT_NE(after.root().digest, before.root().digest);
}

TEST(StatCache, RacyEntriesAreRehashedUntilOld) {
    MemoryFilesystem m;
    StatCache cache;
    m.add_file("ctx/a", "aaaa");
    m.add_file("ctx/old", "old");
    m.set_times("ctx/old", m.now_ns() - 100 * kSec, m.now_ns() - 100 * kSec);
    SnapshotOptions o;
    o.stat_cache = &cache;
    o.threads = 1;
    // The snapshot runs in the same timestamp tick as the write of "a".
    snapshot_context(m, "ctx", o);
    EXPECT_EQ(cache.size(), 1u);  // only "old" is trusted
    EXPECT_NE(cache.records()[0].ino, 0u);

    // Same tick: "a" changes without any visible stat change.
    m.reset_counters();
    FileStat st;
    ASSERT_TRUE(m.open_root("ctx")->stat("a", st));
    m.write("ctx/a", "bbbb");
    m.set_times("ctx/a", st.mtime_ns, st.ctime_ns);
    ContextSnapshot s = snapshot_context(m, "ctx", o);
    EXPECT_EQ(m.counters().reads.load(), 1u);  // "a" reread, "old" from the cache
    EXPECT_EQ(std::string_view(s.find("a")->path), "a");
    EXPECT_EQ(s.stats().files_hashed, 1u);

    // Time passes beyond the margin: recorded now, and a hit the time after.
    m.advance(StatCache::kRacyMarginNs);
    snapshot_context(m, "ctx", o);
    EXPECT_EQ(cache.size(), 1u);  // still racy at exactly the margin
    m.advance(1);
    m.reset_counters();
    snapshot_context(m, "ctx", o);
    EXPECT_EQ(m.counters().reads.load(), 1u);
    EXPECT_EQ(cache.size(), 2u);
    m.reset_counters();
    snapshot_context(m, "ctx", o);
    EXPECT_EQ(m.counters().reads.load(), 0u);
}

TEST(StatCache, FutureMtimeIsAlwaysRacy) {
    MemoryFilesystem m;
    StatCache cache;
    m.add_file("ctx/future", "f");
    m.set_times("ctx/future", m.now_ns() + 1000 * kSec, m.now_ns());
    m.advance(10 * kSec);
    SnapshotOptions o;
    o.stat_cache = &cache;
    for (int i = 0; i < 3; ++i)
        snapshot_context(m, "ctx", o);
    EXPECT_EQ(m.counters().reads.load(), 3u);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(StatCache, HardLinksShareOneRecord) {
    Fixture f(0);
    f.mfs.add_file("ctx/a", "same inode");
    f.mfs.add_file("ctx/b", "same inode");
    FileStat st;
    ASSERT_TRUE(f.mfs.open_root("ctx")->stat("a", st));
    f.mfs.set_inode("ctx/b", st.ino);
    f.mfs.set_times("ctx/b", st.mtime_ns, st.ctime_ns);
    f.mfs.advance(10 * kSec);
    f.snap();
    EXPECT_EQ(f.cache.size(), 1u);
    f.snap();
    EXPECT_EQ(f.reads(), 0u);
}

TEST(StatCache, UnseenRecordsKeptUnlessTheyDominate) {
    Fixture f(3000);
    f.snap();
    EXPECT_EQ(f.cache.size(), 3000u);
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-sc-");
    EXPECT_TRUE(f.cache.save(tmp.path()));
    EXPECT_FALSE(f.cache.dirty());
    // Builds with another .dockerignore see fewer files: nothing is evicted,
    // and alternating between the two writes nothing.
    frontend::DockerIgnore ig = frontend::DockerIgnore::parse("d[0-4]\n", ".dockerignore");
    f.snap(&ig);
    EXPECT_FALSE(f.cache.dirty());
    f.cache.save(fs::path("/nonexistent/never/written"));  // not dirty: no write, no error
    EXPECT_EQ(f.cache.size(), 3000u);
    f.snap(&ig);
    EXPECT_EQ(f.reads(), 0u);
    f.snap();  // and back to the full context: still nothing to write
    EXPECT_FALSE(f.cache.dirty());
    EXPECT_EQ(f.reads(), 0u);
    // Most files deleted: the stale records go.
    for (int i = 0; i < 3000; ++i)
        if (i % 10 >= 2) f.mfs.remove("ctx/d" + std::to_string(i % 10) + "/f" + std::to_string(i));
    f.snap();
    EXPECT_EQ(f.cache.size(), 600u);
    EXPECT_TRUE(f.cache.dirty());
}

class StatCacheFile : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_.emplace(TempDir::create(fs::temp_directory_path(), "strata-sc-"));
    }
    fs::path dir() const { return tmp_->path() / "cache" / "contexts" / "abc"; }
    fs::path file() const { return dir() / StatCache::kFileName; }

    // Fills `f`'s cache and saves it.
    void save(Fixture& f) {
        f.snap();
        EXPECT_TRUE(f.cache.save(dir(), 123));
    }
    void saved() {
        Fixture f(50);
        save(f);
    }
    std::string read_all() {
        std::ifstream in(file(), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    void write_all(const std::string& s) {
        std::ofstream out(file(), std::ios::binary | std::ios::trunc);
        out << s;
    }

    std::optional<TempDir> tmp_;
};

TEST_F(StatCacheFile, RoundTripAndHitsAfterLoad) {
    Fixture f(50);
    save(f);
    StatCache loaded = StatCache::load(dir());
    EXPECT_EQ(loaded.load_status(), StatCache::LoadStatus::kLoaded);
    ASSERT_EQ(loaded.size(), 50u);
    EXPECT_FALSE(loaded.dirty());
    EXPECT_EQ(fs::file_size(file()), 32u + 50u * 64u + 16u);
    // A fresh process: a new cache object from the file, no reads.
    f.cache = std::move(loaded);
    f.snap();
    EXPECT_EQ(f.reads(), 0u);
    EXPECT_FALSE(f.cache.dirty());
    EXPECT_FALSE(f.cache.save(dir()));  // nothing changed: the file is not rewritten
}

TEST_F(StatCacheFile, MissingFileIsAnEmptyCache) {
    StatCache c = StatCache::load(dir());
    EXPECT_EQ(c.load_status(), StatCache::LoadStatus::kEmpty);
    EXPECT_EQ(c.size(), 0u);
}

TEST_F(StatCacheFile, CorruptFilesAreIgnoredAndRewritten) {
    saved();
    const std::string good = read_all();
    std::vector<std::pair<std::string, std::string>> bad = {
        {"empty", ""},
        {"truncated", good.substr(0, good.size() - 1)},
        {"truncated to a record boundary", good.substr(0, good.size() - 64)},
        {"one flipped bit in a record",
         [&] {
             std::string s = good;
             s[32 + 64 * 7 + 20] ^= 1;
             return s;
         }()},
        {"flipped checksum",
         [&] {
             std::string s = good;
             s.back() ^= 0x80;
             return s;
         }()},
        {"other version",
         [&] {
             std::string s = good;
             s[8] = 99;
             return s;
         }()},
        {"garbage", std::string(32 + 64 + 16, 'x')},
        {"extra bytes", good + "x"},
    };
    for (const auto& [name, bytes] : bad) {
        write_all(bytes);
        StatCache c = StatCache::load(dir());
        EXPECT_EQ(c.load_status(), StatCache::LoadStatus::kDiscarded) << name;
        EXPECT_EQ(c.size(), 0u) << name;
        EXPECT_TRUE(c.dirty()) << name;
        EXPECT_TRUE(c.save(dir())) << name;  // replaced by a valid (empty) file
        EXPECT_EQ(StatCache::load(dir()).load_status(), StatCache::LoadStatus::kLoaded) << name;
    }
}

TEST_F(StatCacheFile, UnopenableFileIsAnError) {
    // An existing cache file that cannot be opened (a symlink loop here, so
    // that it fails for root too) is a broken store, not a missing cache.
    fs::create_directories(dir());
    fs::create_symlink(StatCache::kFileName, file());
    try {
        StatCache::load(dir());
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kSystem);
        EXPECT_NE(std::string(e.what()).find(file().string()), std::string::npos) << e.what();
    }
}

TEST_F(StatCacheFile, ConcurrentWritersNeverTearTheFile) {
    saved();
    // Several writers rewrite the cache with different contents while this
    // thread keeps loading it: every load sees one complete file. Threads
    // stand in for processes (each save is its own temp file and rename,
    // as in another process); forking a process whose other threads may
    // hold the allocator's lock deadlocked the child under ASan.
    std::atomic<int> running{3};
    std::atomic<int> failed{0};
    {
        std::vector<std::jthread> writers;
        for (int k = 0; k < 3; ++k)
            writers.emplace_back([&, k] {
                try {
                    for (int i = 0; i < 30; ++i) {
                        Fixture f(10 + 20 * k + i);
                        f.snap();
                        if (!f.cache.save(dir())) failed += 1;
                    }
                } catch (...) {
                    failed += 1;
                }
                running -= 1;
            });
        int loads = 0;
        do {
            StatCache c = StatCache::load(dir());
            EXPECT_EQ(c.load_status(), StatCache::LoadStatus::kLoaded);
            ++loads;
        } while (running > 0);
        EXPECT_GT(loads, 0);
    }
    EXPECT_EQ(failed, 0);
    // No temp files left behind.
    for (const auto& e : fs::directory_iterator(dir()))
        EXPECT_EQ(e.path().filename(), StatCache::kFileName) << e.path();
}

TEST(ContextCacheId, StableAndPathDependent) {
    std::string a = context_cache_id("/tmp");
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(a, context_cache_id("/tmp/"));
    EXPECT_EQ(a, context_cache_id("/tmp/../tmp"));
    EXPECT_NE(a, context_cache_id("/usr"));
}

}  // namespace
}  // namespace strata::cache
