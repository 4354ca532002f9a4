// Reproducibility: with SOURCE_DATE_EPOCH the same Dockerfile and context
// give the same image digest in any store, also after every context file was
// touched; layer mtimes and history times are clamped to the epoch.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/time.h>

#include <chrono>
#include <thread>

#include "build_fixture.hpp"
#include "cache/stat_cache.hpp"
#include "executor/copy/copy_reuse.hpp"
#include "store/image_config_time.hpp"

namespace strata::buildtest {
namespace {

const char* kDockerfile =
    "FROM base:latest AS build\n"
    "WORKDIR /src\n"
    "COPY . .\n"
    "FROM base:latest\n"
    "COPY --from=build /src /app\n"
    "ADD data.tar /data/\n"
    "LABEL built=yes\n"
    "CMD [\"/app/run\"]\n";

void wait_until_not_racy();

class Reproducible : public BuildTest {
  public:
    // Twenty context files under many/, copied by one COPY and built once,
    // their stats past the racy margin (so that the layer's index has them).
    executor::BuildResult build_many() {
        for (int i = 0; i < 20; ++i)
            file("many/f" + std::to_string(i), "content " + std::to_string(i));
        dockerfile("FROM base:latest\nCOPY many /many\n");
        wait_until_not_racy();
        return build();
    }
    // The diffID of the last layer when this context is built in a store
    // that never saw it.
    store::Digest last_diff_id_in_a_fresh_store() {
        BuildEnv fresh;
        fresh.SetUp();
        fs::remove_all(fresh.ctx());
        EXPECT_EQ(imagetest::shell("cp -a '" + ctx().string() + "' '" + fresh.ctx().string() + "'"),
                  0);
        return fresh.build(fresh.request()).image.layers.back().diff_id;
    }
    void fill_context() {
        file("run", "#!/bin/sh\n", 0755);
        file("lib/a.txt", "a\n");
        file("lib/deep/b.txt", "b\n");
        file("data.tar", TarBuilder().file("d.txt", "d\n").finish());
        fs::create_symlink("lib/a.txt", ctx() / "link");
        dockerfile(kDockerfile);
    }
    void touch_everything(time_t when) {
        for (auto it = fs::recursive_directory_iterator(ctx());
             it != fs::recursive_directory_iterator(); ++it) {
            struct timeval tv[2] = {{when, 0}, {when, 0}};
            ASSERT_EQ(::lutimes(it->path().c_str(), tv), 0) << it->path();
        }
    }
};

TEST_F(Reproducible, SameDigestInAnotherStoreAfterTouchingEveryFile) {
    fill_context();
    executor::BuildRequest req = request();
    req.source_date_epoch = 1700000000;
    const auto first = build(req);

    // Another store, another time: the files touched, the cache empty.
    touch_everything(1800000000);
    BuildEnv other;
    other.SetUp();
    fs::remove_all(other.ctx());
    ASSERT_EQ(imagetest::shell("cp -a '" + ctx().string() + "' '" + other.ctx().string() + "'"), 0);
    executor::BuildRequest req2 = other.request();
    req2.source_date_epoch = 1700000000;
    const auto second = other.build(req2);
    EXPECT_EQ(outcomes(second), "BBBB") << "nothing came from a cache";
    EXPECT_EQ(second.image.manifest, first.image.manifest);
    EXPECT_EQ(second.image.config, first.image.config);
    for (size_t i = 0; i < first.image.layers.size(); ++i)
        EXPECT_EQ(second.image.layers[i].digest, first.image.layers[i].digest) << i;
}

TEST_F(Reproducible, TimesAreClampedToTheEpoch) {
    fill_context();
    touch_everything(1900000000);  // later than the epoch
    executor::BuildRequest req = request();
    req.source_date_epoch = 1700000000;
    const auto r = build(req);
    const auto cfg = config(r);
    EXPECT_EQ(cfg.created, "2023-11-14T22:13:20Z");
    // The base image's history keeps its own times; every new entry has the epoch.
    const size_t base = config(r).history.size() - 6;
    for (size_t i = base; i < cfg.history.size(); ++i)
        EXPECT_EQ(cfg.history[i].created, "2023-11-14T22:13:20Z") << cfg.history[i].created_by;
    // Every entry of every new layer has an mtime no later than the epoch.
    for (size_t i = 1; i < r.image.layers.size(); ++i) {
        UniqueFd fd = store().content().open(r.image.layers[i].digest);
        std::string bytes;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(fd.get(), buf, sizeof buf)) > 0)
            bytes.append(buf, static_cast<size_t>(n));
        struct archive* a = archive_read_new();
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
        ASSERT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
        struct archive_entry* e = nullptr;
        int entries = 0;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            EXPECT_LE(archive_entry_mtime(e), 1700000000) << archive_entry_pathname(e);
            ++entries;
        }
        archive_read_free(a);
        EXPECT_GT(entries, 0) << "layer " << i;
    }
}

