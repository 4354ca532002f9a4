// HTTP(S) contexts as BuildKit reads them, served on 127.0.0.1: a tarball
// URL is unpacked as the context (no .dockerignore applies, -f names a file
// inside it, "dockerfile" is the fallback), any other file is the Dockerfile
// alone (the context holds it as "context"), a named HTTP context is the
// downloaded file itself (mode 0600, the Last-Modified time); failures say
// which download failed, never with the URL's password, and leave nothing
// in the store's tmp/.
#include <gtest/gtest.h>

#include "cli/image_cli_fixture.hpp"
#include "support/http_server.hpp"

namespace strata::imagetest {
namespace {

using testsupport::TestHttpServer;

class HttpContextCli : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        const fs::path src = dir_.path() / "src";
        write_file(src / "Dockerfile", "FROM busybox\nCOPY . /src/\n");
        write_file(src / "ignored", "served anyway\n");
        write_file(src / ".dockerignore", "ignored\n");
        write_file(src / "sub/Dockerfile.alt", "FROM busybox\nCOPY ignored /alt\n");
        tarball_ = make_tar(src, "z");
        const fs::path lower = dir_.path() / "lower";
        write_file(lower / "dockerfile", "FROM busybox\nCOPY dockerfile /lower\n");
        lower_tarball_ = make_tar(lower, "");
    }
    std::string make_tar(const fs::path& dir, const std::string& z) {
        const fs::path out = dir_.path() / "out.tar";
        auto r = run({"/bin/tar", "-C", dir.string(), "-c" + z + "f", out.string(), "."});
        EXPECT_EQ(r.code, 0) << r.err;
        return read_file(out);
    }
    RunResult build(std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), {"build", "--progress", "plain"});
        return strata(root_, std::move(args), input);
    }
    std::string cat(const std::string& image, const std::string& command) {
        return run_ok({"run", "--rm", "--network", "none", image, "sh", "-c", command}).out;
    }

    TestHttpServer http_;
    std::string tarball_, lower_tarball_;
};

TEST_F(HttpContextCli, ATarballIsTheContext) {
    http_.route("/ctx.tar.gz", {200, tarball_});
    auto r = build({"-t", "t1", http_.url("/ctx.tar.gz")});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("[internal] load remote build context"), std::string::npos) << r.err;
    EXPECT_EQ(cat("t1", "cat /src/ignored; ls -a /src"),
              "served anyway\n.\n..\n.dockerignore\nDockerfile\nignored\nsub\n")
        << "no .dockerignore applies to a remote context, as in BuildKit";

    r = build({"-t", "t2", "-f", "sub/Dockerfile.alt", http_.url("/ctx.tar.gz")});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("t2", "cat /alt"), "served anyway\n") << "-f names a file inside the tarball";

    http_.route("/lower.tar", {200, lower_tarball_});
    r = build({"-t", "t3", http_.url("/lower.tar")});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(cat("t3", "cat /lower").find("COPY dockerfile /lower"), std::string::npos)
        << "a lower-case dockerfile when there is no Dockerfile";

    r = build({"-f", "missing/Dockerfile", http_.url("/ctx.tar.gz")});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("failed to read dockerfile: missing/Dockerfile is not a file in " +
                         http_.url("/ctx.tar.gz")),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(tmp_is_empty(root_)) << "the download and the unpacked context are removed";
}

