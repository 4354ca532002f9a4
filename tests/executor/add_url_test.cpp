// ADD <http URL> against a small HTTP server this test runs on 127.0.0.1:
// file names from the URL, mode 0600, Last-Modified, --checksum good and bad,
// HTTP errors, redirects, no extraction, and reuse of a prefetched download.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "executor/copy/copy_step.hpp"
#include "executor/copy/url_fetch.hpp"
#include "executor_test_util.hpp"
#include "support/http_server.hpp"

namespace strata::executor {
namespace {

using namespace test_util;  // NOLINT

const char* kHelloSha = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

using testsupport::TestHttpServer;

class AddUrl : public ::testing::Test {
  protected:
    void SetUp() override {
        tmp_ = TempDir::create(fs::temp_directory_path(), "strata-url-");
        ctx_ = tmp_->path() / "ctx";
        parent_ = tmp_->path() / "parent";
        layer_ = tmp_->path() / "layer";
        scratch_ = tmp_->path() / "scratch";
        for (const auto& d : {ctx_, parent_, layer_, scratch_})
            fs::create_directories(d);
        server_.route("/files/hello.txt", {200, "hello\n", "Wed, 21 Oct 2015 07:28:00 GMT", ""});
        server_.route("/nodate", {200, "x", "", ""});
        server_.route("/", {200, "root", "", ""});
        server_.route("/old", {302, "", "", "/files/hello.txt"});
    }

    CopyResult add(CopyRequest req, CopyEnvironment env = {}) {
        req.is_add = true;
        env.scratch_dir = scratch_;
        BuildContext context(ctx_, frontend::DockerIgnore());
        LayerStackView below({parent_});
        return run_copy(req, context, below, layer_, env);
    }
    CopyRequest request(const std::string& path, const std::string& dest) {
        CopyRequest req;
        req.sources = {server_.url(path)};
        req.dest = dest;
        return req;
    }
    std::vector<std::string> layer(SnapshotOptions o = {}) {
        auto lines = snapshot(layer_, o);
        std::sort(lines.begin(), lines.end());
        return lines;
    }

