// COPY flags and metadata beyond the path-rule table: mtimes and
// SOURCE_DATE_EPOCH, --exclude with exceptions and on wildcard matches,
// --parents with wildcards, --link, xattrs, special files and hardlinks from
// a stage, the source selection used for cache keys, and refused inputs.
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <ctime>

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor_test_util.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

class Flags : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-flags-");
        ctx_ = tmp_->path() / "ctx";
        parent_ = tmp_->path() / "parent";
        layer_ = tmp_->path() / "layer";
        fs::create_directories(ctx_);
        fs::create_directories(parent_);
        fs::create_directories(layer_);
    }

    CopyResult copy(CopyRequest req, const SourceView* source = nullptr) {
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        return run_copy(req, source ? *source : context, below, layer_);
    }

    std::vector<std::string> layer(SnapshotOptions o = {}) {
        auto lines = snapshot(layer_, o);
        std::sort(lines.begin(), lines.end());
        return lines;
    }

    std::string error_of(CopyRequest req) {
        try {
            copy(std::move(req));
        } catch (const Error& e) {
            return e.what();
        }
        return "<no error>";
    }

    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_;
};

TEST_F(Flags, MtimesComeFromTheSourceAndCreatedParentsAreNew) {
    tree(ctx_, {"d src 0755", "f src/a 0644", "d src/d 0755", "f src/d/b 0644"});
    set_mtime(ctx_ / "src/d/b", 1111111111);
    set_mtime(ctx_ / "src/d", 1222222222);
    const time_t before = time(nullptr);
    CopyRequest req;
    req.sources = {"src"};
    req.dest = "/deep/app";
    copy(req);
    struct stat st {};
    ASSERT_EQ(::lstat((layer_ / "deep/app/d/b").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1111111111);
    ASSERT_EQ(::lstat((layer_ / "deep/app/d").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1222222222);  // set after its content was written
    ASSERT_EQ(::lstat((layer_ / "deep/app").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, kMtime);  // the top takes the source directory's mtime
    ASSERT_EQ(::lstat((layer_ / "deep").c_str(), &st), 0);
    EXPECT_GE(st.st_mtim.tv_sec, before);  // created parent: now, as BuildKit
}

TEST_F(Flags, SourceDateEpochStampsEverything) {
    tree(ctx_, {"d src 0755", "f src/a 0644", "l src/l a"});
    CopyRequest req;
    req.sources = {"src"};
    req.dest = "/x/y/";
    req.inline_sources = {{"EOF", "hi"}};
    req.source_date_epoch = 86400;
    copy(req);
    for (const auto& line : layer({true}))
        EXPECT_NE(line.find(" @86400"), std::string::npos) << line;
    EXPECT_EQ(layer().size(), 5u);
}

TEST_F(Flags, ExcludeWithExceptionPattern) {
    tree(ctx_, {"f a.log 0644", "f keep.log 0644", "f x.c 0644", "d node_modules 0755",
                "f node_modules/m.js 0644", "d sub 0755", "f sub/s.log 0644"});
    CopyRequest req;
    req.sources = {"."};
    req.dest = "/app/";
    req.excludes = {"*.log", "!keep.log", "node_modules", "**/s.log"};
    copy(req);
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /app 0755 0:0", "d /app/sub 0755 0:0",
                            "f /app/keep.log 0644 0:0 =keep.log", "f /app/x.c 0644 0:0 =x.c"}));
}

TEST_F(Flags, ExcludeExceptionInsideExcludedDirectory) {
    tree(ctx_, {"d dir 0750", "f dir/drop 0644", "d dir/in 0700", "f dir/in/keep 0644"});
    CopyRequest req;
    req.sources = {"."};
    req.dest = "/app/";
    req.excludes = {"dir", "!dir/in/keep"};
    copy(req);
    // The excluded directories are made only to hold what comes back, with
    // their own modes.
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /app 0755 0:0", "d /app/dir 0750 0:0", "d /app/dir/in 0700 0:0",
                            "f /app/dir/in/keep 0644 0:0 =dir/in/keep"}));
}

TEST_F(Flags, ExcludeAppliesToWildcardMatchedFiles) {
    // The Dockerfile reference's example: COPY --exclude=*.txt hom* /mydir/
    tree(ctx_, {"f home.txt 0644", "f homer.md 0644", "f other 0644"});
    CopyRequest req;
    req.sources = {"hom*"};
    req.dest = "/mydir/";
    req.excludes = {"*.txt"};
    copy(req);
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /mydir 0755 0:0", "f /mydir/homer.md 0644 0:0 =homer.md"}));
}

