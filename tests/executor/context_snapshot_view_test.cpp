// The build context's view answers a COPY's lookups from the snapshot the
// build's cache keys came from (BuildContext::use_snapshot): the copy is the
// one a view that stats the disk makes — every kind of entry, hardlinks,
// sockets, .dockerignore — and it is the snapshot's: a file changed after
// the snapshot keeps the mode, owner and mtime the key was computed from.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "base/unique_fd.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/filesystem.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

class ContextSnapshotView : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create("/tmp", "strata-csv-");  // short: socket paths are limited
        ctx_ = tmp_->path() / "c";
        parent_ = tmp_->path() / "p";
        fs::create_directories(parent_);
        tree(ctx_, {
                       "f app/main.c 0644 =int main;",
                       "f app/run.sh 0755 1000:1000 =#!/bin/sh",
                       "d app/empty 0700",
                       "f app/deep/er/file 0600 =deep",
                       "l app/link main.c",
                       "l app/dangling ../nowhere",
                       "h app/hard app/main.c",
                       "f app/secret.key 0600 =ignored",
                       "f top.txt 0644 =top",
                   });
        ASSERT_EQ(::mkfifo((ctx_ / "app/fifo").c_str(), 0640), 0);
        make_socket(ctx_ / "app/agent.sock", 0750);
        set_mtime(ctx_ / "app/fifo", kMtime);
        set_mtime(ctx_ / "app/agent.sock", kMtime);
        set_mtime(ctx_ / "app", kMtime);
    }

    frontend::DockerIgnore ignore() const {
        return frontend::DockerIgnore::from_patterns(patterns_, ".dockerignore");
    }
    std::vector<std::string> patterns_ = {"**/*.key"};

    cache::ContextSnapshot take_snapshot() const {
        const frontend::DockerIgnore ig = ignore();
        cache::RealFilesystem fs;
        cache::SnapshotOptions opts;
        opts.ignore = &ig;
        return cache::snapshot_context(fs, ctx_.string(), opts);
    }

    // The layer a COPY of `sources` to `dest` makes, with the view looking
    // things up in `snap` when given, else on the disk.
    std::string copy(const std::vector<std::string>& sources, const std::string& dest,
                     const cache::ContextSnapshot* snap, const std::string& name) {
        const fs::path layer = tmp_->path() / name;
        fs::create_directories(layer);
        BuildContext context(ctx_, ignore());
        if (snap) context.use_snapshot(*snap);
        LayerStackView below({parent_});
        CopyRequest req;
        req.sources = sources;
        req.dest = dest;
        run_copy(req, context, below, layer);
        // /dst itself is made by the copy, with the time it was made: two
        // copies a second apart differ there and nowhere else.
        return std::regex_replace(sorted_lines(snapshot(layer, {.mtimes = true})),
                                  std::regex(R"((d /dst [^@\n]*)@\d+)"), "$1@now");
    }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_;
};

TEST_F(ContextSnapshotView, TheCopyIsTheSameAsOneThatAsksTheDisk) {
    const cache::ContextSnapshot snap = take_snapshot();
    const std::vector<std::vector<std::string>> cases = {{"."},
                                                         {"app"},
                                                         {"app/main.c", "app/hard"},
                                                         {"app/*.sh", "top.txt"},
                                                         {"app/agent.sock"},
                                                         {"app/link"}};
    int n = 0;
    for (const auto& sources : cases) {
        const std::string tag = std::to_string(n++);
        const std::string from_disk = copy(sources, "/dst/", nullptr, "disk" + tag);
        const std::string from_snapshot = copy(sources, "/dst/", &snap, "snap" + tag);
        EXPECT_EQ(from_snapshot, from_disk) << sources.front();
    }
    // What the rows cover: hardlinks stay one inode, a socket becomes an
    // empty file, an ignored file stays out, owners and modes are kept.
    const std::string all = copy({"app"}, "/dst/", &snap, "all");
    EXPECT_NE(all.find("f /dst/hard 0644 0:0 =int main; #1"), std::string::npos) << all;
    EXPECT_NE(all.find("f /dst/agent.sock 0750 0:0 ="), std::string::npos) << all;
    EXPECT_NE(all.find("p /dst/fifo 0640 0:0"), std::string::npos) << all;
    EXPECT_EQ(all.find("secret.key"), std::string::npos) << all;
}

// Directories are listed from the snapshot too (BuildContext::known_children):
// an excluded directory, one that an exception pattern brings an entry of
// back, a directory left with nothing visible.
TEST_F(ContextSnapshotView, ExcludedDirectoriesAndExceptionsAreTheSameFromTheSnapshot) {
    for (const auto& patterns :
         std::vector<std::vector<std::string>>{{"app", "!app/deep/er/file"},
                                               {"app/deep", "top.txt"},
                                               {"app/empty", "app/deep/er/file", "**/*.sock"},
                                               {"*", "!app/link", "!app/main.c"}}) {
        patterns_ = patterns;
        const cache::ContextSnapshot snap = take_snapshot();
        const std::string tag = patterns.front() + std::to_string(patterns.size());
        const std::string from_disk = copy({"."}, "/dst/", nullptr, "disk-" + tag);
        const std::string from_snapshot = copy({"."}, "/dst/", &snap, "snap-" + tag);
        EXPECT_EQ(from_snapshot, from_disk) << patterns.front();
    }
}

TEST_F(ContextSnapshotView, AChangeAfterTheSnapshotDoesNotChangeWhatTheCopySees) {
    const cache::ContextSnapshot snap = take_snapshot();
    ASSERT_EQ(::chmod((ctx_ / "app/main.c").c_str(), 0600), 0);
    set_mtime(ctx_ / "app/main.c", kMtime + 100);
    const std::string from_snapshot = copy({"app/main.c"}, "/m", &snap, "snap");
    const std::string from_disk = copy({"app/main.c"}, "/m", nullptr, "disk");
    EXPECT_EQ(from_snapshot, sorted_lines({"f /m 0644 0:0 =int main; @" + std::to_string(kMtime)}));
    EXPECT_EQ(from_disk,
              sorted_lines({"f /m 0600 0:0 =int main; @" + std::to_string(kMtime + 100)}));

    // A file made after the snapshot is not in it, so not in the copy of
    // its directory either: the copy is what the cache key was made from.
    write_text(ctx_ / "app/later.txt", "later");
    const std::string dir = copy({"app"}, "/dst/", &snap, "snap-dir");
    EXPECT_EQ(dir.find("later.txt"), std::string::npos) << dir;
    EXPECT_NE(copy({"app"}, "/dst/", nullptr, "disk-dir").find("later.txt"), std::string::npos);
}

}  // namespace
}  // namespace strata::executor
