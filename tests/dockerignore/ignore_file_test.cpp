// Choosing and reading the ignore file: <Dockerfile>.dockerignore takes
// precedence over <context>/.dockerignore.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.hpp"
#include "frontend/dockerignore.hpp"

namespace fs = std::filesystem;
using strata::Error;
using strata::ErrorKind;
using strata::frontend::DockerIgnore;
using strata::frontend::find_ignore_file;
using strata::frontend::load_dockerignore;
using strata::frontend::read_ignore_file;

namespace {

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "strata-dockerignore-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

TEST(DockerIgnoreFile, NoFileMeansNoPatterns) {
    TempDir tmp;
    const fs::path ctx = tmp.path() / "ctx";
    fs::create_directories(ctx);
    EXPECT_FALSE(find_ignore_file(ctx, ctx / "Dockerfile").has_value());
    const DockerIgnore ig = load_dockerignore(ctx, ctx / "Dockerfile");
    EXPECT_TRUE(ig.empty());
    EXPECT_FALSE(ig.excluded("anything"));
}

TEST(DockerIgnoreFile, ContextDockerignore) {
    TempDir tmp;
    const fs::path ctx = tmp.path() / "ctx";
    write(ctx / ".dockerignore", "*.log\n");
    EXPECT_EQ(find_ignore_file(ctx, ctx / "Dockerfile"), ctx / ".dockerignore");
    EXPECT_EQ(find_ignore_file(ctx, fs::path()), ctx / ".dockerignore");  // Dockerfile on stdin
    const DockerIgnore ig = load_dockerignore(ctx, ctx / "Dockerfile");
    EXPECT_TRUE(ig.excluded("a.log"));
    EXPECT_EQ(ig.source(), (ctx / ".dockerignore").string());
}

TEST(DockerIgnoreFile, DockerfileSpecificFileWins) {
    TempDir tmp;
    const fs::path ctx = tmp.path() / "ctx";
    write(ctx / ".dockerignore", "*.log\n");
    write(ctx / "build" / "app.Dockerfile", "FROM scratch\n");
    write(ctx / "build" / "app.Dockerfile.dockerignore", "*.tmp\n");
    const fs::path dockerfile = ctx / "build" / "app.Dockerfile";
    EXPECT_EQ(find_ignore_file(ctx, dockerfile), ctx / "build" / "app.Dockerfile.dockerignore");
    const DockerIgnore ig = load_dockerignore(ctx, dockerfile);
    EXPECT_TRUE(ig.excluded("a.tmp"));
    EXPECT_FALSE(ig.excluded("a.log"));  // the context's file is not merged in
    // Another Dockerfile in the same context falls back to .dockerignore.
    EXPECT_EQ(find_ignore_file(ctx, ctx / "build" / "other.Dockerfile"), ctx / ".dockerignore");
}

TEST(DockerIgnoreFile, DockerfileOutsideTheContext) {
    TempDir tmp;
    const fs::path ctx = tmp.path() / "ctx";
    fs::create_directories(ctx);
    write(tmp.path() / "dockerfiles" / "Dockerfile.dockerignore", "secret\n");
    const DockerIgnore ig = load_dockerignore(ctx, tmp.path() / "dockerfiles" / "Dockerfile");
    EXPECT_TRUE(ig.excluded("secret"));
}

TEST(DockerIgnoreFile, EmptySpecificFileStillWins) {
    TempDir tmp;
    const fs::path ctx = tmp.path() / "ctx";
    write(ctx / ".dockerignore", "*\n");
    write(ctx / "Dockerfile.dockerignore", "");
    const DockerIgnore ig = load_dockerignore(ctx, ctx / "Dockerfile");
    EXPECT_TRUE(ig.empty());
    EXPECT_FALSE(ig.excluded("x"));
}

TEST(DockerIgnoreFile, OnlyRegularFilesCount) {
    TempDir tmp;
    const fs::path ctx = tmp.path() / "ctx";
    write(ctx / ".dockerignore", "x\n");
    fs::create_directories(ctx / "Dockerfile.dockerignore");  // a directory: ignored
    EXPECT_EQ(find_ignore_file(ctx, ctx / "Dockerfile"), ctx / ".dockerignore");
    fs::create_symlink("missing-target", ctx / "other.Dockerfile.dockerignore");
    EXPECT_EQ(find_ignore_file(ctx, ctx / "other.Dockerfile"), ctx / ".dockerignore");
    write(ctx / "real.ignore", "y\n");
    fs::create_symlink("real.ignore", ctx / "linked.Dockerfile.dockerignore");
    EXPECT_EQ(find_ignore_file(ctx, ctx / "linked.Dockerfile"),
              ctx / "linked.Dockerfile.dockerignore");
}

TEST(DockerIgnoreFile, ErrorsNameTheFile) {
    TempDir tmp;
    const fs::path file = tmp.path() / "app.Dockerfile.dockerignore";
    write(file, "ok\r\n\r\nbad[\r\n");
    try {
        (void)read_ignore_file(file);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kParse);
        EXPECT_EQ(std::string(e.what()),
                  file.string() + ":3: invalid pattern \"bad[\": syntax error in pattern");
    }
    try {
        (void)read_ignore_file(tmp.path() / "missing");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kSystem);
        EXPECT_NE(std::string(e.what()).find((tmp.path() / "missing").string()), std::string::npos)
            << e.what();
    }
}

}  // namespace