    TestHttpServer server_;
    std::optional<TempDir> tmp_;
    fs::path ctx_, parent_, layer_, scratch_;
};

TEST_F(AddUrl, IntoDirectoryNamedFromUrlMode0600WithLastModified) {
    CopyResult r = add(request("/files/hello.txt", "/dl/"));
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /dl 0755 0:0", "f /dl/hello.txt 0600 0:0 =hello\n"}));
    struct stat st {};
    ASSERT_EQ(::lstat((layer_ / "dl/hello.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1445412480);
    ASSERT_EQ(r.fetched.size(), 1u);
    EXPECT_EQ(r.fetched[0].sha256, kHelloSha);
    EXPECT_EQ(r.fetched[0].size, 6u);
    ASSERT_TRUE(r.fetched[0].last_modified);
    EXPECT_EQ(*r.fetched[0].last_modified, 1445412480);
    // The download is cleaned up.
    EXPECT_TRUE(fs::is_empty(scratch_));
}

TEST_F(AddUrl, DestinationWithoutSlashIsTheFileName) {
    add(request("/files/hello.txt", "/etc/app.conf"));
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /etc 0755 0:0", "f /etc/app.conf 0600 0:0 =hello\n"}));
}

TEST_F(AddUrl, ChecksumGoodAndBad) {
    CopyRequest req = request("/files/hello.txt", "/ok");
    req.checksum = kHelloSha;
    add(req);
    EXPECT_EQ(join_lines(layer()), sorted_lines({"f /ok 0600 0:0 =hello\n"}));

    req.dest = "/bad";
    req.checksum = "sha256:" + std::string(64, 'a');
    try {
        add(req);
        FAIL();
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(msg.find("expected sha256:" + std::string(64, 'a')), std::string::npos) << msg;
        EXPECT_NE(msg.find(std::string("got ") + kHelloSha), std::string::npos) << msg;
        EXPECT_NE(msg.find(server_.url("/files/hello.txt")), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(layer_ / "bad"));
    req.checksum = "md5:abc";
    EXPECT_THROW(add(req), Error);
    req.checksum = "sha256:XYZ";
    EXPECT_THROW(add(req), Error);
}

TEST_F(AddUrl, HttpErrorsNameTheStatus) {
    try {
        add(request("/missing", "/x"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(e.what()).find("invalid response status 404"), std::string::npos)
            << e.what();
    }
}

TEST_F(AddUrl, ConnectionRefusedIsAnError) {
    // A port nobody listens on: take one and close it.
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(s);
    CopyRequest req;
    req.sources = {"http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/f"};
    req.dest = "/x";
    EXPECT_THROW(add(req), Error);
}

TEST_F(AddUrl, RedirectFollowedNameFromOriginalUrl) {
    add(request("/old", "/r/"));
    EXPECT_EQ(join_lines(layer()), sorted_lines({"d /r 0755 0:0", "f /r/old 0600 0:0 =hello\n"}));
}

TEST_F(AddUrl, UnnamedUrlAndNoLastModified) {
    const time_t before = time(nullptr);
    add(request("/", "/u/"));
    add(request("/nodate", "/u/"));
    EXPECT_EQ(join_lines(layer()), sorted_lines({"d /u 0755 0:0", "f /u/__unnamed__ 0600 0:0 =root",
                                                 "f /u/nodate 0600 0:0 =x"}));
    struct stat st {};
    ASSERT_EQ(::lstat((layer_ / "u/nodate").c_str(), &st), 0);
    EXPECT_GE(st.st_mtim.tv_sec, before);
}

TEST_F(AddUrl, ArchivesFromUrlsAreNotExtracted) {
    fs::path tgz = tmp_->path() / "a.tar.gz";
    write_tar(tgz, {{"inside", 'f', "x"}}, "gzip");
    server_.route("/a.tar.gz", {200, read_text(tgz), "", ""});
    add(request("/a.tar.gz", "/x/"));
    auto lines = layer();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_TRUE(lines[1].starts_with("f /x/a.tar.gz 0600 0:0 =")) << lines[1];
}

TEST_F(AddUrl, ChmodChownAndEpochApply) {
    CopyRequest req = request("/files/hello.txt", "/bin/tool");
    req.chmod = "0755";
    req.chown = "1:2";
    req.source_date_epoch = 1000;
    add(req);
    EXPECT_EQ(join_lines(layer({true})),
              sorted_lines({"d /bin 0755 1:2 @1000", "f /bin/tool 0755 1:2 =hello\n @1000"}));
}

TEST_F(AddUrl, PrefetchedDownloadIsReused) {
    FetchedUrl pre = fetch_url(server_.url("/files/hello.txt"), scratch_);
    EXPECT_EQ(pre.sha256, kHelloSha);
    EXPECT_EQ(pre.file_name, "hello.txt");
    EXPECT_EQ(server_.hits("/files/hello.txt"), 1);
    CopyEnvironment env;
    env.prefetched[pre.url] = pre;
    CopyRequest req = request("/files/hello.txt", "/p/");
    req.checksum = kHelloSha;
    CopyResult r = add(req, env);
    EXPECT_EQ(server_.hits("/files/hello.txt"), 1);
    ASSERT_EQ(r.fetched.size(), 1u);
    EXPECT_EQ(r.fetched[0].sha256, kHelloSha);
    EXPECT_EQ(join_lines(layer()),
              sorted_lines({"d /p 0755 0:0", "f /p/hello.txt 0600 0:0 =hello\n"}));
    // A prefetched file is checked against --checksum too.
    req.checksum = "sha256:" + std::string(64, 'b');
    EXPECT_THROW(add(req, env), Error);
}

TEST(UrlNames, LikeBuildKit) {
    EXPECT_EQ(url_file_name("http://h/a/b.tgz?x=1#f"), "b.tgz");
    EXPECT_EQ(url_file_name("https://h/dir/"), "dir");
    EXPECT_EQ(url_file_name("https://h"), "__unnamed__");
    EXPECT_EQ(url_file_name("https://h/"), "__unnamed__");
    EXPECT_EQ(url_file_name("https://h/a%20b.txt"), "a b.txt");
    EXPECT_TRUE(is_url_source("https://x/y"));
    EXPECT_FALSE(is_url_source("ftp://x/y"));
}

}  // namespace
}  // namespace strata::executor
