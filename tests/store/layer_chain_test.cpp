// Chains that repeat a layer: LayerStore::ensure_chain gives every position
// its own directory (the kernel refuses one directory twice among an
// overlay's lower layers), the repeats as copies whose files are hard links
// into the layer (link_layer_tree); prune, rmi and store check know them.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include "base/error.hpp"
#include "store/image_store.hpp"
#include "store/layer_copy.hpp"
#include "store/layer_fixture.hpp"
#include "store/layer_store.hpp"
#include "store/layer_writer.hpp"
#include "store/prune.hpp"
#include "store/store_check.hpp"
#include "store/whiteout.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

struct Inode {
    dev_t dev;
    ino_t ino;
    bool operator==(const Inode&) const = default;
};

Inode inode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return {st.st_dev, st.st_ino};
}

class LayerChainTest : public ::testing::Test {
  protected:
    void SetUp() override {
        work_.emplace(scratch("strata-chain-test-"));
        cs_.emplace(root());
    }
    fs::path root() const { return work_->path() / "store"; }

    // A layer blob holding `files` (name → content) in the content store.
    ChainLayer layer(const std::map<std::string, std::string>& files) {
        const fs::path src = work_->path() / ("src" + std::to_string(++n_));
        fs::create_directories(src);
        for (const auto& [name, content] : files)
            write_file(src / name, content);
        auto blob = write_layer(src, *cs_, {});
        return {blob.digest, blob.diff_id};
    }

    std::optional<TempDir> work_;
    std::optional<ContentStore> cs_;
    int n_ = 0;
};

TEST_F(LayerChainTest, EveryPositionGetsItsOwnDirectory) {
    const ChainLayer a = layer({{"a", "alpha"}, {"d/x", "x"}});
    const ChainLayer b = layer({{"b", "beta"}});
    LayerStore layers(root(), *cs_);
    // Adjacent, separated, first and last, three times.
    const std::vector<ChainLayer> chain = {a, a, b, a, b};
    const auto dirs = layers.ensure_chain(chain);
    ASSERT_EQ(dirs.size(), 5u);
    EXPECT_EQ(dirs[0], layers.path(a.diff_id));
    EXPECT_EQ(dirs[1], root() / "layers" / (a.diff_id.hex + ".2"));
    EXPECT_EQ(dirs[2], layers.path(b.diff_id));
    EXPECT_EQ(dirs[3], root() / "layers" / (a.diff_id.hex + ".3"));
    EXPECT_EQ(dirs[4], root() / "layers" / (b.diff_id.hex + ".2"));
    std::set<std::pair<dev_t, ino_t>> inodes;
    for (const auto& d : dirs) {
        const Inode i = inode_of(d);
        inodes.insert({i.dev, i.ino});
        EXPECT_EQ(d.parent_path(), root() / "layers") << "one common directory for lowerdirs";
    }
    EXPECT_EQ(inodes.size(), 5u) << "five distinct directory inodes";
    EXPECT_EQ(describe_tree(dirs[0]), describe_tree(dirs[1]));
    EXPECT_EQ(describe_tree(dirs[0]), describe_tree(dirs[3]));
    EXPECT_EQ(inode_of(dirs[0] / "d" / "x"), inode_of(dirs[3] / "d" / "x")) << "files are shared";
    EXPECT_EQ(layers.path(a.diff_id, 1), dirs[0]);
    EXPECT_EQ(layers.path(a.diff_id, 3), dirs[3]);

    // Copies are not layers; they are listed apart.
    EXPECT_EQ(layers.list().size(), 2u);
    const std::vector<LayerCopy> want = [&] {
        std::vector<LayerCopy> w = {{a.diff_id, 2}, {a.diff_id, 3}, {b.diff_id, 2}};
        std::sort(w.begin(), w.end());
        return w;
    }();
    EXPECT_EQ(layers.list_copies(), want);

    // Asking again makes nothing new; another process sees them as they are.
    EXPECT_EQ(layers.ensure_chain(chain), dirs);
    LayerStore other(root(), *cs_);
    EXPECT_EQ(other.ensure_chain(chain), dirs);
    EXPECT_EQ(inode_of(dirs[1]), inode_of(other.ensure_chain({a, a})[1]));
    EXPECT_TRUE(fs::is_empty(cs_->tmp_dir()));

    // A chain without repeats is the layers themselves, as before.
    EXPECT_EQ(layers.ensure_chain({b, a}),
              (std::vector<fs::path>{layers.path(b.diff_id), layers.path(a.diff_id)}));

    // Removing a layer removes its copies.
    layers.remove(a.diff_id);
    EXPECT_FALSE(fs::exists(dirs[0]));
    EXPECT_FALSE(fs::exists(dirs[1]));
    EXPECT_FALSE(fs::exists(dirs[3]));
    EXPECT_EQ(layers.list_copies(), (std::vector<LayerCopy>{{b.diff_id, 2}}));
    EXPECT_EQ(layers.ensure_chain({a, a})[1], dirs[1]) << "made again on need";
}

