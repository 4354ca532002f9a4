// prune and rmi: what goes, what stays, and the GC participant hook.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/image_archive_fixture.hpp"
#include "store/image_store_remove.hpp"
#include "store/prune.hpp"
#include "store/store_check.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

class PruneTest : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = std::make_unique<ImageStore>(dir_.path() / "root");
        tar_a_ = make_busybox_rootfs(dir_.path() / "a", "a");
        tar_b_ = make_busybox_rootfs(dir_.path() / "b", "b");
    }
    TempDir dir_ = scratch();
    std::unique_ptr<ImageStore> store_;
    fs::path tar_a_, tar_b_;
};

TEST_F(PruneTest, FreesOnlyWhatNoImageUses) {
    auto a = import_tar(*store_, tar_a_, "a:1");
    // Garbage: a blob nobody references, an unpacked layer nobody uses, staging leftovers.
    auto stray = store_->content().put("stray blob");
    std::string fake_layer = std::string(64, '7');
    fs::create_directories(store_->root() / "layers" / fake_layer / "etc");
    write_file(store_->root() / "layers" / fake_layer / "etc" / "f", "12345");
    fs::create_directories(store_->tmp_dir() / "load-crashed" / "files");
    write_file(store_->tmp_dir() / "load-crashed" / "files" / "x", "partial");
    write_file(store_->images_dir() / ".rec.json.tmpQWE", "partial");
    // A used unpacked layer stays.
    store_->layers().ensure_unpacked(a.layers[0].digest, a.layers[0].diff_id);

    auto report = prune_store(*store_, {});
    ASSERT_EQ(report.blobs.size(), 1u);
    EXPECT_EQ(report.blobs[0].first, stray);
    ASSERT_EQ(report.layers.size(), 1u);
    EXPECT_EQ(report.layers[0].first.hex, fake_layer);
    EXPECT_EQ(report.layers[0].second, 5u);
    EXPECT_EQ(report.other.size(), 2u);
    EXPECT_EQ(report.freed, std::string("stray blob").size() + 5 + 7 + 7);
    EXPECT_FALSE(store_->content().has(stray));
    for (const auto& d : a.blobs())
        EXPECT_TRUE(store_->content().has(d));
    EXPECT_TRUE(store_->layers().has(a.layers[0].diff_id));
    EXPECT_TRUE(tmp_is_empty(store_->root()));
    auto check = check_store(*store_);
    EXPECT_TRUE(check.ok());
    EXPECT_TRUE(check.notes.empty()) << check.notes[0];
    // Nothing left to free.
    EXPECT_EQ(prune_store(*store_, {}).freed, 0u);
}

TEST_F(PruneTest, DanglingImagesOnlyWhenAsked) {
    import_tar(*store_, tar_a_, "a:1");
    auto b = import_tar(*store_, tar_b_, "");  // unnamed
    EXPECT_EQ(prune_store(*store_, {}).images.size(), 0u);
    EXPECT_TRUE(store_->image(b.manifest));
    PruneOptions opts;
    opts.dangling_images = true;
    auto report = prune_store(*store_, opts);
    ASSERT_EQ(report.images.size(), 1u);
    EXPECT_EQ(report.images[0].manifest, b.manifest);
    EXPECT_FALSE(store_->image(b.manifest));
    EXPECT_FALSE(store_->content().has(b.layers[0].digest));
    EXPECT_TRUE(check_store(*store_).ok());
}

// Stands in for the build cache: keeps one blob alive and drops an entry.
class FakeCache : public GcParticipant {
  public:
    explicit FakeCache(Digest keep) : keep_(std::move(keep)) {}
    std::string name() const override { return "fake cache"; }
    void prune(const GcRoots& image_roots, PruneReport& report) override {
        saw_image_roots = image_roots.blobs.size();
        report.other.emplace_back("cache/entry-1", 10);
        report.freed += 10;
    }
    void add_roots(GcRoots& roots) const override { roots.blobs.insert(keep_); }
    size_t saw_image_roots = 0;

  private:
    Digest keep_;
};

TEST_F(PruneTest, ParticipantsKeepTheirBlobsAlive) {
    auto a = import_tar(*store_, tar_a_, "a:1");
    auto cached = store_->content().put("a cached result");
    auto garbage = store_->content().put("garbage");
    FakeCache cache(cached);
    PruneOptions opts;
    opts.participants = {&cache};
    auto report = prune_store(*store_, opts);
    EXPECT_EQ(cache.saw_image_roots, a.blobs().size());
    EXPECT_TRUE(store_->content().has(cached));
    EXPECT_FALSE(store_->content().has(garbage));
    ASSERT_EQ(report.other.size(), 1u);
    EXPECT_EQ(report.other[0].first, "cache/entry-1");
}

TEST_F(PruneTest, RmiByNameUntagsThenDeletesWithTheLastName) {
    auto a = import_tar(*store_, tar_a_, "a:1");
    {
        auto txn = store_->begin();
        txn.tag(Reference::parse("a:2"), a.manifest);
        txn.commit();
    }
    auto out = remove_images(*store_, {"a:1"}, {});
    EXPECT_EQ(out.lines, std::vector<std::string>{"Untagged: a:1"});
    EXPECT_TRUE(store_->image(a.manifest));
    out = remove_images(*store_, {"a:2"}, {});
    EXPECT_EQ(out.lines, (std::vector<std::string>{"Untagged: a:2", "Deleted: " + a.config.str()}));
    EXPECT_FALSE(store_->image(a.manifest));
    for (const auto& d : a.blobs())
        EXPECT_FALSE(store_->content().has(d)) << d.str();
    EXPECT_GT(out.freed, 0u);
    EXPECT_TRUE(check_store(*store_).ok());
}

TEST_F(PruneTest, RmiByIdRefusesSeveralRepositoriesUnlessForced) {
    auto a = import_tar(*store_, tar_a_, "a:1");
    auto b = import_tar(*store_, tar_b_, "b:1");
    {
        auto txn = store_->begin();
        txn.tag(Reference::parse("other/repo:x"), a.manifest);
        txn.tag(Reference::parse("b:2"), b.manifest);
        txn.commit();
    }
    auto out = remove_images(*store_, {a.config.hex.substr(0, 12)}, {});
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("must be forced"), std::string::npos) << out.errors[0];
    EXPECT_TRUE(store_->image(a.manifest));
    // One repository, several tags: removed by ID without -f, like Docker.
    out = remove_images(*store_, {b.config.hex.substr(0, 12)}, {});
    EXPECT_TRUE(out.errors.empty());
    EXPECT_FALSE(store_->image(b.manifest));
    RemoveOptions force;
    force.force = true;
    out = remove_images(*store_, {a.config.str(), "nothere"}, force);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("No such image: nothere"), std::string::npos);
    EXPECT_FALSE(store_->image(a.manifest));
    EXPECT_EQ(store_->names().size(), 0u);
    EXPECT_TRUE(store_->content().list().empty());
}

TEST_F(PruneTest, RmiKeepsBlobsSharedWithAnotherImage) {
    auto a = import_tar(*store_, tar_a_, "a:1");
    auto a2 = import_tar(*store_, tar_a_, "a2:1", 1600000000);  // same layer, other config
    ASSERT_EQ(a.layers[0].digest, a2.layers[0].digest);
    ASSERT_NE(a.config, a2.config);
    remove_images(*store_, {"a:1"}, {});
    EXPECT_TRUE(store_->content().has(a.layers[0].digest));
    EXPECT_FALSE(store_->content().has(a.config));
    EXPECT_TRUE(check_store(*store_).ok());
}

}  // namespace
}  // namespace strata::store
