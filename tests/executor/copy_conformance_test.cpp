// COPY as current BuildKit does it where strata used to differ: a Unix
// socket in the context becomes an empty regular file with the socket's
// mode (fsutil sends it so), and the directories a COPY --chmod creates get
// the --chmod mode (fsutil since 2025), existing ones keep theirs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "cache/context_snapshot.hpp"
#include "cache/filesystem.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

class CopyConformance : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create("/tmp", "strata-cc-");  // short: socket paths are limited
        ctx_ = tmp_->path() / "c";
        parent_ = tmp_->path() / "p";
        layer_ = tmp_->path() / "l";
        fs::create_directories(ctx_);
        fs::create_directories(parent_);
        fs::create_directories(layer_);
    }

    void copy(std::vector<std::string> sources, const std::string& dest,
              const std::string& chmod = "") {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        CopyRequest req;
        req.sources = std::move(sources);
        req.dest = dest;
        req.chmod = chmod;
        run_copy(req, context, below, layer_);
    }

    std::string layer() { return sorted_lines(snapshot(layer_)); }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_;
};

TEST_F(CopyConformance, SocketSourceBecomesAnEmptyFile) {
    make_socket(ctx_ / "agent.sock", 0755);
    copy({"agent.sock"}, "/run/");
    EXPECT_EQ(layer(), sorted_lines({"d /run 0755 0:0", "f /run/agent.sock 0755 0:0 ="}));
}

TEST_F(CopyConformance, SocketInsideADirectoryAndThroughAWildcard) {
    fs::create_directories(ctx_ / "d");
    write_text(ctx_ / "d/a.txt", "a");
    make_socket(ctx_ / "d/s", 0700);
    make_socket(ctx_ / "w.sock", 0644);
    copy({"d", "*.sock"}, "/x/");
    EXPECT_EQ(layer(), sorted_lines({"d /x 0755 0:0", "f /x/a.txt 0644 0:0 =a",
                                     "f /x/s 0700 0:0 =", "f /x/w.sock 0644 0:0 ="}));
}

TEST_F(CopyConformance, SocketTakesChmodLikeAFile) {
    make_socket(ctx_ / "s", 0755);
    copy({"s"}, "/s2", "0600");
    EXPECT_EQ(layer(), sorted_lines({"f /s2 0600 0:0 ="}));
}

TEST_F(CopyConformance, ContextSnapshotSeesASocketAsAnEmptyFile) {
    write_text(ctx_ / "empty", "");
    make_socket(ctx_ / "s", 0644);
    cache::RealFilesystem fs;
    const cache::ContextSnapshot snap = cache::snapshot_context(fs, ctx_.string());
    const cache::Entry* sock = nullptr;
    const cache::Entry* empty = nullptr;
    for (const cache::Entry& e : snap.entries()) {
        if (e.path == "s") sock = &e;
        if (e.path == "empty") empty = &e;
    }
    ASSERT_NE(sock, nullptr);
    ASSERT_NE(empty, nullptr);
    EXPECT_EQ(sock->type, cache::EntryType::kFile);
    EXPECT_EQ(sock->size, 0u);
    EXPECT_EQ(sock->content, empty->content);
}

TEST_F(CopyConformance, ChmodAppliesToTheParentsItCreates) {
    write_text(ctx_ / "f", "x");
    copy({"f"}, "/new/path/", "0644");
    EXPECT_EQ(layer(), sorted_lines({"d /new 0644 0:0", "d /new/path 0644 0:0",
                                     "f /new/path/f 0644 0:0 =x"}));
}

TEST_F(CopyConformance, ChmodParentsForAFileDestinationAndADirectorySource) {
    write_text(ctx_ / "f", "x");
    fs::create_directories(ctx_ / "d");
    write_text(ctx_ / "d/g", "g");
    copy({"f"}, "/a/foo.txt", "0777");
    copy({"d"}, "/b/c/", "0750");
    EXPECT_EQ(layer(), sorted_lines({"d /a 0777 0:0", "f /a/foo.txt 0777 0:0 =x", "d /b 0750 0:0",
                                     "d /b/c 0750 0:0", "f /b/c/g 0750 0:0 =g"}));
}

TEST_F(CopyConformance, ExistingParentsKeepTheirModeAndNoChmodMeans0755) {
    fs::create_directories(parent_ / "opt");
    ::chmod((parent_ / "opt").c_str(), 0700);
    write_text(ctx_ / "f", "x");
    copy({"f"}, "/opt/app/f", "0600");
    copy({"f"}, "/plain/f");
    EXPECT_EQ(layer(),
              sorted_lines({"d /opt 0700 0:0", "d /opt/app 0600 0:0", "f /opt/app/f 0600 0:0 =x",
                            "d /plain 0755 0:0", "f /plain/f 0644 0:0 =x"}));
}

TEST_F(CopyConformance, SymbolicChmodIsAppliedTo0755ForCreatedParents) {
    write_text(ctx_ / "f", "x");
    copy({"f"}, "/s/f", "go-rx");
    EXPECT_EQ(layer(), sorted_lines({"d /s 0700 0:0", "f /s/f 0600 0:0 =x"}));
}

}  // namespace
}  // namespace strata::executor