TEST_F(LayerChainTest, TheKernelMountsTheChain) {
    if (!is_root()) GTEST_SKIP() << "mounting an overlay needs root";
    const ChainLayer a = layer({{"a", "alpha"}});
    const ChainLayer b = layer({{"b", "beta"}});
    LayerStore layers(root(), *cs_);
    const auto dirs = layers.ensure_chain({a, b, a, a});
    // In a child with its own mount namespace, so nothing can leak.
    const fs::path target = work_->path() / "mnt";
    fs::create_directories(target);
    auto mount_in_child = [&](const std::vector<fs::path>& lowers) {
        std::string opts = "lowerdir=";
        for (size_t i = lowers.size(); i-- > 0;)
            opts += lowers[i].string() + (i ? ":" : "");
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::unshare(CLONE_NEWNS) != 0) ::_exit(2);
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(2);
            if (::mount("overlay", target.c_str(), "overlay", 0, opts.c_str()) != 0)
                ::_exit(errno == ELOOP ? 3 : 4);
            ::_exit(fs::exists(target / "a") && fs::exists(target / "b") ? 0 : 5);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    EXPECT_EQ(mount_in_child(dirs), 0) << "every position is its own directory";
    EXPECT_EQ(mount_in_child({dirs[0], dirs[1], dirs[0]}), 3)
        << "the kernel refuses a directory twice (ELOOP): what the copies avoid";
}

TEST_F(LayerChainTest, ACopyKeepsOwnersModesXattrsAndWhiteouts) {
    if (!is_root()) GTEST_SKIP() << "owners, whiteouts and trusted xattrs need root";
    auto tar = TarBuilder()
                   .dir("o", 0750)
                   .file("o/.wh..wh..opq", "")
                   .file("o/f", "f", 04755)
                   .file(".wh.gone", "")
                   .symlink("l", "o/f")
                   .finish();
    const auto digest = cs_->put(tar);
    const ChainLayer w{digest, sha256_of(tar)};
    LayerStore layers(root(), *cs_);
    const fs::path first = layers.ensure_unpacked(w.blob, w.diff_id);
    ASSERT_EQ(::lchown((first / "o").c_str(), 12, 34), 0);
    ASSERT_EQ(::chmod((first / "o").c_str(), 02750), 0);
    set_mtime(first / "o", 1600000000);
    const auto dirs = layers.ensure_chain({w, w});
    ASSERT_EQ(dirs[0], first);
    EXPECT_EQ(describe_tree(dirs[0]), describe_tree(dirs[1]));
    struct stat st {};
    ASSERT_EQ(::lstat((dirs[1] / "o").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 02750u) << "set-id bits survive the chown";
    EXPECT_EQ(st.st_uid, 12u);
    EXPECT_EQ(st.st_gid, 34u);
    char v[4] = {};
    EXPECT_EQ(::lgetxattr((dirs[1] / "o").c_str(), kTrustedOpaqueXattr, v, sizeof v), 1);
    ASSERT_EQ(::lstat((dirs[1] / "gone").c_str(), &st), 0);
    EXPECT_TRUE(is_overlay_whiteout(st));
    struct stat a {
    }, b{};
    ASSERT_EQ(::lstat(dirs[0].c_str(), &a), 0);
    ASSERT_EQ(::lstat(dirs[1].c_str(), &b), 0);
    EXPECT_EQ(a.st_mode, b.st_mode);
    EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec) << "directory times kept";
    ASSERT_EQ(::lstat((dirs[0] / "o").c_str(), &a), 0);
    ASSERT_EQ(::lstat((dirs[1] / "o").c_str(), &b), 0);
    EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
    EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
    EXPECT_EQ(compare_layer_tree(dirs[0], dirs[1]), "");
}

