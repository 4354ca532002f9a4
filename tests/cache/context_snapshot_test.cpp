// The context walk against in-memory trees: order, metadata, symlinks,
// special files, .dockerignore (including skipped directories), lookups.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/memory_filesystem.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::cache {
namespace {

using frontend::DockerIgnore;

std::vector<std::string> paths(const ContextSnapshot& s) {
    std::vector<std::string> out;
    for (const Entry& e : s.entries())
        out.emplace_back(e.path);
    return out;
}

Hash128 xxh128(std::string_view s) {
    XXH128_hash_t h = XXH3_128bits(s.data(), s.size());
    return Hash128{h.low64, h.high64};
}

ContextSnapshot snap(MemoryFilesystem& fs, const DockerIgnore* ig = nullptr, unsigned threads = 1) {
    SnapshotOptions o;
    o.ignore = ig;
    o.threads = threads;
    return snapshot_context(fs, "ctx", o);
}

TEST(ContextSnapshot, TreeOrderAndMetadata) {
    MemoryFilesystem fs;
    fs.add_file("ctx/b.txt", "bee", 0640);
    fs.add_file("ctx/a/x", "x");
    fs.add_file("ctx/a-b", "dash");
    fs.add_file("ctx/a/y/z", "zed", 04755);
    fs.chown("ctx/b.txt", 1000, 1001);
    ContextSnapshot s = snap(fs);
    // Depth-first, names sorted bytewise: "a" and its subtree before "a-b".
    EXPECT_EQ(paths(s), (std::vector<std::string>{"", "a", "a/x", "a/y", "a/y/z", "a-b", "b.txt"}));
    const Entry* b = s.find("b.txt");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->type, EntryType::kFile);
    EXPECT_EQ(b->mode, 0640u);
    EXPECT_EQ(b->uid, 1000u);
    EXPECT_EQ(b->gid, 1001u);
    EXPECT_EQ(b->size, 3u);
    EXPECT_EQ(b->content, xxh128("bee"));
    EXPECT_EQ(b->name(), "b.txt");
    EXPECT_EQ(s.find("a/y/z")->mode, 04755u);
    EXPECT_EQ(s.find("a/y/z")->name(), "z");
    EXPECT_EQ(s.root().type, EntryType::kDir);
    EXPECT_EQ(s.root().subtree_end, s.size());
    EXPECT_EQ(s.stats().files, 4u);
    EXPECT_EQ(s.stats().files_hashed, 4u);
    EXPECT_EQ(s.stats().bytes_hashed, 11u);
    for (size_t i = 1; i < s.size(); ++i)
        EXPECT_TRUE(tree_order_less(s[i - 1].path, s[i].path)) << i;
}

TEST(ContextSnapshot, FindChildrenSubtree) {
    MemoryFilesystem fs;
    fs.add_file("ctx/d/1", "1");
    fs.add_file("ctx/d/2/3", "3");
    fs.add_file("ctx/d/4", "4");
    fs.add_file("ctx/e", "e");
    ContextSnapshot s = snap(fs);
    const Entry* d = s.find("d");
    ASSERT_NE(d, nullptr);
    std::vector<std::string> kids;
    for (const Entry& c : s.children(*d))
        kids.emplace_back(c.path);
    EXPECT_EQ(kids, (std::vector<std::string>{"d/1", "d/2", "d/4"}));
    std::vector<std::string> sub;
    for (const Entry& c : s.subtree(*d))
        sub.emplace_back(c.path);
    EXPECT_EQ(sub, (std::vector<std::string>{"d", "d/1", "d/2", "d/2/3", "d/4"}));
    EXPECT_EQ(s[s.find("d/2/3")->parent].path, "d/2");
    EXPECT_TRUE(s.children(*s.find("e")).empty());
    EXPECT_EQ(s.find(""), &s.root());
    EXPECT_EQ(s.find("d/3"), nullptr);
    EXPECT_EQ(s.find("d/"), nullptr);  // paths must be clean
    EXPECT_EQ(s.find("zzz"), nullptr);
}

