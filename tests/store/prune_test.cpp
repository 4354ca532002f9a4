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
    // Two tags of one repository: refused by ID too, as Docker 20.10
    // refuses it (checked side by side; its isSingleReference allows one tag
    // and digests of the same repository).
    out = remove_images(*store_, {b.config.hex.substr(0, 12)}, {});
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("image is referenced in multiple repositories"), std::string::npos)
        << out.errors[0];
    EXPECT_TRUE(store_->image(b.manifest));
    remove_images(*store_, {"b:2"}, {});
    out = remove_images(*store_, {b.config.hex.substr(0, 12)}, {});  // one tag left
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

// Containers (as the CLI reports them) hold their image, with Docker's
// conflicts and words; forced, the names go and the image stays, nameless.
TEST_F(PruneTest, RmiAndPruneKeepAnImageAContainerUses) {
    auto a = import_tar(*store_, tar_a_, "a:1");
    auto b = import_tar(*store_, tar_b_, "b:1");
    std::vector<ImageUser> a_users = {{"0123456789ab", false}};
    const ImageUsers users = [&](const ImageRecord& img) {
        return img.manifest == a.manifest ? a_users : std::vector<ImageUser>{};
    };
    const auto rmi = [&](const std::string& arg, bool force) {
        RemoveOptions o;
        o.force = force;
        o.users = users;
        return remove_images(*store_, {arg}, o);
    };
    const std::string a_id = short_id(a.config);
    struct Case {
        std::string arg;
        bool force, running;
        std::string error;  // "" when it goes through
    };
    const std::vector<Case> refused = {
        {"a:1", false, false,
         "conflict: unable to remove repository reference \"a:1\" (must force) - container "
         "0123456789ab is using its referenced image " +
             a_id},
        {"a:1", false, true,
         "conflict: unable to remove repository reference \"a:1\" (must force) - container "
         "0123456789ab is using its referenced image " +
             a_id},
        {a_id, false, false,
         "conflict: unable to delete " + a_id +
             " (must be forced) - image is being used by stopped container 0123456789ab"},
        {a_id, false, true,
         "conflict: unable to delete " + a_id +
             " (cannot be forced) - image is being used by running container 0123456789ab"},
        {a_id, true, true,
         "conflict: unable to delete " + a_id +
             " (cannot be forced) - image is being used by running container 0123456789ab"},
    };
    for (const Case& c : refused) {
        a_users[0].running = c.running;
        const auto out = rmi(c.arg, c.force);
        ASSERT_EQ(out.errors.size(), 1u) << c.arg;
        EXPECT_EQ(out.errors[0], c.error);
        EXPECT_TRUE(out.lines.empty());
        EXPECT_EQ(store_->names().names_of(a.manifest).size(), 1u);
    }
    // Forced by name: untagged, kept for the container; prune --dangling
    // keeps it too, and so its blobs.
    a_users[0].running = true;
    auto out = rmi("a:1", true);
    EXPECT_EQ(out.lines, std::vector<std::string>{"Untagged: a:1"});
    EXPECT_TRUE(store_->image(a.manifest));
    PruneOptions dangling;
    dangling.dangling_images = true;
    dangling.users = users;
    EXPECT_TRUE(prune_store(*store_, dangling).images.empty());
    for (const auto& d : a.blobs())
        EXPECT_TRUE(store_->content().has(d)) << d.str();
    // Another image is not held.
    EXPECT_TRUE(rmi("b:1", false).errors.empty());
    EXPECT_FALSE(store_->image(b.manifest));
    // The container gone, the nameless image goes with the next prune.
    a_users.clear();
    EXPECT_EQ(prune_store(*store_, dangling).images.size(), 1u);
    EXPECT_FALSE(store_->image(a.manifest));
    EXPECT_TRUE(check_store(*store_).ok());
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
