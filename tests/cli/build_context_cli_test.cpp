// `strata build --build-context NAME=DIR|docker-image://REF`: named contexts
// built for real — a directory read with its own .dockerignore, owned by
// 0:0, keyed by its content (a changed file is rebuilt, an unchanged one is a
// cache hit: a fully cached build is not answered from a summary that cannot
// see the directory), an image pinned in place of a FROM name, a stage
// replaced, and the refusals.
#include <gtest/gtest.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class BuildContextCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        other_ = dir_.path() / "other";
        fs::create_directories(ctx_);
        fs::create_directories(other_ / "sub");
        write_file(ctx_ / "main.txt", "main\n");
        write_file(ctx_ / ".dockerignore", "a.txt\n");  // not the named context's
        write_file(other_ / "a.txt", "a\n");
        write_file(other_ / "sub/b.txt", "b\n");
        write_file(other_ / "secret.env", "TOKEN=1\n");
        write_file(other_ / ".dockerignore", "secret.env\n");
    }
    RunResult build(const std::string& dockerfile, std::vector<std::string> args) {
        write_file(ctx_ / "Dockerfile", dockerfile);
        args.insert(args.begin(), {"build", "--progress", "plain"});
        args.push_back(ctx_.string());
        return strata(root_, std::move(args));
    }
    std::string cat(const std::string& image, const std::string& command) {
        return run_ok({"run", "--rm", "--network", "none", image, "sh", "-c", command}).out;
    }
    fs::path ctx_, other_;
};

TEST_F(BuildContextCli, CopyFromADirectoryWithItsOwnDockerignore) {
    const std::string df =
        "FROM busybox\n"
        "COPY --from=src . /src/\n"
        "COPY main.txt /\n";
    auto r = build(df, {"--build-context", "src=" + other_.string(), "-t", "app"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("[context src] load from client"), std::string::npos) << r.err;
    EXPECT_EQ(cat("app", "cat /src/a.txt /src/sub/b.txt /main.txt"), "a\nb\nmain\n");
    EXPECT_EQ(cat("app", "test -e /src/secret.env && echo leaked; stat -c %u:%g /src/a.txt"),
              "0:0\n");

    // Unchanged: every step cached; one file changed: that COPY runs again.
    r = build(df, {"--build-context", "src=" + other_.string(), "-t", "app"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("(0 steps run, 2 cached)"), std::string::npos) << r.err;
    write_file(other_ / "sub/b.txt", "b2\n");
    r = build(df, {"--build-context", "src=" + other_.string(), "-t", "app"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("(2 steps run, 0 cached)"), std::string::npos) << r.err;
    EXPECT_EQ(cat("app", "cat /src/sub/b.txt"), "b2\n");
    // An ignored file changed: nothing to do.
    write_file(other_ / "secret.env", "TOKEN=2\n");
    r = build(df, {"--build-context", "src=" + other_.string(), "-t", "app"});
    EXPECT_NE(r.err.find("(0 steps run, 2 cached)"), std::string::npos) << r.err;
}

TEST_F(BuildContextCli, FromADirectoryAndAMountOfIt) {
    // The rootfs itself as a named context: FROM it, and a RUN that reads
    // the other directory through a mount.
    const fs::path rootfs = dir_.path() / "rootfs";
    fs::create_directories(rootfs);
    ASSERT_EQ(std::system(("tar -xf " + tar_.string() + " -C " + rootfs.string()).c_str()), 0);
    auto r = build(
        "FROM tools\n"
        "RUN --mount=from=src,target=/m cat /m/a.txt > /copied\n",
        {"--build-context", "tools=" + rootfs.string(), "--build-context", "src=" + other_.string(),
         "-t", "fromdir"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("fromdir", "cat /copied"), "a\n");
    const auto history = run_ok({"history", "--no-trunc", "fromdir"});
    EXPECT_NE(history.out.find("local source for context:tools"), std::string::npos) << history.out;
}

TEST_F(BuildContextCli, AnImagePinnedInPlaceOfAFromName) {
    run_ok({"tag", "busybox", "pinned/busybox:1"});
    // No image "alpine" in the store or anywhere: the context stands in.
    auto r = build("FROM alpine\nRUN echo built > /b\n",
                   {"--build-context", "alpine=docker-image://pinned/busybox:1", "-t", "pin"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("[context alpine] docker.io/pinned/busybox:1"), std::string::npos)
        << r.err;
    EXPECT_EQ(cat("pin", "cat /b"), "built\n");
}

TEST_F(BuildContextCli, AStageOfTheNameIsReplaced) {
    const std::string df =
        "FROM busybox AS deps\n"
        "RUN exit 3\n"
        "FROM busybox\n"
        "COPY --from=deps a.txt /\n";
    auto r = build(df, {"-t", "nope"});
    EXPECT_NE(r.code, 0) << "without the context the stage's RUN fails";
    r = build(df, {"--build-context", "deps=" + other_.string(), "-t", "replaced"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("exit 3"), std::string::npos) << r.err;
    EXPECT_EQ(cat("replaced", "cat /a.txt"), "a\n");
}

// Paths relative to the working directory, for the context and a named one:
// a RUN's bind mounts of them are made from elsewhere (it failed with "open
// the root of the mount on /c" before strata made the paths absolute).
TEST_F(BuildContextCli, RelativePathsAreMountedToo) {
    write_file(
        ctx_ / "Dockerfile",
        "FROM busybox\n"
        "RUN --mount=target=/c --mount=from=src,target=/s cat /c/main.txt /s/a.txt > /both\n");
    const std::string command = "cd " + dir_.path().string() + " && exec " + STRATA_BINARY +
                                " --root " + root_.string() +
                                " build -q --build-context src=other -t rel ctx";
    auto r = run({"/bin/sh", "-c", command});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("rel", "cat /both"), "main\na\n");
}

TEST_F(BuildContextCli, BadValuesAreRefused) {
    write_file(dir_.path() / "file", "x");
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"src", "invalid context value: src, expected key=value"},
        {"Src=" + other_.string(), "invalid context name Src: invalid reference format"},
        {"src=" + (dir_.path() / "missing").string(), "failed to get build context src: path"},
        {"src=" + (dir_.path() / "file").string(), "not a directory"},
        {"src=http://user:s3cret@127.0.0.1:1/context.tar.gz",
         "load build context http://user:xxxxx@127.0.0.1:1/context.tar.gz: download failed"},
        {"src=oci-layout:///srv/layout@sha256:abc", "oci-layout:// and target: sources"},
        {"src=docker-image://Bad", "invalid reference format"},
    };
    for (const auto& [value, message] : rows) {
        auto r = build("FROM busybox\n", {"--build-context", value});
        EXPECT_EQ(r.code, 1) << value;
        EXPECT_NE(r.err.find(message), std::string::npos) << value << ": " << r.err;
        EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << "a password in an error";
    }
}

}  // namespace
}  // namespace strata::imagetest