TEST(ContextSnapshot, SymlinksAreRecordedNotFollowed) {
    MemoryFilesystem fs;
    fs.add_file("outside/secret", "s3cret");
    fs.add_file("ctx/real/f", "f");
    fs.add_symlink("ctx/in", "real");
    fs.add_symlink("ctx/out", "../outside");
    fs.add_symlink("ctx/abs", "/etc/passwd");
    fs.add_symlink("ctx/dangling", "nope");
    ContextSnapshot s = snap(fs);
    EXPECT_EQ(paths(s),
              (std::vector<std::string>{"", "abs", "dangling", "in", "out", "real", "real/f"}));
    const Entry* out = s.find("out");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out->type, EntryType::kSymlink);
    EXPECT_EQ(out->link_target, "../outside");
    EXPECT_EQ(s.find("abs")->link_target, "/etc/passwd");
    EXPECT_EQ(s.find("in")->subtree_end, s.index_of(*s.find("in")) + 1);
    EXPECT_EQ(fs.counters().reads.load(), 1u);  // only real/f: no link was followed
}

TEST(ContextSnapshot, SpecialFilesAreRecordedNeverRead) {
    MemoryFilesystem fs;
    fs.add_special("ctx/fifo", EntryType::kFifo);
    fs.add_special("ctx/sock", EntryType::kSocket);
    fs.add_special("ctx/null", EntryType::kCharDevice, 0x0103, 0666);
    fs.add_special("ctx/disk", EntryType::kBlockDevice, 0x0800);
    ContextSnapshot s = snap(fs);
    EXPECT_EQ(s.find("fifo")->type, EntryType::kFifo);
    // A socket is an empty regular file, as BuildKit's context transfer sends it.
    EXPECT_EQ(s.find("sock")->type, EntryType::kFile);
    EXPECT_EQ(s.find("sock")->size, 0u);
    EXPECT_EQ(s.find("null")->type, EntryType::kCharDevice);
    EXPECT_EQ(s.find("null")->rdev, 0x0103u);
    EXPECT_EQ(s.find("null")->mode, 0666u);
    EXPECT_EQ(s.find("disk")->type, EntryType::kBlockDevice);
    EXPECT_EQ(s.find("fifo")->rdev, 0u);
    EXPECT_EQ(fs.counters().reads.load(), 0u);
    EXPECT_TRUE(is_special(EntryType::kFifo));
    EXPECT_FALSE(is_special(EntryType::kSymlink));
}

TEST(ContextSnapshot, IgnoreRulesApplied) {
    MemoryFilesystem fs;
    fs.add_file("ctx/.dockerignore", "");
    fs.add_file("ctx/main.c", "int main;");
    fs.add_file("ctx/main.o", "obj");
    fs.add_file("ctx/src/a.o", "obj");
    fs.add_file("ctx/src/a.c", "a");
    fs.add_file("ctx/node_modules/x/index.js", "x");
    fs.add_file("ctx/node_modules/y/index.js", "y");
    fs.add_symlink("ctx/link.o", "main.o");
    DockerIgnore ig = DockerIgnore::parse("**/*.o\nnode_modules\n", ".dockerignore");
    ContextSnapshot s = snap(fs, &ig);
    EXPECT_EQ(paths(s),
              (std::vector<std::string>{"", ".dockerignore", "main.c", "src", "src/a.c"}));
    // node_modules was skipped whole: never listed, nothing in it stat'ed.
    EXPECT_EQ(s.stats().dirs_skipped, 1u);
    EXPECT_EQ(fs.counters().lists.load(), 2u);  // ctx and ctx/src
    EXPECT_EQ(fs.counters().reads.load(), 3u);  // .dockerignore, main.c, src/a.c
}

TEST(ContextSnapshot, ExceptionReincludesBeneathExcludedDir) {
    MemoryFilesystem fs;
    fs.add_file("ctx/build/keep/k", "k");
    fs.add_file("ctx/build/drop", "d");
    fs.add_file("ctx/build/other/o", "o");
    fs.add_file("ctx/top", "t");
    DockerIgnore ig = DockerIgnore::parse("build\n!build/keep\n", ".dockerignore");
    ContextSnapshot s = snap(fs, &ig);
    // build is excluded itself but stays as the parent of what is re-included;
    // build/other has nothing included and goes.
    EXPECT_EQ(paths(s),
              (std::vector<std::string>{"", "build", "build/keep", "build/keep/k", "top"}));
    for (size_t i = 0; i < s.size(); ++i) {
        EXPECT_LE(i + 1, s[i].subtree_end);
        if (i) {
            EXPECT_LT(s[i].parent, i);
        }
    }
}

TEST(ContextSnapshot, DirContentsExcludedKeepsEmptyDir) {
    MemoryFilesystem fs;
    fs.add_file("ctx/cache/a", "a");
    fs.add_file("ctx/cache/b/c", "c");
    DockerIgnore ig = DockerIgnore::parse("cache/**\n", ".dockerignore");
    ContextSnapshot s = snap(fs, &ig);
    EXPECT_EQ(paths(s), (std::vector<std::string>{"", "cache"}));
    EXPECT_EQ(s.find("cache")->subtree_end, 2u);
    EXPECT_EQ(fs.counters().lists.load(), 1u);  // cache/ not listed
}

