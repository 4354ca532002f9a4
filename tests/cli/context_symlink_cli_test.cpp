// A build context is untrusted (a repository nobody reviewed, a tar on
// stdin): its Dockerfile and .dockerignore are read inside it, so symlinks
// in it cannot make strata read — and echo in an error — a host file.
#include <gtest/gtest.h>
#include <unistd.h>

#include "cli/image_cli_fixture.hpp"

namespace strata::imagetest {
namespace {

class ContextSymlinkCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ctx_ = dir_.path() / "ctx";
        fs::create_directories(ctx_);
        // A host file outside the context whose lines would be a parse error.
        host_ = dir_.path() / "host-secret";
        write_file(host_, "HOSTMARKER-7d1e not-an-instruction\n");
    }
    RunResult build(std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), "build");
        return strata(root_, std::move(args), input);
    }
    fs::path ctx_, host_;
};

TEST_F(ContextSymlinkCli, ADockerfileSymlinkedOutOfTheContextIsNotRead) {
    fs::create_symlink(host_, ctx_ / "Dockerfile");
    auto r = build({ctx_.string()});
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(r.err.find("HOSTMARKER"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is not a file in the context"), std::string::npos) << r.err;
    // Inside the context, a symlink to another file of it is followed.
    fs::remove(ctx_ / "Dockerfile");
    write_file(ctx_ / "real.Dockerfile", "FROM scratch\nLABEL a=b\n");
    fs::create_symlink("real.Dockerfile", ctx_ / "Dockerfile");
    r = build({"-q", ctx_.string()});
    EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(ContextSymlinkCli, AnAbsoluteSymlinkMeansThePathInsideTheContext) {
    // "/Dockerfile" inside the context is the context's own Dockerfile.
    write_file(ctx_ / "x/Dockerfile", "FROM scratch\nLABEL where=inside\n");
    fs::create_symlink("/x/Dockerfile", ctx_ / "Dockerfile");
    auto r = build({"-q", "-t", "in:1", ctx_.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(run_ok({"inspect", "in:1"}).out.find("inside"), std::string::npos);
}

TEST_F(ContextSymlinkCli, ADockerignoreSymlinkedOutOfTheContextIsNotRead) {
    write_file(ctx_ / "Dockerfile", "FROM scratch\nCOPY . /\n");
    write_file(ctx_ / "keep.txt", "k\n");
    // A host ignore file that would hide keep.txt, and a bad pattern line
    // that would fail the build naming its text.
    write_file(host_, "keep.txt\nHOSTMARKER[\n");
    fs::create_symlink(host_, ctx_ / ".dockerignore");
    auto r = build({"--progress", "plain", "-t", "ign:1", ctx_.string()});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("HOSTMARKER"), std::string::npos) << r.err;
}

TEST_F(ContextSymlinkCli, ATarContextOnStdinCannotPointItsDockerfileAtTheHost) {
    // A tar whose Dockerfile is a symlink to the host file.
    const fs::path src = dir_.path() / "tarsrc";
    fs::create_directories(src);
    fs::create_symlink(host_, src / "Dockerfile");
    const fs::path tar = dir_.path() / "ctx.tar";
    ASSERT_EQ(
        std::system(("tar -C " + src.string() + " -cf " + tar.string() + " Dockerfile").c_str()),
        0);
    auto r = build({"-"}, read_file(tar));
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(r.err.find("HOSTMARKER"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::imagetest