// A served tarball is untrusted: an entry that climbs out of the context is
// refused by the shared layer unpacker (store::apply_layer, whose own tests
// try links too), and nothing lands outside the context.
TEST_F(HttpContextCli, ATarballCannotWriteOutsideTheContext) {
    const fs::path made = dir_.path() / "hostile.tar";
    auto r = run({"/usr/bin/python3", "-c",
                  "import io,sys,tarfile\n"
                  "t=tarfile.open(sys.argv[1],'w')\n"
                  "def add(name,data=b''):\n"
                  "  i=tarfile.TarInfo(name)\n"
                  "  i.size=len(data)\n"
                  "  t.addfile(i,io.BytesIO(data))\n"
                  "add('Dockerfile',b'FROM busybox\\n')\n"
                  "add(sys.argv[2])\n"
                  "t.close()\n",
                  made.string(), "../../../escaped-" + std::to_string(::getpid())});
    ASSERT_EQ(r.code, 0) << r.err;
    http_.route("/hostile.tar", {200, read_file(made)});
    r = build({http_.url("/hostile.tar")});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("reading the build context from " + http_.url("/hostile.tar")),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(root_.parent_path() / ("escaped-" + std::to_string(::getpid()))));
    EXPECT_TRUE(tmp_is_empty(root_));
}

TEST_F(HttpContextCli, AnyOtherFileIsTheDockerfile) {
    http_.route("/Dockerfile", {200, "FROM busybox\nCOPY context /got\n"});
    auto r = build({"-t", "d1", http_.url("/Dockerfile")});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cat("d1", "cat /got; stat -c %a /got"), "FROM busybox\nCOPY context /got\n600\n")
        << "the context holds the download as the file 'context', as BuildKit's";

    http_.route("/bad", {200, "FROM busybox\nCOPY\n"});
    r = build({http_.url("/bad")});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find(http_.url("/bad") + ":2"), std::string::npos)
        << "errors point into the URL's file: " << r.err;

    r = build({"-f", "other/Dockerfile", http_.url("/Dockerfile")});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("is no tar archive, so it is the Dockerfile"), std::string::npos) << r.err;
    r = build({"-t", "d2", "-f", "-", http_.url("/Dockerfile")}, "FROM busybox\nCOPY context /c\n");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(cat("d2", "cat /c").find("COPY context /got"), std::string::npos)
        << "-f - reads the Dockerfile from stdin, the download stays the context";
    EXPECT_TRUE(tmp_is_empty(root_));
}

TEST_F(HttpContextCli, ANamedContextIsTheDownloadedFile) {
    TestHttpServer::Route route{200, tarball_, "Wed, 21 Oct 2015 07:28:00 GMT"};
    http_.route("/ctx.tar.gz", route);
    const fs::path ctx = dir_.path() / "local";
    write_file(ctx / "Dockerfile", "FROM busybox\nCOPY --from=dl context /dl.tgz\n");
    auto r = build({"--build-context", "dl=" + http_.url("/ctx.tar.gz"), "-t", "n1", ctx.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("[context dl] " + http_.url("/ctx.tar.gz")), std::string::npos) << r.err;
    EXPECT_EQ(cat("n1", "stat -c '%a %Y %s' /dl.tgz"),
              "600 1445412480 " + std::to_string(tarball_.size()) + "\n")
        << "not unpacked: the file, with the response's Last-Modified";
    EXPECT_EQ(run_ok({"run", "--rm", "--network", "none", "n1", "cat", "/dl.tgz"}).out, tarball_);
}

TEST_F(HttpContextCli, FailuresNameTheDownloadNeverThePassword) {
    const std::string secret_url = "http://user:s3cret@127.0.0.1:" + std::to_string(http_.port());
    const std::string shown = "http://user:xxxxx@127.0.0.1:" + std::to_string(http_.port());
    http_.route("/gone.tar", {404, "no"});
    auto r = build({secret_url + "/gone.tar"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("load build context " + shown + "/gone.tar: invalid response status 404"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << "a password in an error";
    EXPECT_NE(http_.last_request("/gone.tar").find("Authorization: Basic"), std::string::npos)
        << "the URL's credentials are sent";

    const fs::path ctx = dir_.path() / "local";
    write_file(ctx / "Dockerfile", "FROM busybox\n");
    r = build({"--build-context", "dl=" + secret_url + "/gone.tar", ctx.string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("[context dl] " + shown + "/gone.tar"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << "a password in an error";
    EXPECT_TRUE(tmp_is_empty(root_));
}

}  // namespace
}  // namespace strata::imagetest