TEST_F(Flags, ExcludeEverythingStillMakesTheDestination) {
    // BuildKit's test: ADD --exclude=* dir* /6 gives an empty /6.
    tree(ctx_, {"d dir1 0755", "f dir1/a 0644", "d dir2 0755", "f dir2/b 0644"});
    CopyRequest req;
    req.is_add = true;
    req.sources = {"dir*"};
    req.dest = "/6";
    req.excludes = {"*"};
    copy(req);
    EXPECT_EQ(join_lines(layer()), sorted_lines({"d /6 0755 0:0"}));
}

TEST_F(Flags, ParentsWithWildcards) {
    tree(ctx_, {"d p1 0755", "f p1/pkg.json 0644", "f p1/other 0644", "d p2 0711",
                "f p2/pkg.json 0600", "d p3 0755", "d p3/deep 0755", "f p3/deep/pkg.json 0644"});
    CopyRequest req;
    req.parents = true;
    req.sources = {"*/pkg.json"};
    req.dest = "/app/";
    copy(req);
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /app 0755 0:0", "d /app/p1 0755 0:0", "d /app/p2 0711 0:0",
                            "f /app/p1/pkg.json 0644 0:0 =p1/pkg.json",
                            "f /app/p2/pkg.json 0600 0:0 =p2/pkg.json"}));
}

TEST_F(Flags, ParentsGlobstarAndExclude) {
    tree(ctx_, {"d a 0755", "d a/b 0755", "f a/b/x.go 0644", "f a/b/x_test.go 0644",
                "f a/y.go 0644", "f z.txt 0644"});
    CopyRequest req;
    req.parents = true;
    req.sources = {"a/**/*.go"};
    req.dest = "/src";
    req.excludes = {"**/*_test.go"};
    copy(req);
    EXPECT_EQ(
        join_lines(layer()),
        sorted_lines({"d /src 0755 0:0", "d /src/a 0755 0:0", "d /src/a/b 0755 0:0",
                      "f /src/a/b/x.go 0644 0:0 =a/b/x.go", "f /src/a/y.go 0644 0:0 =a/y.go"}));
}

TEST_F(Flags, ParentsMissingLiteralIsAnError) {
    tree(ctx_, {"f a 0644"});
    CopyRequest req;
    req.parents = true;
    req.sources = {"x/y/z"};
    req.dest = "/app/";
    EXPECT_NE(error_of(req).find("\"x/y/z\": not found"), std::string::npos) << error_of(req);
}

TEST_F(Flags, LinkIgnoresTheParentState) {
    tree(ctx_, {"f a.txt 0644"});
    tree(parent_, {"d data 0755", "l app /data", "d etc 0755"});
    CopyRequest req;
    req.link = true;
    req.sources = {"a.txt"};
    req.dest = "/app/";
    copy(req);
    // Not through the symlink: a real directory in the new layer.
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /app 0755 0:0", "f /app/a.txt 0644 0:0 =a.txt"}));
    // And an existing directory is not seen: the file takes the name.
    fs::remove_all(layer_);
    fs::create_directories(layer_);
    req.dest = "/etc";
    copy(req);
    EXPECT_EQ(join_lines(layer()), sorted_lines({"f /etc 0644 0:0 =a.txt"}));
}

TEST_F(Flags, LinkWithChmodFallsBackToPlainCopy) {
    tree(ctx_, {"f a.txt 0644"});
    tree(parent_, {"d data 0755", "l app /data"});
    CopyRequest req;
    req.link = true;
    req.chmod = "0600";
    req.sources = {"a.txt"};
    req.dest = "/app/";
    copy(req);
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /data 0755 0:0", "f /data/a.txt 0600 0:0 =a.txt"}));
}

TEST_F(Flags, LayerXattrsAreCopiedOverlayOnesAreNot) {
    tree(ctx_, {"f bin 0755"});
    const fs::path f = ctx_ / "bin";
    if (::setxattr(f.c_str(), "user.note", "v1", 2, 0) != 0)
        GTEST_SKIP() << "filesystem has no user xattrs";
    ASSERT_EQ(::setxattr(f.c_str(), "trusted.overlay.origin", "x", 1, 0), 0);
    CopyRequest req;
    req.sources = {"bin"};
    req.dest = "/bin2";
    copy(req);
    char buf[16] = {0};
    ASSERT_EQ(::getxattr((layer_ / "bin2").c_str(), "user.note", buf, sizeof buf), 2);
    EXPECT_EQ(std::string(buf, 2), "v1");
    EXPECT_LT(::getxattr((layer_ / "bin2").c_str(), "trusted.overlay.origin", buf, sizeof buf), 0);
}

