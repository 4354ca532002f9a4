// The hasher on a real directory: RealFilesystem, hash_context with its
// persistent stat cache, symlinks, fifos, errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "cache/context_hasher.hpp"
#include "cache/context_resolve.hpp"
#include "cache/stat_cache.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::cache {
namespace {

namespace fs = std::filesystem;

Hash128 xxh128(std::string_view s) {
    XXH128_hash_t h = XXH3_128bits(s.data(), s.size());
    return Hash128{h.low64, h.high64};
}

void put(const fs::path& p, const std::string& data) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << data;
}

class RealDisk : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_.emplace(TempDir::create(fs::temp_directory_path(), "strata-ctx-"));
        ctx_ = tmp_->path() / "ctx";
        put(ctx_ / "Dockerfile", "FROM scratch\n");
        put(ctx_ / ".dockerignore", "*.tmp\nbuild\n");
        put(ctx_ / "src/main.c", "int main;\n");
        put(ctx_ / "src/big.bin", std::string(300000, 'z'));  // several read chunks
        put(ctx_ / "x.tmp", "ignored");
        put(ctx_ / "build/out", "ignored");
        put(tmp_->path() / "outside/secret", "s");
        fs::create_symlink("../outside/secret", ctx_ / "esc");
        fs::create_symlink("src", ctx_ / "srclink");
        ASSERT_EQ(::mkfifo((ctx_ / "pipe").c_str(), 0600), 0);
        ::chmod((ctx_ / "src/main.c").c_str(), 0750);
    }
    fs::path cache_dir() const { return tmp_->path() / "store/cache/contexts/x"; }

    std::optional<TempDir> tmp_;
    fs::path ctx_;
};

TEST_F(RealDisk, SnapshotOfARealTree) {
    frontend::DockerIgnore ig = frontend::load_dockerignore(ctx_, ctx_ / "Dockerfile");
    ContextSnapshot s = hash_context(ctx_, ig, cache_dir());
    std::vector<std::string> paths;
    for (const Entry& e : s.entries())
        paths.emplace_back(e.path);
    EXPECT_EQ(paths, (std::vector<std::string>{"", ".dockerignore", "Dockerfile", "esc", "pipe",
                                               "src", "src/big.bin", "src/main.c", "srclink"}));
    EXPECT_EQ(s.root_path(), fs::canonical(ctx_).string());
    EXPECT_EQ(s.find("src/main.c")->content, xxh128("int main;\n"));
    EXPECT_EQ(s.find("src/main.c")->mode, 0750u);
    EXPECT_EQ(s.find("src/main.c")->uid, ::geteuid());
    EXPECT_EQ(s.find("src/big.bin")->content, xxh128(std::string(300000, 'z')));
    EXPECT_EQ(s.find("pipe")->type, EntryType::kFifo);  // recorded, not opened (would block)
    EXPECT_EQ(s.find("esc")->type, EntryType::kSymlink);
    EXPECT_EQ(s.find("esc")->link_target, "../outside/secret");
    EXPECT_EQ(s.stats().files_hashed, 4u);
    EXPECT_EQ(s.stats().dirs_skipped, 1u);  // build/
    EXPECT_THROW(resolve_in_context(s, "esc"), Error);
    EXPECT_EQ(resolve_in_context(s, "srclink/main.c").entry, s.find("src/main.c"));
}

TEST_F(RealDisk, StatCacheAvoidsReadsAndSeesChanges) {
    RealFilesystem rfs;
    StatCache cache;
    cache.set_racy_margin_ns(0);  // files were just written: let them be trusted soon
    SnapshotOptions o;
    o.stat_cache = &cache;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the coarse clock tick
    ContextSnapshot a = snapshot_context(rfs, ctx_.string(), o);
    EXPECT_EQ(a.stats().files_hashed, 6u);
    EXPECT_EQ(cache.size(), 6u);
    ContextSnapshot b = snapshot_context(rfs, ctx_.string(), o);
    EXPECT_EQ(b.stats().files_hashed, 0u);
    EXPECT_EQ(b.stats().cache_hits, 6u);
    EXPECT_EQ(b.root().digest, a.root().digest);

    // Same size, mtime put back: ctime still moves, so the change is seen.
    struct stat before;
    ASSERT_EQ(::stat((ctx_ / "src/main.c").c_str(), &before), 0);
    put(ctx_ / "src/main.c", "int MAIN;\n");
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, (ctx_ / "src/main.c").c_str(), times, 0), 0);
    ContextSnapshot c = snapshot_context(rfs, ctx_.string(), o);
    EXPECT_EQ(c.stats().files_hashed, 1u);
    EXPECT_EQ(c.find("src/main.c")->content, xxh128("int MAIN;\n"));
    EXPECT_NE(c.root().digest, a.root().digest);

    // Saved and loaded: a new process would see the same records.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    snapshot_context(rfs, ctx_.string(), o);
    ASSERT_TRUE(cache.save(cache_dir()));
    StatCache loaded = StatCache::load(cache_dir());
    EXPECT_EQ(loaded.load_status(), StatCache::LoadStatus::kLoaded);
    o.stat_cache = &loaded;
    ContextSnapshot d = snapshot_context(rfs, ctx_.string(), o);
    EXPECT_EQ(d.stats().files_hashed, 0u);
    EXPECT_EQ(d.root().digest, c.root().digest);
}

TEST_F(RealDisk, HashContextPersistsTheCache) {
    // End to end with the default racy margin: files must be older than it.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    frontend::DockerIgnore none;
    ContextSnapshot a = hash_context(ctx_, none, cache_dir());
    EXPECT_EQ(a.stats().files_hashed, 6u);
    EXPECT_TRUE(fs::exists(cache_dir() / StatCache::kFileName));
    auto written = fs::last_write_time(cache_dir() / StatCache::kFileName);
    ContextSnapshot b = hash_context(ctx_, none, cache_dir());
    EXPECT_EQ(b.stats().files_hashed, 0u);
    EXPECT_EQ(b.stats().cache_hits, 6u);
    EXPECT_EQ(fs::last_write_time(cache_dir() / StatCache::kFileName), written);  // not rewritten
    EXPECT_EQ(b.root().digest, a.root().digest);
    // Without a cache directory: everything read, same result.
    ContextSnapshot c = hash_context(ctx_, none, {});
    EXPECT_EQ(c.stats().files_hashed, 6u);
    EXPECT_EQ(c.root().digest, a.root().digest);
}

TEST_F(RealDisk, Errors) {
    frontend::DockerIgnore none;
    EXPECT_THROW(hash_context(tmp_->path() / "missing", none, {}), Error);
    put(tmp_->path() / "file", "x");
    EXPECT_THROW(hash_context(tmp_->path() / "file", none, {}), Error);
    if (::geteuid() != 0) {
        ::chmod((ctx_ / "src/main.c").c_str(), 0);
        try {
            hash_context(ctx_, none, {});
            ADD_FAILURE() << "expected permission denied";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("src/main.c"), std::string::npos) << e.what();
        }
        ::chmod((ctx_ / "src/main.c").c_str(), 0644);
    }
}

}  // namespace
}  // namespace strata::cache