TEST(ContextSnapshot, EmptyContextAndEmptyDirs) {
    MemoryFilesystem fs;
    fs.add_dir("ctx");
    ContextSnapshot s = snap(fs);
    EXPECT_EQ(paths(s), (std::vector<std::string>{""}));
    fs.add_dir("ctx/empty", 0700);
    ContextSnapshot t = snap(fs);
    EXPECT_EQ(paths(t), (std::vector<std::string>{"", "empty"}));
    EXPECT_EQ(t.find("empty")->mode, 0700u);
}

TEST(ContextSnapshot, ErrorsNameThePath) {
    MemoryFilesystem fs;
    fs.add_file("ctx/ok", "ok");
    fs.add_file("ctx/sub/locked", "no");
    fs.deny("ctx/sub/locked");
    try {
        snap(fs);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kSystem);
        EXPECT_NE(std::string(e.what()).find("ctx/sub/locked"), std::string::npos) << e.what();
    }
    MemoryFilesystem missing;
    EXPECT_THROW(snapshot_context(missing, "nope"), Error);
}

TEST(ContextSnapshot, ErrorInParallelWalkPropagates) {
    MemoryFilesystem fs;
    for (int d = 0; d < 20; ++d)
        for (int f = 0; f < 5; ++f)
            fs.add_file("ctx/d" + std::to_string(d) + "/f" + std::to_string(f), "x");
    fs.deny("ctx/d13/f2");
    EXPECT_THROW(snap(fs, nullptr, 4), Error);
}

TEST(ContextSnapshot, ParallelWalkEqualsSerialWalk) {
    MemoryFilesystem fs;
    for (int d = 0; d < 30; ++d) {
        std::string dir = "ctx/d" + std::to_string(d);
        for (int f = 0; f < 20; ++f)
            fs.add_file(dir + "/f" + std::to_string(f), dir + std::to_string(f));
        fs.add_file(dir + "/deep/er/x.o", "o");
        fs.add_symlink(dir + "/l", "f1");
    }
    DockerIgnore ig = DockerIgnore::parse("d1*/deep\n!d12/deep/er\n", ".dockerignore");
    ContextSnapshot a = snap(fs, &ig, 1);
    ContextSnapshot b = snap(fs, &ig, 4);
    ASSERT_EQ(paths(a), paths(b));
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].digest, b[i].digest) << a[i].path;
        EXPECT_EQ(a[i].subtree_end, b[i].subtree_end);
        EXPECT_EQ(a[i].parent, b[i].parent);
    }
    EXPECT_NE(a.find("d12/deep/er/x.o"), nullptr);
    EXPECT_EQ(a.find("d13/deep"), nullptr);
    EXPECT_NE(a.find("d2/deep/er/x.o"), nullptr);
}

TEST(ContextSnapshot, ReadsInChunksHashLikeOneShot) {
    MemoryFilesystem fs;
    std::string big(100000, 'q');
    for (size_t i = 0; i < big.size(); i += 7)
        big[i] = static_cast<char>('a' + i % 26);
    fs.add_file("ctx/big", big);
    fs.set_read_chunk(4096);
    ContextSnapshot s = snap(fs);
    EXPECT_EQ(s.find("big")->content, xxh128(big));
}

TEST(ContextSnapshot, SnapshotSurvivesMove) {
    MemoryFilesystem fs;
    fs.add_file("ctx/a", "1");  // tiny paths: storage must not live in a small-string buffer
    ContextSnapshot s = snap(fs);
    ContextSnapshot moved = std::move(s);
    ASSERT_EQ(moved.size(), 2u);
    EXPECT_EQ(moved[1].path, "a");
    EXPECT_EQ(moved.find("a"), &moved[1]);
}

TEST(TreeOrder, SlashSortsFirst) {
    EXPECT_TRUE(tree_order_less("a", "a-b"));
    EXPECT_TRUE(tree_order_less("a/x", "a-b"));
    EXPECT_TRUE(tree_order_less("a", "a/x"));
    EXPECT_TRUE(tree_order_less("", "a"));
    EXPECT_FALSE(tree_order_less("a/x", "a/x"));
    EXPECT_TRUE(tree_order_less("a/z", "ab"));
}

}  // namespace
}  // namespace strata::cache