TEST_F(Flags, SpecialFilesAndHardlinksFromAStage) {
    fs::path stage_dir = tmp_->path() / "stage";
    tree(stage_dir,
         {"d dev 0755", "f dev/x 0644 5:5", "h dev/y dev/x", "f other 0644", "h other2 other"});
    ASSERT_EQ(::mknod((stage_dir / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::mkfifo((stage_dir / "dev/fifo").c_str(), 0620), 0);
    ASSERT_EQ(::chmod((stage_dir / "dev/fifo").c_str(), 0620), 0);  // past the umask
    LayerStackView stage({stage_dir});
    CopyRequest req;
    req.sources = {"/dev", "/other", "/other2"};
    req.dest = "/d/";
    copy(req, &stage);
    // Hardlinks are kept inside one source; two sources naming the same
    // inode give two files (BuildKit links per source only).
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /d 0755 0:0", "c /d/null 1:3 0:0", "p /d/fifo 0620 0:0",
                            "f /d/other 0644 0:0 =other", "f /d/other2 0644 0:0 =other",
                            "f /d/x 0644 5:5 =dev/x #1", "f /d/y 0644 5:5 =dev/x #1"}));
}

TEST_F(Flags, SelectionForCacheKeys) {
    tree(ctx_, {"d src 0755", "f src/a 0644 1000:1000 =aaa", "f src/b.log 0644", "l src/l a",
                "f top 0600"});
    CopyRequest req;
    req.sources = {"src", "top"};
    req.dest = "/app/";
    req.chmod = "u+x";
    req.excludes = {"*.log"};
    auto sel = select_sources(req, BuildContext(ctx_, frontend::DockerIgnore()));
    std::vector<std::string> got;
    for (const auto& e : sel) {
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", e.mode);
        got.push_back(std::to_string(e.source_index) + " " + e.item + " [" + e.rel + "] " +
                      file_type_name(e.type) + " " + mode + " " + std::to_string(e.uid) + " " +
                      e.link_target + " " + std::to_string(e.size));
    }
    EXPECT_EQ(join_lines(got),
              join_lines({"0 /src [] directory 0755 0  0", "0 /src [a] file 0744 0  3",
                          "0 /src [l] symlink 0777 0 a 0", "1 /top [] file 0700 0  3"}));
    EXPECT_EQ(sel[1].host_path, ctx_ / "src/a");
    // Stages report owners.
    LayerStackView stage({ctx_});
    req.sources = {"src/a"};
    req.chmod.clear();
    auto s2 = select_sources(req, stage);
    ASSERT_EQ(s2.size(), 1u);
    EXPECT_EQ(s2[0].uid, 1000u);
    EXPECT_TRUE(fs::is_empty(layer_));  // selection writes nothing
}

TEST_F(Flags, RefusedInputs) {
    tree(ctx_,
         {"f a 0644", "f .wh.evil 0644", "d d1 0755", "d d1/x 0755", "d d2 0755", "f d2/x 0644"});
    CopyRequest req;
    req.dest = "/x/";
    req.sources = {"http://127.0.0.1:1/f"};
    EXPECT_NE(error_of(req).find("source can't be a URL for COPY"), std::string::npos);
    req.sources = {"a"};
    req.checksum = "sha256:" + std::string(64, '0');
    EXPECT_NE(error_of(req).find("checksum can't be specified for COPY"), std::string::npos);
    req.checksum.clear();
    req.is_add = true;
    req.keep_git_dir = true;
    EXPECT_NE(error_of(req).find("--keep-git-dir"), std::string::npos);
    req.keep_git_dir = false;
    // A Git source is fetched (nothing listens on port 1 of 127.0.0.1);
    // COPY refuses one.
    req.sources = {"git://127.0.0.1:1/repo.git"};
    EXPECT_NE(error_of(req).find("error fetching default branch for repository "
                                 "git://127.0.0.1:1/repo.git"),
              std::string::npos);
    req.is_add = false;
    EXPECT_NE(error_of(req).find("source can't be a Git URL for COPY"), std::string::npos);
    req.sources = {".wh.evil"};
    EXPECT_NE(error_of(req).find("reserved for layer whiteouts"), std::string::npos);
    req.sources = {"d1", "d2"};
    EXPECT_NE(error_of(req).find("cannot replace directory /x/x with a file"), std::string::npos);
    req.sources = {"a"};
    req.chmod = "u+z";
    EXPECT_NE(error_of(req).find("invalid chmod parameter: 'u+z'"), std::string::npos);
}

}  // namespace
}  // namespace strata::executor