TEST_F(Reproducible, WithoutAnEpochARebuildFromTheCacheIsTheSameImage) {
    fill_context();
    const auto first = build();
    touch_everything(1900000000);
    const auto second = build();
    EXPECT_EQ(outcomes(second), "CCCC");
    EXPECT_EQ(second.image.manifest, first.image.manifest);
}

}  // namespace
}  // namespace strata::buildtest

namespace strata::buildtest {
namespace {

// A rebuild after an edit links the unchanged files from the last build's
// layer instead of copying them; the layer it makes is the same as one
// built from nothing. (ADD: it makes its layer directory. A COPY writes its
// tar straight from the sources, below.)
TEST_F(Reproducible, UnchangedFilesAreLinkedFromTheLastLayerWithTheSameResult) {
    for (int i = 0; i < 50; ++i)
        file("many/f" + std::to_string(i), "content " + std::to_string(i));
    file("many/special", "setuid", 04755);
    dockerfile("FROM base:latest\nADD many /many\n");
    build();
    file("many/f7", "changed");
    const auto edited = build();
    const auto& layer = edited.image.layers.back();
    const fs::path dir = store().layers().path(layer.diff_id);
    struct stat st {};
    ASSERT_EQ(::stat((dir / "many/f1").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 2u) << "linked from the previous layer";
    ASSERT_EQ(::stat((dir / "many/f7").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u) << "changed: a copy of its own";

    // The same context built in a store that never saw it: the same layer.
    EXPECT_EQ(last_diff_id_in_a_fresh_store(), layer.diff_id);
    EXPECT_EQ(rootfs(edited).at("/many/f7").data, "changed");
    EXPECT_EQ(rootfs(edited).at("/many/special").mode, 04755u);
}

// A COPY's layer is a tar made straight from the context: its directory is
// unpacked from the blob only when something needs it, and then holds the
// same files; the same context in another store gives the same layer.
TEST_F(Reproducible, ACopyLayerIsUnpackedWhenNeededAndTheSameAsAnywhere) {
    for (int i = 0; i < 50; ++i)
        file("many/f" + std::to_string(i), "content " + std::to_string(i));
    file("many/special", "setuid", 04755);
    dockerfile("FROM base:latest\nCOPY many /many\n");
    const auto built = build();
    const auto& layer = built.image.layers.back();
    EXPECT_FALSE(store().layers().has(layer.diff_id)) << "unpacked though nothing needed it";
    const fs::path dir = store().layers().ensure_unpacked(layer.digest, layer.diff_id);
    struct stat st {};
    ASSERT_EQ(::stat((dir / "many/special").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 04755u);
    EXPECT_EQ(imagetest::read_file(dir / "many/f7"), "content 7");

    EXPECT_EQ(last_diff_id_in_a_fresh_store(), layer.diff_id);
}

// Files a snapshot may trust by their stat: older than the racy margin.
void wait_until_not_racy() {
    std::this_thread::sleep_for(
        std::chrono::nanoseconds(cache::StatCache::kRacyMarginNs + 100'000'000));
}

std::optional<executor::CopyReuseIndex> copy_index(const fs::path& root,
                                                   const store::Digest& diff_id) {
    return executor::CopyReuseIndex::load(root / "cache" / "copy-index", diff_id);
}

// A COPY rebuilt after an edit (here with --no-cache) reads the files that
// did not change from its last layer's blob (executor/copy/copy_reuse.hpp);
// the layer is the same as one built from nothing, also for a file
// rewritten with the same size and its old mtime put back.
TEST_F(Reproducible, ACopyRebuiltAfterAnEditIsTheSameAsAnywhere) {
    for (int i = 0; i < 50; ++i)
        file("many/f" + std::to_string(i), "content " + std::to_string(i));
    file("many/special", "setuid", 04755);
    file("many/big", std::string(3 << 20, 'b'));  // read in several pieces
    file("many/empty", "");
    dockerfile("FROM base:latest\nCOPY many /many\n");
    wait_until_not_racy();
    const auto first = build();
    const auto index = copy_index(root(), first.image.layers.back().diff_id);
    ASSERT_TRUE(index) << "the COPY's layer has an index";
    EXPECT_EQ(index->size(), 53u);

    file("many/f7", "changed");
    const struct stat before = [&] {
        struct stat st {};
        EXPECT_EQ(::stat((ctx() / "many/f8").c_str(), &st), 0);
        return st;
    }();
    file("many/f8", "CONTENT 8");  // same size
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, (ctx() / "many/f8").c_str(), times, 0), 0);
    executor::BuildRequest again = request();
    again.plan.no_cache = true;
    const auto edited = build(again);
    const auto& layer = edited.image.layers.back();
    EXPECT_NE(layer.diff_id, first.image.layers.back().diff_id);
    EXPECT_EQ(last_diff_id_in_a_fresh_store(), layer.diff_id);
    const auto tree = rootfs(edited);
    EXPECT_EQ(tree.at("/many/f7").data, "changed");
    EXPECT_EQ(tree.at("/many/f8").data, "CONTENT 8");
    EXPECT_EQ(tree.at("/many/f9").data, "content 9");
    EXPECT_EQ(tree.at("/many/big").data, std::string(3 << 20, 'b'));
    EXPECT_EQ(tree.at("/many/special").mode, 04755u);
    // The new layer's index: the two rewritten files are too new to be in it.
    const auto next = copy_index(root(), layer.diff_id);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->size(), 51u);
    EXPECT_EQ(next->find("many/f7"), nullptr);
    EXPECT_NE(next->find("many/f9"), nullptr);
}

// The unchanged files' bytes really come from the last layer's blob: bytes
// planted there show in the next layer (a store is trusted like the layers
// it holds; `strata store check` is what finds a rotten blob). A range
// whose header does not match is read from the context instead.
TEST_F(Reproducible, ACopyTakesUnchangedFilesFromItsLastLayersBlob) {
    const auto first = build_many();
    const auto& old_layer = first.image.layers.back();
    const auto index = copy_index(root(), old_layer.diff_id);
    ASSERT_TRUE(index);
    const auto* f1 = index->find("many/f1");
    const auto* f2 = index->find("many/f2");
    ASSERT_TRUE(f1 && f2);
    {
        UniqueFd blob(
            ::open(store().content().blob_path(old_layer.digest).c_str(), O_WRONLY | O_CLOEXEC));
        ASSERT_TRUE(blob);
        ASSERT_EQ(::pwrite(blob.get(), "PLANTED!!", 9, static_cast<off_t>(f1->offset)), 9);
        // f2's too, and its header, one block before: the checksum fails.
        ASSERT_EQ(::pwrite(blob.get(), "PLANTED!!", 9, static_cast<off_t>(f2->offset)), 9);
        ASSERT_EQ(::pwrite(blob.get(), "X", 1, static_cast<off_t>(f2->offset - 512)), 1);
    }
    file("many/f7", "changed");
    const auto edited = build();
    const auto tree = rootfs(edited);
    EXPECT_EQ(tree.at("/many/f1").data, "PLANTED!!") << "read from the last layer's blob";
    EXPECT_EQ(tree.at("/many/f2").data, "content 2") << "read from the context";
    EXPECT_EQ(tree.at("/many/f7").data, "changed");
}

// The last layer's blob removed behind the index's back (a prune that
// kept the index, a store repaired by hand): every file is read from the
// context, and the layer is the same as anywhere.
TEST_F(Reproducible, ACopyWhoseLastBlobIsGoneReadsTheContext) {
    const auto first = build_many();
    const auto& old_layer = first.image.layers.back();
    ASSERT_TRUE(copy_index(root(), old_layer.diff_id));
    fs::remove(store().content().blob_path(old_layer.digest));
    file("many/f7", "changed");
    const auto edited = build();
    EXPECT_EQ(last_diff_id_in_a_fresh_store(), edited.image.layers.back().diff_id);
    EXPECT_EQ(rootfs(edited).at("/many/f1").data, "content 1");
}

}  // namespace
}  // namespace strata::buildtest
