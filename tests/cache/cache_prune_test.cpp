// Which build cache `builder prune` removes: BuildKit's choice as a table
// (dangling vs all, a keep duration, keep bytes by least recent use), then
// the participant on a real index — last use from a hit, from a summary
// that names the step and from a cache mount's source, a layer an image
// holds kept without `all`.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "base/temp_dir.hpp"
#include "cache/build_summary.hpp"
#include "cache/cache_index.hpp"
#include "cache/cache_prune.hpp"
#include "store/content_store.hpp"

namespace strata::cache {
namespace {

namespace fs = std::filesystem;

CacheRecord rec(std::string id, int64_t used, uint64_t size, bool shared = false,
                bool internal = false) {
    CacheRecord r;
    r.id = std::move(id);
    r.last_used = used;
    r.size = size;
    r.shared = shared;
    r.internal = internal;
    return r;
}

std::vector<std::string> chosen(const std::vector<CacheRecord>& records,
                                const CachePrunePolicy& policy) {
    std::vector<std::string> out;
    for (size_t i : choose_prunable(records, policy))
        out.push_back(records[i].id);
    return out;
}

TEST(CachePrunePolicy, BuildKitsChoice) {
    const std::vector<CacheRecord> records = {
        rec("new", 9500, 300),
        rec("old", 1000, 100),
        rec("mid", 5000, 200),
        rec("shared", 2000, 400, /*shared=*/true),
        rec("memo", 3000, 10, false, /*internal=*/true),
    };
    struct Row {
        const char* what;
        CachePrunePolicy policy;
        std::vector<std::string> want;
    };
    const Row rows[] = {
        {"all: everything, least recent first",
         {true, 0, 0, 10000},
         {"old", "shared", "memo", "mid", "new"}},
        {"dangling: no shared, no internal", {false, 0, 0, 10000}, {"old", "mid", "new"}},
        {"until=1h keeps what was used in the last hour", {false, 3600, 0, 10000}, {"old", "mid"}},
        {"keep 350 of 600: the oldest go until under it", {false, 0, 350, 10000}, {"old", "mid"}},
        {"keep 600 of 600: under is strict", {false, 0, 600, 10000}, {"old"}},
        {"keep 601 of 600: nothing", {false, 0, 601, 10000}, {}},
        {"all counts shared and internal: 1010", {true, 0, 700, 10000}, {"old", "shared"}},
        {"until and keep together", {false, 3600, 100, 10000}, {"old", "mid"}},
        {"until longer than any age", {true, 100000, 0, 10000}, {}},
    };
    for (const Row& row : rows)
        EXPECT_EQ(chosen(records, row.policy), row.want) << row.what;
}

void set_mtime(const fs::path& p, int64_t when) {
    const timespec t[2] = {{when, 0}, {when, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), t, 0), 0) << p;
}

int64_t mtime(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mtim.tv_sec;
}

// A cache mount source with fixed records, recording what it was told.
class FakeMounts final : public CacheRecordSource {
  public:
    void prune_leftovers(store::PruneReport&) override { ++leftovers; }
    std::vector<CacheRecord> records() const override { return {rec("mount:m", 1000, 5)}; }
    void remove(const CacheRecord& r, store::PruneReport& report) override {
        removed.push_back(r.id);
        report.other.emplace_back("cache mount m", r.size);
    }
    int leftovers = 0;
    std::vector<std::string> removed;
};

class CachePruneTest : public ::testing::Test {
  protected:
    TempDir dir_ = TempDir::create(fs::temp_directory_path(), "strata-cache-prune-");
    store::ContentStore blobs_{dir_.path()};
    CacheIndex index_{dir_.path() / "cache"};

    CacheEntry put(const std::string& name, int64_t used, bool layer = true) {
        CacheEntry e;
        e.key = store::sha256_of(name).str();
        e.created = "2024-01-01T00:00:00Z";
        e.description = name;
        if (layer) {
            store::LayerRecord l;
            l.digest = blobs_.put("layer of " + name);
            l.diff_id = store::sha256_of("tar of " + name);
            l.size = 9;
            l.media_type = "application/vnd.oci.image.layer.v1.tar";
            e.layer = l;
        }
        index_.put(e);
        set_mtime(index_.entry_path(e.key), used);
        return e;
    }
    std::vector<std::string> left() {
        std::vector<std::string> out;
        for (const CacheEntry& e : index_.list())
            out.push_back(e.description);
        std::sort(out.begin(), out.end());
        return out;
    }
};

TEST_F(CachePruneTest, AHitIsTheEntrysLastUse) {
    const CacheEntry e = put("step", 1000);
    ASSERT_EQ(mtime(index_.entry_path(e.key)), 1000);
    ASSERT_TRUE(index_.get(e.key));
    EXPECT_GT(mtime(index_.entry_path(e.key)), 1000) << "get() touches the entry";
}

TEST_F(CachePruneTest, UntilKeepsWhatBuildsUsedLately) {
    const int64_t now = ::time(nullptr);
    put("old", now - 7200);
    const CacheEntry via_summary = put("answered by a summary", now - 7200);
    put("recent", now - 60);
    put("config only", now - 7200, /*layer=*/false);
    const CacheEntry imaged = put("an image's layer", now - 7200);
    BuildSummary sum;
    sum.inputs = "sha256:inputs";
    sum.image = "sha256:image";
    SummaryStep step;
    step.key = via_summary.key;
    sum.steps.push_back(step);
    BuildSummaries summaries(index_.dir());
    summaries.save("b1", sum);
    summaries.touch("b1");

    store::GcRoots image_roots;
    image_roots.blobs.insert(imaged.layer->digest);
    FakeMounts mounts;
    CachePrunePolicy policy;
    policy.all = false;
    policy.keep_duration_s = 3600;
    policy.now = now;
    CacheGcParticipant gc(index_, blobs_, policy, {&mounts});
    store::PruneReport report;
    gc.prune(image_roots, report);
    EXPECT_EQ(left(),
              (std::vector<std::string>{"an image's layer", "answered by a summary", "recent"}));
    EXPECT_EQ(mounts.removed, (std::vector<std::string>{"mount:m"}));
    EXPECT_EQ(mounts.leftovers, 1);
    store::GcRoots roots;
    gc.add_roots(roots);
    EXPECT_EQ(roots.blobs.size(), 3u) << "the entries left keep their blobs";
}

TEST_F(CachePruneTest, KeepStorageWeighsEntriesAndMountsInOneOrder) {
    const int64_t now = ::time(nullptr);
    put("a", now - 300);
    put("b", now - 200);
    put("c", now - 100);
    FakeMounts mounts;  // used at 1000: the least recent of all
    CacheGcParticipant probe(index_, blobs_);
    uint64_t total = 5;
    for (const CacheRecord& r : probe.records({}))
        total += r.size;
    CachePrunePolicy policy;
    policy.all = false;
    policy.keep_bytes = total - 4;  // the mount alone brings it under
    policy.now = now;
    CacheGcParticipant gc(index_, blobs_, policy, {&mounts});
    store::PruneReport report;
    gc.prune({}, report);
    EXPECT_EQ(mounts.removed, (std::vector<std::string>{"mount:m"}));
    EXPECT_EQ(left(), (std::vector<std::string>{"a", "b", "c"}));

    policy.keep_bytes = total - 5;  // not under, only equal: the oldest entry goes too
    CacheGcParticipant gc2(index_, blobs_, policy, {&mounts});
    gc2.prune({}, report);
    EXPECT_EQ(left(), (std::vector<std::string>{"b", "c"}));
}

}  // namespace
}  // namespace strata::cache
