// `strata build` through the real binary: flags, the context from a
// directory, a tar or a bare Dockerfile on stdin, plain progress, quiet
// output, --iidfile, --metadata-file, --explain, and the error messages.
#include <gtest/gtest.h>
#include <sys/time.h>

#include <chrono>
#include <thread>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class BuildCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        write_file(ctx_ / "a.txt", "alpha\n");
        write_file(ctx_ / "sub/b.txt", "beta\n");
        write_file(ctx_ / "Dockerfile",
                   "FROM busybox\nARG GREETING=hi\nCOPY a.txt /a.txt\nCOPY sub /sub/\n"
                   "LABEL greeting=${GREETING}\n");
    }
    RunResult build(std::vector<std::string> args, const std::string& input = {},
                    const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), "build");
        return strata(root_, std::move(args), input, env);
    }
    fs::path ctx_;
};

TEST_F(BuildCli, QuietPrintsTheImageIdAndTagsIt) {
    auto r = build({"-q", "-t", "app:1", "-t", "app:latest", ctx_.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(r.out.size(), 72u) << r.out;  // "sha256:<64>\n"
    EXPECT_EQ(r.out.rfind("sha256:", 0), 0u);
    EXPECT_EQ(r.err, "");
    auto images = run_ok({"images"});
    EXPECT_NE(images.out.find("app          1"), std::string::npos) << images.out;
    EXPECT_NE(images.out.find(r.out.substr(7, 12)), std::string::npos) << images.out;
    auto inspect = run_ok({"inspect", "app:1"});
    auto j = nlohmann::json::parse(inspect.out);
    EXPECT_EQ(j[0]["Id"], r.out.substr(0, 71));
    EXPECT_EQ(j[0]["Config"]["Labels"]["greeting"], "hi");
}

TEST_F(BuildCli, PlainProgressNumbersStepsAndShowsCachedOnRebuild) {
    auto r = build({"--progress", "plain", "-t", "app", ctx_.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("#1 [internal] load build definition from Dockerfile"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("[1/3] FROM docker.io/library/busybox:latest"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("[2/3] COPY a.txt /a.txt"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("DONE"), std::string::npos);
    EXPECT_NE(r.err.find("naming to docker.io/library/app:latest done"), std::string::npos);
    EXPECT_NE(r.err.find("Built sha256:"), std::string::npos);
    EXPECT_NE(r.err.find("(2 steps run, 0 cached): app:latest"), std::string::npos) << r.err;
    auto again = build({"--progress=plain", "-t", "app", ctx_.string()});
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_NE(again.err.find("#6 CACHED"), std::string::npos) << again.err;
    EXPECT_NE(again.err.find("(0 steps run, 2 cached)"), std::string::npos) << again.err;
}

// The parse a build keeps (cache/parsed/): the next build of the same
// Dockerfile takes it, warnings included; `prune --build-cache` removes it.
TEST_F(BuildCli, AKeptParseGivesTheSameWarningsAndPruneRemovesIt) {
    write_file(ctx_ / "Dockerfile", "FROM busybox\nRUN echo a \\\n\n  b\nCOPY a.txt /a\n");
    const fs::path parsed = root_ / "cache" / "parsed";
    for (int i = 0; i < 2; ++i) {
        write_file(ctx_ / "a.txt", "edit " + std::to_string(i) + "\n");
        auto r = build({"--progress", "plain", "-t", "app", ctx_.string()});
        ASSERT_EQ(r.code, 0) << r.err;
        EXPECT_NE(r.err.find("empty continuation line"), std::string::npos) << i << r.err;
        EXPECT_EQ(std::distance(fs::directory_iterator(parsed), fs::directory_iterator()), 1);
    }
    auto p = run_ok({"prune", "--build-cache"});
    EXPECT_NE(p.out.find("parsed Dockerfiles"), std::string::npos) << p.out;
    EXPECT_EQ(std::distance(fs::directory_iterator(parsed), fs::directory_iterator()), 0);
}

// A COPY's layer keeps an index of where its files are in the blob; the
// next build of the step reads the unchanged files from there and says so.
// `prune` keeps the index while the blob stays, `prune --build-cache`
// removes it.
TEST_F(BuildCli, ACopyReadsUnchangedFilesFromItsLastLayerAndPruneRemovesTheIndex) {
    for (int i = 0; i < 10; ++i)
        write_file(ctx_ / "many" / ("f" + std::to_string(i)), "file " + std::to_string(i) + "\n");
    write_file(ctx_ / "Dockerfile", "FROM busybox\nCOPY many /many\n");
    const fs::path index = root_ / "cache" / "copy-index";
    // Only files older than the stat cache's racy margin (2 s) are trusted.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    auto first = build({"--progress", "plain", "-t", "app", ctx_.string()});
    ASSERT_EQ(first.code, 0) << first.err;
    EXPECT_EQ(first.err.find("unchanged files read"), std::string::npos) << first.err;
    EXPECT_EQ(std::distance(fs::directory_iterator(index), fs::directory_iterator()), 1);
    write_file(ctx_ / "many" / "f3", "changed\n");
    auto second = build({"--progress", "plain", "--no-cache", "-t", "app", ctx_.string()});
    ASSERT_EQ(second.code, 0) << second.err;
    EXPECT_NE(second.err.find("(9 unchanged files read from the last build's layer)"),
              std::string::npos)
        << second.err;
    EXPECT_EQ(run_ok({"run", "--rm", "app", "cat", "/many/f3", "/many/f4"}).out,
              "changed\nfile 4\n");

    run_ok({"prune"});
    EXPECT_EQ(std::distance(fs::directory_iterator(index), fs::directory_iterator()), 2)
        << "both layers are still held (the image, the cache)";
    auto p = run_ok({"prune", "--build-cache"});
    EXPECT_NE(p.out.find("COPY indexes of layers"), std::string::npos) << p.out;
    EXPECT_EQ(std::distance(fs::directory_iterator(index), fs::directory_iterator()), 0);
}

// RUN's cache mounts outlive builds and `prune`; `prune --build-cache`
// removes them, as `docker builder prune` removes BuildKit's. What a killed
// from= seeding left (`.seed-*`) goes with any prune.
TEST_F(BuildCli, PruneBuildCacheRemovesCacheMounts) {
    write_file(ctx_ / "Dockerfile",
               "FROM busybox\nRUN --mount=type=cache,id=pkgs,target=/c "
               "echo kept > /c/stamp\n");
    ASSERT_EQ(build({"-q", "-t", "app", ctx_.string()}).code, 0);
    const fs::path mounts = root_ / "cache" / "mounts";
    write_file(mounts / ".seed-Xk3Lq9" / "half", "a killed seeding's\n");

    auto p = run_ok({"prune"});
    EXPECT_NE(p.out.find("Deleted: unfinished cache mount .seed-Xk3Lq9"), std::string::npos)
        << p.out;
    ASSERT_EQ(std::distance(fs::directory_iterator(mounts), fs::directory_iterator()), 1);

    write_file(ctx_ / "Dockerfile",
               "FROM busybox\nRUN --mount=type=cache,id=pkgs,target=/c ls -A /c > /after\n");
    ASSERT_EQ(build({"-q", "-t", "kept", ctx_.string()}).code, 0);
    EXPECT_NE(run_ok({"run", "--rm", "kept", "cat", "/after"}).out, "") << "prune kept the cache";

    // What a step left in a cache is removed, never followed: a link out of
    // the cache (as a RUN step can make one) leaves its target alone.
    const fs::path outside = dir_.path() / "outside";
    write_file(outside / "keep", "not the cache's\n");
    fs::create_directory_symlink(outside, fs::directory_iterator(mounts)->path() / "escape");
    p = run_ok({"prune", "--build-cache"});
    EXPECT_NE(p.out.find("Deleted: cache mount "), std::string::npos) << p.out;
    EXPECT_EQ(std::distance(fs::directory_iterator(mounts), fs::directory_iterator()), 0);
    EXPECT_TRUE(fs::exists(outside / "keep"));
    // The step runs again (its cache entry went too) and finds the cache empty.
    ASSERT_EQ(build({"-q", "-t", "emptied", ctx_.string()}).code, 0);
    EXPECT_EQ(run_ok({"run", "--rm", "emptied", "cat", "/after"}).out, "");
}

TEST_F(BuildCli, DockerfileFromStdinWithADirectoryContext) {
    auto r = build({"-q", "-f", "-", ctx_.string()}, "FROM busybox\nCOPY sub/b.txt /b\n");
    ASSERT_EQ(r.code, 0) << r.err;
}

TEST_F(BuildCli, BareDockerfileOnStdinHasAnEmptyContext) {
    auto r = build({"-q", "-t", "bare", "-"}, "FROM busybox\nENV X=1\n");
    ASSERT_EQ(r.code, 0) << r.err;
    auto fail = build({"-q", "-"}, "FROM busybox\nCOPY a.txt /\n");
    EXPECT_EQ(fail.code, 1);
    EXPECT_NE(fail.err.find("not found in the build context"), std::string::npos) << fail.err;
}

TEST_F(BuildCli, ContextTarOnStdin) {
    TarBuilder t(/*gzip=*/true);
    t.file("Dockerfile.app", "FROM busybox\nCOPY in/x.txt /x\n").dir("in").file("in/x.txt", "x\n");
    auto r = build({"-q", "-t", "fromtar", "-f", "Dockerfile.app", "-"}, t.finish());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(tmp_is_empty(root_)) << "the unpacked context is gone";
    auto both = build({"-f", "-", "-"}, "FROM busybox\n");
    EXPECT_EQ(both.code, 1);
    EXPECT_NE(both.err.find("both build context and dockerfile"), std::string::npos) << both.err;
}

TEST_F(BuildCli, IidfileAndMetadataFile) {
    const fs::path iid = dir_.path() / "iid";
    const fs::path meta = dir_.path() / "meta.json";
    auto r = build({"-q", "--iidfile", iid.string(), "--metadata-file", meta.string(), "-t", "m",
                    ctx_.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(read_file(iid) + "\n", r.out);
    auto j = nlohmann::json::parse(read_file(meta));
    EXPECT_EQ(j["containerimage.config.digest"], r.out.substr(0, 71));
    EXPECT_EQ(j["containerimage.digest"].get<std::string>().rfind("sha256:", 0), 0u);
    EXPECT_EQ(j["image.name"], "docker.io/library/m:latest");
    int built = 0;
    for (const auto& s : j["strata.build"]["steps"]) {
        if (s["outcome"] == "built") ++built;
        EXPECT_EQ(s["cache_key"].get<std::string>().rfind("sha256:", 0), 0u);
    }
    EXPECT_EQ(built, 2);
    build({"-q", "--metadata-file", meta.string(), ctx_.string()});
    j = nlohmann::json::parse(read_file(meta));
    for (const auto& s : j["strata.build"]["steps"])
        EXPECT_NE(s["outcome"], "built") << s.dump();
}

TEST_F(BuildCli, BuildArgsTargetLabelsAndNoCache) {
    write_file(ctx_ / "Dockerfile",
               "FROM busybox AS one\nARG GREETING\nLABEL g=${GREETING}\nCOPY a.txt /\n"
               "FROM one AS two\nCOPY sub /sub\n");
    auto r = build({"-q", "-t", "t", "--target", "one", "--build-arg", "GREETING", "--label",
                    "extra=yes", ctx_.string()},
                   "", {{"GREETING", "from-env"}});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = nlohmann::json::parse(run_ok({"inspect", "t"}).out);
    EXPECT_EQ(j[0]["Config"]["Labels"]["g"], "from-env");
    EXPECT_EQ(j[0]["Config"]["Labels"]["extra"], "yes");
    EXPECT_EQ(j[0]["RootFS"]["Layers"].size(), 2u) << "stage two was not built";

    auto nc = build({"--progress", "plain", "--no-cache", "--target", "one", "--build-arg",
                     "GREETING=from-env", ctx_.string()});
    ASSERT_EQ(nc.code, 0) << nc.err;
    EXPECT_EQ(nc.err.find("CACHED"), std::string::npos) << nc.err;

    auto bad = build({"--target", "nope", ctx_.string()});
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("nope"), std::string::npos) << bad.err;
}

TEST_F(BuildCli, SourceDateEpochFlagAndEnvironment) {
    auto a = build({"-q", "--source-date-epoch", "1700000000", ctx_.string()});
    ASSERT_EQ(a.code, 0) << a.err;
    auto b = build({"-q", "--no-cache", ctx_.string()}, "", {{"SOURCE_DATE_EPOCH", "1700000000"}});
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_EQ(a.out, b.out) << "rebuilt from scratch, same image";
    auto bad = build({"--source-date-epoch", "yesterday", ctx_.string()});
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("--source-date-epoch"), std::string::npos) << bad.err;
}

TEST_F(BuildCli, ExplainNamesTheChangedFileAndArg) {
    ASSERT_EQ(build({"-q", ctx_.string()}).code, 0);
    write_file(ctx_ / "sub/b.txt", "beta two\n");
    auto r =
        build({"--explain", "--progress", "plain", "--build-arg", "GREETING=hey", ctx_.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("explain: file changed: sub/b.txt"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("file changed: a.txt"), std::string::npos) << r.err;
    auto q = build({"--explain", "-q", "--build-arg", "GREETING=again", ctx_.string()});
    ASSERT_EQ(q.code, 0) << q.err;
    EXPECT_EQ(q.err, "") << "nothing missed the cache, nothing to explain";
}

TEST_F(BuildCli, ErrorsAreClearAndExitOne) {
    auto missing = build({"-q", (dir_.path() / "nowhere").string()});
    EXPECT_EQ(missing.code, 1);
    EXPECT_NE(missing.err.find("unable to prepare context"), std::string::npos) << missing.err;

    auto tag = build({"-q", "-t", "Bad:Tag:x", ctx_.string()});
    EXPECT_EQ(tag.code, 1);
    EXPECT_NE(tag.err.find("invalid tag"), std::string::npos) << tag.err;

    write_file(ctx_ / "Dockerfile", "FROM busybox\nCOPY --chwon=1 a.txt /\n");
    auto flag = build({"-q", ctx_.string()});
    EXPECT_EQ(flag.code, 1);
    EXPECT_NE(flag.err.find("Dockerfile:2:6: error:"), std::string::npos) << flag.err;
    EXPECT_NE(flag.err.find("COPY --chwon=1 a.txt /"), std::string::npos) << flag.err;
    EXPECT_NE(flag.err.find("^"), std::string::npos) << flag.err;

    write_file(ctx_ / "Dockerfile", "FROM busybox\nCOPY missing.txt /\n");
    auto src = build({"-q", ctx_.string()});
    EXPECT_EQ(src.code, 1);
    EXPECT_NE(src.err.find("Dockerfile:2:1: error: COPY failed"), std::string::npos) << src.err;

    auto bad_progress = build({"--progress", "fancy", ctx_.string()});
    EXPECT_NE(bad_progress.code, 0);
    EXPECT_TRUE(tmp_is_empty(root_));
}

}  // namespace
}  // namespace strata::imagetest
