// Digest rules as a table: each row edits a context, and says whether the
// digest of the whole context, and of the subdirectory `src`, must change.
#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <string>

#include "cache/context_digest.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/memory_filesystem.hpp"
#include "frontend/dockerignore.hpp"

namespace strata::cache {
namespace {

using frontend::DockerIgnore;

void base_tree(MemoryFilesystem& fs) {
    fs.add_file("ctx/.dockerignore", "*.log\n");
    fs.add_file("ctx/README", "readme\n");
    fs.add_file("ctx/src/main.c", "int main() { return 0; }\n");
    fs.add_file("ctx/src/util.c", "void util() {}\n", 0600);
    fs.add_file("ctx/src/lib/a.h", "#pragma once\n");
    fs.add_symlink("ctx/src/current", "lib");
    fs.add_dir("ctx/src/empty");
    fs.add_special("ctx/src/fifo", EntryType::kFifo);
}

struct Row {
    const char* name;
    std::function<void(MemoryFilesystem&)> edit;
    bool root_changes;
    bool src_changes;
};

class DigestTable : public ::testing::TestWithParam<Row> {};

ContextSnapshot take(MemoryFilesystem& fs) {
    DockerIgnore ig = DockerIgnore::parse("**/*.log\n", ".dockerignore");
    SnapshotOptions o;
    o.ignore = &ig;
    o.threads = 1;
    return snapshot_context(fs, "ctx", o);
}

TEST_P(DigestTable, Row) {
    const Row& row = GetParam();
    MemoryFilesystem fs;
    base_tree(fs);
    ContextSnapshot before = take(fs);
    fs.advance(5'000'000'000);
    row.edit(fs);
    ContextSnapshot after = take(fs);
    EXPECT_EQ(before.root().digest != after.root().digest, row.root_changes) << row.name;
    const Entry* b = before.find("src");
    const Entry* a = after.find("src");
    ASSERT_NE(b, nullptr);
    if (!a) {
        EXPECT_TRUE(row.src_changes) << row.name << ": src vanished";
        return;
    }
    EXPECT_EQ(b->digest != a->digest, row.src_changes) << row.name;
}

const Row kRows[] = {
    {"nothing", [](MemoryFilesystem&) {}, false, false},
    {"touch a file (mtime only)", [](MemoryFilesystem& fs) { fs.set_mtime("ctx/src/main.c", 42); },
     false, false},
    {"rewrite with the same bytes",
     [](MemoryFilesystem& fs) { fs.write("ctx/src/main.c", "int main() { return 0; }\n"); }, false,
     false},
    {"change one byte",
     [](MemoryFilesystem& fs) { fs.write("ctx/src/main.c", "int main() { return 1; }\n"); }, true,
     true},
    {"change one byte outside src", [](MemoryFilesystem& fs) { fs.write("ctx/README", "readme!"); },
     true, false},
    {"change mode", [](MemoryFilesystem& fs) { fs.chmod("ctx/src/util.c", 0644); }, true, true},
    {"add setuid bit", [](MemoryFilesystem& fs) { fs.chmod("ctx/src/main.c", 04644); }, true, true},
    {"change mode of a directory", [](MemoryFilesystem& fs) { fs.chmod("ctx/src/lib", 0700); },
     true, true},
    {"change mode of the selected root", [](MemoryFilesystem& fs) { fs.chmod("ctx/src", 0700); },
     true, true},
    {"change uid/gid only", [](MemoryFilesystem& fs) { fs.chown("ctx/src/main.c", 1000, 1000); },
     false, false},
    {"change owner of a dir", [](MemoryFilesystem& fs) { fs.chown("ctx/src", 5, 5); }, false,
     false},
    {"new inode, same content",
     [](MemoryFilesystem& fs) { fs.set_inode("ctx/src/main.c", 999999); }, false, false},
    {"add an ignored file", [](MemoryFilesystem& fs) { fs.add_file("ctx/src/debug.log", "noise"); },
     false, false},
    {"add an ignored file at the root", [](MemoryFilesystem& fs) { fs.add_file("ctx/x.log", "a"); },
     false, false},
    {"add a file", [](MemoryFilesystem& fs) { fs.add_file("ctx/src/new.c", ""); }, true, true},
    {"add an empty dir", [](MemoryFilesystem& fs) { fs.add_dir("ctx/src/empty2"); }, true, true},
    {"remove a file", [](MemoryFilesystem& fs) { fs.remove("ctx/src/util.c"); }, true, true},
    {"remove an empty dir", [](MemoryFilesystem& fs) { fs.remove("ctx/src/empty"); }, true, true},
    {"rename a file", [](MemoryFilesystem& fs) { fs.rename("ctx/src/util.c", "ctx/src/util2.c"); },
     true, true},
    {"move a file to another dir",
     [](MemoryFilesystem& fs) { fs.rename("ctx/src/util.c", "ctx/src/lib/util.c"); }, true, true},
    {"symlink target change",
     [](MemoryFilesystem& fs) {
         fs.remove("ctx/src/current");
         fs.add_symlink("ctx/src/current", "lib/");
     },
     true, true},
    {"symlink replaced by the dir it pointed to",
     [](MemoryFilesystem& fs) {
         fs.remove("ctx/src/current");
         fs.add_file("ctx/src/current/a.h", "#pragma once\n");
     },
     true, true},
    {"file replaced by a symlink",
     [](MemoryFilesystem& fs) {
         fs.remove("ctx/src/util.c");
         fs.add_symlink("ctx/src/util.c", "void util() {}\n");
     },
     true, true},
    {"fifo replaced by a socket",
     [](MemoryFilesystem& fs) {
         fs.remove("ctx/src/fifo");
         fs.add_special("ctx/src/fifo", EntryType::kSocket);
     },
     true, true},
    {"empty file replaced by empty dir",
     [](MemoryFilesystem& fs) {
         fs.remove("ctx/src/empty");
         fs.add_file("ctx/src/empty", "");
     },
     true, true},
    {"rename the selected root", [](MemoryFilesystem& fs) { fs.rename("ctx/src", "ctx/src2"); },
     true, true},
};

INSTANTIATE_TEST_SUITE_P(Edits, DigestTable, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& info) {
                             std::string n;
                             for (const char* p = info.param.name; *p; ++p)
                                 n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                             return n;
                         });

TEST(ContextDigest, SubtreeDigestIsIndependentOfLocation) {
    MemoryFilesystem fs;
    fs.add_file("ctx/a/x/f", "same");
    fs.add_file("ctx/b/deeper/x/f", "same");
    ContextSnapshot s = take(fs);
    EXPECT_EQ(s.find("a/x")->digest, s.find("b/deeper/x")->digest);
    EXPECT_NE(s.find("a")->digest, s.find("b")->digest);
}

TEST(ContextDigest, MovingContentBetweenSiblingsChangesDigest) {
    // {a: "xy", b: ""} vs {a: "x", b: "y"}: length-prefixed encoding.
    MemoryFilesystem one, two;
    one.add_file("ctx/d/a", "xy");
    one.add_file("ctx/d/b", "");
    two.add_file("ctx/d/a", "x");
    two.add_file("ctx/d/b", "y");
    EXPECT_NE(take(one).root().digest, take(two).root().digest);
}

TEST(ContextDigest, DigestStringForm) {
    Hash128 h{0x0123456789abcdefull, 0xfedcba9876543210ull};
    EXPECT_EQ(h.hex(), "fedcba98765432100123456789abcdef");
    EXPECT_EQ(digest_string(h), "xxh3:fedcba98765432100123456789abcdef");
}

TEST(ContextDigest, SelectionDigestOrderAndMembers) {
    MemoryFilesystem fs;
    fs.add_file("ctx/a", "A");
    fs.add_file("ctx/b", "B");
    fs.add_file("ctx/c", "C");
    ContextSnapshot s = take(fs);
    auto sel = [&](std::initializer_list<const char*> names) {
        SelectionDigest d;
        for (const char* n : names)
            d.add(n, *s.find(n));
        return d.finish();
    };
    EXPECT_EQ(sel({"a", "b"}), sel({"a", "b"}));
    EXPECT_NE(sel({"a", "b"}), sel({"b", "a"}));
    EXPECT_NE(sel({"a", "b"}), sel({"a", "b", "c"}));
    EXPECT_NE(sel({"a"}), sel({"b"}));
    // Only the second of several sources changed → different (moby/buildkit#853).
    MemoryFilesystem fs2;
    fs2.add_file("ctx/a", "A");
    fs2.add_file("ctx/b", "B2");
    fs2.add_file("ctx/c", "C");
    ContextSnapshot s2 = take(fs2);
    SelectionDigest d2;
    for (const char* n : {"a", "b", "c"})
        d2.add(n, *s2.find(n));
    EXPECT_NE(sel({"a", "b", "c"}), d2.finish());
    SelectionDigest empty;
    EXPECT_EQ(empty.str().size(), 5u + 32u);
}

TEST(ContextDigest, FilteredSubtreeDigest) {
    MemoryFilesystem fs;
    fs.add_file("ctx/app/main.go", "package main");
    fs.add_file("ctx/app/main_test.go", "package main // test");
    fs.add_file("ctx/app/vendor/x/x.go", "package x");
    ContextSnapshot s = take(fs);
    const Entry& app = *s.find("app");
    EXPECT_EQ(subtree_digest(s, app, {}), app.digest);

    DigestOptions no_tests;
    no_tests.include = [](std::string_view rel, const Entry&) {
        return rel.find("_test") == std::string_view::npos;
    };
    Hash128 filtered = subtree_digest(s, app, no_tests);
    EXPECT_NE(filtered, app.digest);

    // Equal to the digest of a tree that never had the test file.
    MemoryFilesystem fs2;
    fs2.add_file("ctx/app/main.go", "package main");
    fs2.add_file("ctx/app/vendor/x/x.go", "package x");
    ContextSnapshot s2 = take(fs2);
    EXPECT_EQ(filtered, s2.find("app")->digest);

    // Editing the excluded file leaves the filtered digest alone.
    fs.write("ctx/app/main_test.go", "changed");
    ContextSnapshot s3 = take(fs);
    EXPECT_EQ(subtree_digest(s3, *s3.find("app"), no_tests), filtered);

    // An excluded directory still carries what is included below it.
    DigestOptions no_vendor_dir;
    no_vendor_dir.include = [](std::string_view rel, const Entry&) { return rel != "vendor"; };
    EXPECT_EQ(subtree_digest(s, app, no_vendor_dir), app.digest);
    DigestOptions no_vendor;
    no_vendor.include = [](std::string_view rel, const Entry&) {
        return rel.substr(0, 6) != "vendor";
    };
    EXPECT_NE(subtree_digest(s, app, no_vendor), app.digest);
}

TEST(ContextDigest, ModeOverrideLikeChmod) {
    MemoryFilesystem a, b;
    a.add_file("ctx/d/f", "x", 0600);
    b.add_file("ctx/d/f", "x", 0755);
    ContextSnapshot sa = take(a), sb = take(b);
    EXPECT_NE(sa.find("d")->digest, sb.find("d")->digest);
    DigestOptions chmod;
    chmod.mode = [](const Entry&) { return 0644u; };
    EXPECT_EQ(subtree_digest(sa, *sa.find("d"), chmod), subtree_digest(sb, *sb.find("d"), chmod));
    EXPECT_EQ(subtree_digest(sa, *sa.find("d/f"), chmod),
              subtree_digest(sb, *sb.find("d/f"), chmod));
    EXPECT_NE(subtree_digest(sa, *sa.find("d/f"), chmod), sa.find("d/f")->digest);
}

}  // namespace
}  // namespace strata::cache