TEST_F(LayerChainTest, AFileAtTheLinkLimitIsCopied) {
    const fs::path from = work_->path() / "from";
    write_file(from / "d" / "many", "linked a lot", 0640);
    write_file(from / "other", "o");
    // Bring d/many to the filesystem's link limit.
    const fs::path links = work_->path() / "links";
    fs::create_directories(links);
    int made = 0;
    for (;; ++made) {
        if (::link((from / "d" / "many").c_str(), (links / std::to_string(made)).c_str()) != 0) {
            if (errno == EMLINK) break;
            FAIL() << "link: " << std::strerror(errno);
        }
        if (made > 200000) GTEST_SKIP() << "no link limit on this filesystem";
    }
    const fs::path to = work_->path() / "to";
    fs::create_directories(to);
    const LinkTreeStats s = link_layer_tree(from, to, is_root());
    EXPECT_EQ(s.copied, 1u);
    EXPECT_EQ(s.linked, 1u);
    EXPECT_EQ(s.dirs, 2u);
    EXPECT_EQ(read_file(to / "d" / "many"), "linked a lot");
    EXPECT_NE(inode_of(to / "d" / "many"), inode_of(from / "d" / "many"));
    EXPECT_EQ(inode_of(to / "other"), inode_of(from / "other"));
    EXPECT_EQ(compare_layer_tree(from, to), "");
    EXPECT_EQ(describe_tree(from, true).at("d/many").substr(0, 12),
              describe_tree(to, true).at("d/many").substr(0, 12))
        << "same mode and owner";
    remove_tree(links);
}

TEST_F(LayerChainTest, CompareFindsADamagedCopy) {
    const fs::path from = work_->path() / "from";
    write_file(from / "d" / "f", "f");
    write_file(from / "g", "g");
    const fs::path to = work_->path() / "to";
    fs::create_directories(to);
    link_layer_tree(from, to, is_root());
    EXPECT_EQ(compare_layer_tree(from, to), "");
    fs::remove(to / "d" / "f");
    EXPECT_EQ(compare_layer_tree(from, to), "/d/f is missing");
    write_file(to / "d" / "f", "f");
    fs::permissions(to / "d" / "f", fs::perms::owner_all);
    EXPECT_EQ(compare_layer_tree(from, to), "/d/f has another mode or owner");
    fs::remove(to / "d" / "f");
    fs::create_hard_link(from / "d" / "f", to / "d" / "f");
    write_file(to / "extra", "");
    EXPECT_EQ(compare_layer_tree(from, to), "/extra is extra");
}

TEST_F(LayerChainTest, ACopyFromAnotherBootIsMadeAgain) {
    const ChainLayer a = layer({{"a", "alpha"}, {"d/b", "beta"}});
    LayerStore layers(root(), *cs_);
    const auto dirs = layers.ensure_chain({a, a});
    write_file(root() / "layers" / ".boot", "00000000-0000-0000-0000-000000000000");
    fs::remove(dirs[1] / "d" / "b");  // torn by the crash
    LayerStore after_reboot(root(), *cs_);
    EXPECT_EQ(after_reboot.ensure_chain({a, a}), dirs);
    EXPECT_EQ(describe_tree(dirs[0]), describe_tree(dirs[1]));
    EXPECT_EQ(layers.list_copies().size(), 1u) << "the stamp is not a copy";
    EXPECT_EQ(layers.trash_count(), 1u) << "the torn copy went to the trash with its layer";
    layers.remove(a.diff_id);
    EXPECT_TRUE(layer_entries(root()).empty());
}

TEST_F(LayerChainTest, ProcessesMakingTheSameCopyAtOnce) {
    const ChainLayer a = layer({{"a", "alpha"}, {"d/b", "beta"}});
    { LayerStore(root(), *cs_).ensure_unpacked(a.blob, a.diff_id); }
    expect_all_children_succeed(4, [&] {
        ContentStore cs(root());
        LayerStore layers(root(), cs);
        const auto dirs = layers.ensure_chain({a, a, a});
        return read_file(dirs[2] / "d" / "b") == "beta";
    });
    LayerStore layers(root(), *cs_);
    EXPECT_EQ(layers.list_copies().size(), 2u);
    EXPECT_TRUE(fs::is_empty(cs_->tmp_dir())) << "losers' copies are small: deleted at once";
}

