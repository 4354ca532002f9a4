// The registry fixture (tests/support/registry_fixture.hpp) proven with an
// independent client: skopeo pushes a small image into each setup and reads
// it back; the auth setups refuse what they must; the access log and the
// token counter report what happened; the destructor leaves nothing behind.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "support/registry_fixture.hpp"

namespace strata::test {
namespace {

namespace fs = std::filesystem;
using Mode = RegistryServer::Mode;

struct ToolRun {
    int status = -1;
    std::string output;  // stdout and stderr
    bool ok() const { return status == 0; }
};

ToolRun sh(const std::string& cmd) {
    ToolRun r;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
        r.output.append(buf, n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool contains(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines)
        s += "  " + l + "\n";
    return s;
}

// A one-layer OCI image (a file /hello) made with umoci, shared by the tests.
class RegistryFixtureTest : public ::testing::TestWithParam<Mode> {
  protected:
    static void SetUpTestSuite() {
        if (sh("command -v skopeo && command -v umoci").status != 0) {
            tools_missing_ = "skopeo and umoci are needed (apt-get install skopeo umoci)";
            return;
        }
        work_.emplace(TempDir::create(fs::temp_directory_path(), "strata-fixture-test-"));
        const auto d = work_->path();
        std::ofstream(d / "hello") << "hello from the registry fixture test\n";
        const ToolRun r = sh("cd " + d.string() +
                             " && umoci init --layout oci && umoci new --image oci:v1"
                             " && umoci insert --image oci:v1 hello /hello");
        ASSERT_TRUE(r.ok()) << r.output;
    }
    static void TearDownTestSuite() { work_.reset(); }

    void SetUp() override {
        if (!tools_missing_.empty()) GTEST_SKIP() << tools_missing_;
        std::string why;
        server_ = RegistryServer::start(GetParam(), why);
        if (!server_) GTEST_SKIP() << why;
    }

    static std::string layout() { return "oci:" + (work_->path() / "oci").string() + ":v1"; }
    std::string ref(const std::string& repo_tag) const {
        return "docker://" + server_->host() + "/" + repo_tag;
    }
    // skopeo's TLS flags for this setup: the certs.d entry in TLS mode,
    // plain HTTP otherwise. `side` is "dest" or "src" ("" for inspect).
    std::string tls(const std::string& side) const {
        const std::string p = side.empty() ? "--" : "--" + side + "-";
        if (GetParam() == Mode::kTlsBasicAuth)
            return p + "tls-verify=true " + p + "cert-dir " +
                   (fs::path(server_->certs_d()) / server_->host()).string();
        return p + "tls-verify=false";
    }
    std::string creds(const std::string& side) const {
        const std::string p = side.empty() ? "--" : "--" + side + "-";
        if (GetParam() == Mode::kPlainHttp) return p + "no-creds";
        return p + "creds " + server_->username() + ":" + server_->password();
    }
    std::string scratch(const std::string& name) const { return (work_->path() / name).string(); }

    static inline std::optional<TempDir> work_;
    static inline std::string tools_missing_;
    std::optional<RegistryServer> server_;
};

TEST_P(RegistryFixtureTest, SkopeoPushesAnImageAndInspectsTheSameDigest) {
    const ToolRun push =
        sh("skopeo copy --retry-times 0 " + tls("dest") + " " + creds("dest") + " --digestfile " +
           scratch("digest") + " " + layout() + " " + ref("strata/fixture:v1"));
    ASSERT_TRUE(push.ok()) << push.output << "\nregistry log:\n" << slurp(server_->log_file());
    const std::string digest = slurp(scratch("digest"));
    ASSERT_EQ(digest.rfind("sha256:", 0), 0u) << digest;

    const ToolRun inspect = sh("skopeo inspect --retry-times 0 " + tls("") + " " + creds("") + " " +
                               ref("strata/fixture:v1"));
    ASSERT_TRUE(inspect.ok()) << inspect.output;
    EXPECT_NE(inspect.output.find("\"Digest\": \"" + digest + "\""), std::string::npos)
        << inspect.output;

    // The manifest is in the registry's storage, and the access log saw its PUT.
    const fs::path revision = fs::path(server_->storage_dir()) /
                              "docker/registry/v2/repositories/strata/fixture/_manifests/"
                              "revisions/sha256" /
                              digest.substr(7);
    EXPECT_TRUE(fs::exists(revision)) << revision;
    const auto requests = server_->requests();
    EXPECT_TRUE(contains(requests, "PUT /v2/strata/fixture/manifests/v1 201")) << joined(requests);
    EXPECT_TRUE(contains(requests, "GET /v2/strata/fixture/manifests/v1 200")) << joined(requests);
    if (GetParam() == Mode::kTokenAuth) {
        EXPECT_GT(server_->tokens_issued(), 0);
    }
}

TEST_P(RegistryFixtureTest, ASecondPushUploadsNoBlob) {
    const std::string copy = "skopeo copy --retry-times 0 " + tls("dest") + " " + creds("dest") +
                             " " + layout() + " " + ref("strata/again:v1");
    const ToolRun first = sh(copy);
    ASSERT_TRUE(first.ok()) << first.output;
    auto requests = server_->requests();
    auto uploads = [](const std::vector<std::string>& rs) {
        int n = 0;
        for (const auto& r : rs)
            n += r.find("/blobs/uploads/") != std::string::npos;
        return n;
    };
    EXPECT_GT(uploads(requests), 0) << joined(requests);

    server_->clear_log();
    const ToolRun second = sh(copy);
    ASSERT_TRUE(second.ok()) << second.output;
    requests = server_->requests();
    EXPECT_EQ(uploads(requests), 0) << joined(requests);
    EXPECT_TRUE(contains(requests, "PUT /v2/strata/again/manifests/v1 201")) << joined(requests);
}

TEST_P(RegistryFixtureTest, AuthSetupsRefuseAnUnauthenticatedOrWrongPush) {
    if (GetParam() == Mode::kPlainHttp) GTEST_SKIP() << "the plain setup has no auth";
    const std::string dest = tls("dest") + " " + layout() + " " + ref("strata/refused:v1");
    const ToolRun anonymous = sh("skopeo copy --retry-times 0 --dest-no-creds " + dest);
    EXPECT_FALSE(anonymous.ok()) << anonymous.output;
    EXPECT_NE(anonymous.output.find("unauthorized"), std::string::npos) << anonymous.output;
    const ToolRun wrong = sh("skopeo copy --retry-times 0 --dest-creds " + server_->username() +
                             ":not-the-password " + dest);
    EXPECT_FALSE(wrong.ok()) << wrong.output;

    const auto requests = server_->requests();
    for (const auto& r : requests)
        EXPECT_EQ(r.find("/manifests/"), std::string::npos) << r;
    bool saw_401 = false;
    for (const auto& r : requests)
        saw_401 = saw_401 || r.ends_with(" 401");
    EXPECT_TRUE(saw_401) << joined(requests);
    EXPECT_FALSE(fs::exists(fs::path(server_->storage_dir()) /
                            "docker/registry/v2/repositories/strata/refused/_manifests"));
}

TEST_P(RegistryFixtureTest, DestructorStopsTheRegistryAndRemovesItsFiles) {
    const int port = server_->port();
    const fs::path storage = server_->storage_dir();
    ASSERT_TRUE(fs::exists(storage));
    RegistryServer moved = std::move(*server_);
    server_.reset();  // the moved-from object owns nothing: the registry still runs
    EXPECT_EQ(moved.requests().size(), 0u);
    EXPECT_NE(registry_fixture_detail::loopback_exchange(
                  port, "GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
              "");
    { RegistryServer gone = std::move(moved); }
    EXPECT_FALSE(fs::exists(storage.parent_path()));
    EXPECT_EQ(registry_fixture_detail::loopback_exchange(
                  port, "GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
              "");
}

INSTANTIATE_TEST_SUITE_P(Modes, RegistryFixtureTest,
                         ::testing::Values(Mode::kPlainHttp, Mode::kTlsBasicAuth, Mode::kTokenAuth),
                         [](const ::testing::TestParamInfo<Mode>& info) -> std::string {
                             switch (info.param) {
                                 case Mode::kPlainHttp:
                                     return "PlainHttp";
                                 case Mode::kTlsBasicAuth:
                                     return "TlsBasicAuth";
                                 case Mode::kTokenAuth:
                                     return "TokenAuth";
                             }
                             return "Unknown";
                         });

// TLS is real: without the test CA, a client refuses the registry's certificate.
TEST(RegistryFixtureTls, AClientWithoutTheCaRefusesTheCertificate) {
    std::string why;
    auto server = RegistryServer::start(Mode::kTlsBasicAuth, why);
    if (!server) GTEST_SKIP() << why;
    const ToolRun curl_without = sh("curl -sS -o /dev/null " + server->url() + "/v2/");
    EXPECT_FALSE(curl_without.ok()) << curl_without.output;
    EXPECT_NE(curl_without.output.find("certificate"), std::string::npos) << curl_without.output;
    // With it, and with localhost as the name (the cert's other SAN), it answers 401.
    const ToolRun curl_with =
        sh("curl -sS -o /dev/null -w '%{http_code}' --cacert " + server->ca_file() +
           " https://localhost:" + std::to_string(server->port()) + "/v2/");
    EXPECT_EQ(curl_with.output, "401");
    const ToolRun curl_auth =
        sh("curl -sS -o /dev/null -w '%{http_code}' --cacert " + server->ca_file() + " -u " +
           server->username() + ":" + server->password() + " " + server->url() + "/v2/");
    EXPECT_EQ(curl_auth.output, "200");
}

// The token flow by hand: the registry's challenge names the realm and
// service; a token from the realm opens /v2/; each request to the realm
// counts; anonymous requests get pull-only tokens when configured.
TEST(RegistryFixtureToken, ChallengeTokenAndAnonymousPull) {
    std::string why;
    RegistryServer::Options options;
    options.anonymous_pull = true;
    options.token_ttl_seconds = 42;
    auto server = RegistryServer::start(Mode::kTokenAuth, options, why);
    if (!server) GTEST_SKIP() << why;
    const ToolRun challenge = sh("curl -sS -i " + server->url() + "/v2/");
    EXPECT_NE(challenge.output.find("Bearer realm=\"" + server->token_realm() + "\",service=\"" +
                                    RegistryServer::token_service() + "\""),
              std::string::npos)
        << challenge.output;
    EXPECT_EQ(server->tokens_issued(), 0);

    const ToolRun token = sh("curl -sS -u " + server->username() + ":" + server->password() + " '" +
                             server->token_realm() + "?service=" + RegistryServer::token_service() +
                             "&scope=repository:a/b:pull,push'");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(token.output, m, std::regex(R"re("token": "([^"]+)")re")))
        << token.output;
    EXPECT_NE(token.output.find("\"expires_in\": 42"), std::string::npos) << token.output;
    EXPECT_EQ(server->tokens_issued(), 1);
    const ToolRun v2 = sh("curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer " +
                          m[1].str() + "' " + server->url() + "/v2/");
    EXPECT_EQ(v2.output, "200");

    const ToolRun wrong =
        sh("curl -sS -o /dev/null -w '%{http_code}' -u strata:wrong '" + server->token_realm() +
           "?service=" + RegistryServer::token_service() + "'");
    EXPECT_EQ(wrong.output, "401");
    EXPECT_EQ(server->tokens_issued(), 1);

    // Push with credentials; then pull anonymously works and push anonymously does not.
    {
        auto work = TempDir::create(fs::temp_directory_path(), "strata-fixture-anon-");
        std::ofstream(work.path() / "f") << "x\n";
        const ToolRun mk = sh("cd " + work.path().string() +
                              " && umoci init --layout oci && umoci new --image oci:v1"
                              " && umoci insert --image oci:v1 f /f");
        if (!mk.ok()) GTEST_SKIP() << "umoci: " << mk.output;
        const std::string src = "oci:" + (work.path() / "oci").string() + ":v1";
        const std::string dest = "docker://" + server->host() + "/anon/img:v1";
        const ToolRun push =
            sh("skopeo copy --retry-times 0 --dest-tls-verify=false --dest-creds " +
               server->username() + ":" + server->password() + " " + src + " " + dest);
        ASSERT_TRUE(push.ok()) << push.output;
        const ToolRun pull =
            sh("skopeo inspect --retry-times 0 --tls-verify=false --no-creds " + dest);
        EXPECT_TRUE(pull.ok()) << pull.output;
        const ToolRun anon_push =
            sh("skopeo copy --retry-times 0 --dest-tls-verify=false "
               "--dest-no-creds " +
               src + " docker://" + server->host() + "/anon/other:v1");
        EXPECT_FALSE(anon_push.ok()) << anon_push.output;
    }
    const auto requests = server->requests();
    EXPECT_TRUE(contains(requests, "PUT /v2/anon/img/manifests/v1 201")) << joined(requests);
    EXPECT_FALSE(contains(requests, "PUT /v2/anon/other/manifests/v1 201")) << joined(requests);
}

}  // namespace
}  // namespace strata::test