// prune and store check over an image store whose layers have copies.
class LayerChainGcTest : public ::testing::Test {
  protected:
    void SetUp() override {
        work_.emplace(scratch("strata-chain-gc-"));
        store_.emplace(work_->path() / "store");
    }
    // An image of `layers` (each a one-file layer by name; equal names, equal
    // layers), named `name`.
    ImageRecord image(const std::string& name, const std::vector<std::string>& files) {
        auto lease = store_->lease();
        std::vector<LayerRecord> recs;
        for (const auto& f : files) {
            const fs::path src = work_->path() / ("src-" + f);
            if (!fs::exists(src)) {
                write_file(src / f, f);
                set_mtime(src / f, 1700000000);
            }
            auto blob = write_layer(src, store_->content(), {});
            recs.push_back({blob.digest, blob.diff_id, blob.size, blob.media_type, 1});
        }
        ImageConfig config;
        config.os = "linux";
        config.architecture = "amd64";
        auto record = store_->write_image(config, recs);
        auto txn = store_->begin();
        txn.put_image(record);
        txn.tag(Reference::parse(name), record.manifest);
        txn.commit();
        return record;
    }
    std::vector<fs::path> unpack(const ImageRecord& img) {
        std::vector<ChainLayer> chain;
        for (const auto& l : img.layers)
            chain.push_back({l.digest, l.diff_id});
        return store_->layers().ensure_chain(chain);
    }
    std::optional<TempDir> work_;
    std::optional<ImageStore> store_;
};

TEST_F(LayerChainGcTest, StoreCheckAndPruneKnowTheCopies) {
    const ImageRecord img = image("rep:1", {"a", "b", "a", "a"});
    const auto dirs = unpack(img);
    ASSERT_EQ(store_->layers().list_copies().size(), 2u);

    CheckReport r = check_store(*store_);
    EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems.front());
    EXPECT_EQ(r.layers, 2u);
    EXPECT_EQ(r.layer_copies, 2u);
    for (const auto& n : r.notes)
        EXPECT_EQ(n.find("copy"), std::string::npos) << n;

    // A damaged copy is a problem that names it and says what to do.
    fs::remove(dirs[3] / "a");
    r = check_store(*store_);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find("copy 3 of unpacked layer " + img.layers[0].diff_id.str()),
              std::string::npos)
        << r.problems[0];
    EXPECT_NE(r.problems[0].find("/a is missing"), std::string::npos) << r.problems[0];
    EXPECT_TRUE(check_store(*store_, {.verify_layer_contents = false}).ok());
    store_->layers().remove_copy({img.layers[0].diff_id, 3});
    EXPECT_TRUE(check_store(*store_).ok());
    EXPECT_EQ(unpack(img), dirs);

    // prune keeps the copies of layers an image uses ...
    PruneReport p = prune_store(*store_, {});
    EXPECT_EQ(store_->layers().list_copies().size(), 2u);
    EXPECT_TRUE(p.layers.empty());
    for (const auto& d : dirs)
        EXPECT_TRUE(fs::is_directory(d)) << d;

    // ... and removes them with the layer once no image does.
    {
        auto gc = store_->gc_exclusive();
        auto txn = store_->begin();
        txn.remove_image(img.manifest);
        txn.commit();
    }
    p = prune_store(*store_, {});
    EXPECT_EQ(p.layers.size(), 2u);
    EXPECT_TRUE(store_->layers().list_copies().empty());
    EXPECT_TRUE(layer_entries(store_->root()).empty());
    EXPECT_TRUE(check_store(*store_).ok());
}

TEST_F(LayerChainGcTest, ACopyWithoutItsLayerIsANoteAndPruneRemovesIt) {
    const ImageRecord img = image("rep:1", {"a", "a"});
    const auto dirs = unpack(img);
    // As if a removal was interrupted between the layer and its copy.
    fs::rename(dirs[0], work_->path() / "gone");
    CheckReport r = check_store(*store_);
    EXPECT_TRUE(r.ok());
    bool noted = false;
    for (const auto& n : r.notes)
        noted |= n.find("copy 2 of unpacked layer") != std::string::npos &&
                 n.find("the layer is gone") != std::string::npos;
    EXPECT_TRUE(noted);
    const PruneReport p = prune_store(*store_, {});
    bool reported = false;
    for (const auto& [what, size] : p.other)
        reported |= what == "layers/" + dirs[1].filename().string();
    EXPECT_TRUE(reported);
    EXPECT_FALSE(fs::exists(dirs[1]));
    store_.emplace(work_->path() / "store");  // the next process
    EXPECT_EQ(unpack(img), dirs) << "both made again on need";
}

}  // namespace
