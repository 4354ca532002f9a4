// RegistryClient against the scripted test server (tests/support/http_server.hpp):
// retries, resumed downloads, the token flow, error texts.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "registry/api_url.hpp"
#include "registry/client.hpp"
#include "support/http_server.hpp"

namespace strata::registry {
namespace {

using testsupport::TestHttpServer;
using Route = TestHttpServer::Route;
using namespace std::chrono_literals;

Route answer(int status, std::string body = {}, std::vector<std::string> headers = {}) {
    Route r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

class ClientHttp : public ::testing::Test {
  protected:
    Endpoint endpoint() const {
        Endpoint ep;
        ep.domain = ep.host = "127.0.0.1:" + std::to_string(server_.port());
        ep.plain_http = true;
        return ep;
    }
    ClientOptions options() {
        ClientOptions o;
        o.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
        o.transport.connect_timeout_s = 5;
        o.transport.stall_timeout_s = 5;
        return o;
    }
    RegistryClient client(CredentialLookup lookup = {}) {
        return RegistryClient(endpoint(), std::move(lookup), options());
    }
    std::string what_thrown(const std::function<void()>& f) {
        try {
            f();
        } catch (const Error& e) {
            return e.what();
        }
        ADD_FAILURE() << "no error";
        return {};
    }

    TestHttpServer server_;
    std::vector<std::chrono::milliseconds> sleeps_;
};

const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";

TEST_F(ClientHttp, ManifestRetriedAfterTwo503s) {
    server_.sequence(
        "/v2/app/manifests/1.0",
        {answer(503, "busy"), answer(503, "busy"),
         answer(200, kManifest, {"Content-Type: application/vnd.oci.image.manifest.v1+json"})});
    RegistryClient c = client();
    const Manifest m = c.get_manifest("app", "1.0", {"application/vnd.oci.image.manifest.v1+json"});
    EXPECT_EQ(m.bytes, kManifest);
    EXPECT_EQ(m.media_type, "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(m.digest, store::sha256_of(kManifest));
    EXPECT_EQ(server_.hits("/v2/app/manifests/1.0"), 3);
    ASSERT_EQ(sleeps_.size(), 2u);
    EXPECT_GE(sleeps_[0].count(), 187);  // 250 ms ± 25 %
    EXPECT_LE(sleeps_[0].count(), 313);
    EXPECT_GE(sleeps_[1].count(), 375);  // doubled
    EXPECT_LE(sleeps_[1].count(), 625);
    EXPECT_NE(server_.last_request("/v2/app/manifests/1.0")
                  .find("Accept: application/vnd.oci.image.manifest.v1+json"),
              std::string::npos);
}

TEST_F(ClientHttp, RetryAfterHonouredAndAttemptsBounded) {
    server_.sequence("/v2/app/manifests/1.0", {answer(429, "", {"Retry-After: 3"})});
    RegistryClient c = client();
    const std::string msg = what_thrown([&] { c.get_manifest("app", "1.0", {}); });
    EXPECT_EQ(server_.hits("/v2/app/manifests/1.0"), 5);
    ASSERT_EQ(sleeps_.size(), 4u);
    for (auto d : sleeps_)
        EXPECT_EQ(d, 3000ms);
    EXPECT_NE(msg.find("HTTP 429"), std::string::npos) << msg;
    EXPECT_NE(msg.find("127.0.0.1:"), std::string::npos) << msg;
}

TEST_F(ClientHttp, NotFoundAndErrorBodyNamed) {
    RegistryClient c = client();
    server_.route(
        "/v2/app/manifests/nope",
        answer(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})"));
    std::string msg = what_thrown([&] { c.get_manifest("app", "nope", {}); });
    EXPECT_EQ(msg, "manifest unknown: app:nope not found on " + endpoint().host);
    server_.route(
        "/v2/app/manifests/bad",
        answer(400, R"({"errors":[{"code":"NAME_INVALID","message":"invalid repository name"}]})"));
    msg = what_thrown([&] { c.get_manifest("app", "bad", {}); });
    EXPECT_NE(msg.find("HTTP 400"), std::string::npos) << msg;
    EXPECT_NE(msg.find("NAME_INVALID: invalid repository name"), std::string::npos) << msg;
    EXPECT_NE(msg.find(endpoint().host + "/app:bad"), std::string::npos) << msg;
}

TEST_F(ClientHttp, ManifestDigestChecked) {
    const std::string wrong = "sha256:" + std::string(64, 'a');
    server_.route("/v2/app/manifests/" + wrong, answer(200, kManifest));
    RegistryClient c = client();
    std::string msg = what_thrown([&] { c.get_manifest("app", wrong, {}); });
    EXPECT_NE(msg.find("hashes to " + store::sha256_of(kManifest).str()), std::string::npos) << msg;
    // a Docker-Content-Digest that disagrees with the bytes
    server_.route("/v2/app/manifests/t",
                  answer(200, kManifest, {"Docker-Content-Digest: " + wrong}));
    msg = what_thrown([&] { c.get_manifest("app", "t", {}); });
    EXPECT_NE(msg.find("the registry says " + wrong), std::string::npos) << msg;
}

TEST_F(ClientHttp, BlobResumedWithRange) {
    std::string blob(200'000, '\0');
    for (size_t i = 0; i < blob.size(); ++i)
        blob[i] = static_cast<char>(i * 7 + i / 251);
    const store::Digest d = store::sha256_of(blob);
    const std::string path = "/v2/app/blobs/" + d.str();
    Route cut = answer(200, blob);
    cut.ranges = true;
    cut.cut_after = 70'000;
    Route rest = answer(200, blob);
    rest.ranges = true;
    server_.sequence(path, {cut, rest});
    std::string got;
    uint64_t last_progress = 0;
    RegistryClient c = client();
    c.fetch_blob(
        "app", d, blob.size(), [&](const char* p, size_t n) { got.append(p, n); },
        [&](uint64_t done, uint64_t total) {
            EXPECT_GE(done, last_progress);
            EXPECT_EQ(total, blob.size());
            last_progress = done;
        });
    EXPECT_EQ(got, blob);  // each byte once
    EXPECT_EQ(last_progress, blob.size());
    EXPECT_EQ(server_.hits(path), 2);
    const std::string second = server_.last_request(path);
    EXPECT_NE(second.find("Range: bytes="), std::string::npos) << second;
}

TEST_F(ClientHttp, BlobRestartedWithoutRangesNeverDuplicates) {
    const std::string blob(100'000, 'x');
    const store::Digest d = store::sha256_of(blob);
    const std::string path = "/v2/app/blobs/" + d.str();
    Route cut = answer(200, blob);
    cut.cut_after = 40'000;
    server_.sequence(path, {cut, answer(200, blob)});
    std::string got;
    RegistryClient c = client();
    c.fetch_blob("app", d, blob.size(), [&](const char* p, size_t n) { got.append(p, n); });
    EXPECT_EQ(got.size(), blob.size());
    EXPECT_EQ(server_.last_request(path).find("Range:"), std::string::npos);
}

TEST_F(ClientHttp, CorruptBlobRefused) {
    const std::string blob = "hello world";
    std::string corrupt = blob;
    corrupt[3] = 'X';
    const store::Digest d = store::sha256_of(blob);
    server_.route("/v2/app/blobs/" + d.str(), answer(200, corrupt));
    RegistryClient c = client();
    std::string msg =
        what_thrown([&] { c.fetch_blob("app", d, blob.size(), [](const char*, size_t) {}); });
    EXPECT_NE(msg.find("digest mismatch"), std::string::npos) << msg;
    EXPECT_NE(msg.find(d.str()), std::string::npos) << msg;
    EXPECT_NE(msg.find("/app"), std::string::npos) << msg;
    // too many bytes: refused while streaming
    msg = what_thrown([&] { c.fetch_blob("app", d, 5, [](const char*, size_t) {}); });
    EXPECT_NE(msg.find("more than the expected 5 bytes"), std::string::npos) << msg;
}

TEST_F(ClientHttp, ConnectionRefusedNamesTheUrl) {
    Endpoint ep;
    {
        TestHttpServer gone;  // a port that was just free
        ep.domain = ep.host = "127.0.0.1:" + std::to_string(gone.port());
    }
    ep.plain_http = true;
    ClientOptions o = options();
    o.retry.max_attempts = 2;
    RegistryClient c(ep, {}, o);
    const std::string msg = what_thrown([&] { c.get_manifest("app", "1", {}); });
    EXPECT_NE(msg.find("cannot connect to http://" + ep.host + "/v2/app/manifests/1"),
              std::string::npos)
        << msg;
    EXPECT_EQ(c.ping().status, PingResult::Status::kError);
}

TEST_F(ClientHttp, BearerTokenFetchedOnceAndReused) {
    const std::string realm = server_.url("/token");
    const std::string challenge =
        "WWW-Authenticate: Bearer realm=\"" + realm + "\",service=\"test-registry\"";
    server_.sequence("/v2/app/manifests/1", {answer(401, "", {challenge}), answer(200, kManifest)});
    server_.route("/v2/app/manifests/2", answer(200, kManifest));
    const std::string token_path =
        add_query(add_query("/token", "service", "test-registry"), "scope", "repository:app:pull");
    server_.route(token_path, answer(200, R"({"token":"T0K3N","expires_in":300})"));
    RegistryClient c = client([](std::string_view) {
        return std::optional<Credentials>(Credentials{"alice", "s3cret-pw", ""});
    });
    c.get_manifest("app", "1", {});
    c.get_manifest("app", "2", {});
    EXPECT_EQ(server_.hits(token_path), 1);
    EXPECT_NE(server_.last_request(token_path).find("Authorization: Basic YWxpY2U6czNjcmV0LXB3"),
              std::string::npos);
    EXPECT_NE(server_.last_request("/v2/app/manifests/1").find("Authorization: Bearer T0K3N"),
              std::string::npos);
    EXPECT_NE(server_.last_request("/v2/app/manifests/2").find("Authorization: Bearer T0K3N"),
              std::string::npos);
}

TEST_F(ClientHttp, RefusedCredentialsNeverInTheMessage) {
    const std::string realm = server_.url("/token");
    server_.route(
        "/v2/app/manifests/1",
        answer(401, "", {"WWW-Authenticate: Bearer realm=\"" + realm + "\",service=\"s\""}));
    const std::string token_path =
        add_query(add_query("/token", "service", "s"), "scope", "repository:app:pull");
    server_.route(token_path, answer(401, R"({"details":"incorrect username or password"})"));
    RegistryClient c = client([](std::string_view) {
        return std::optional<Credentials>(Credentials{"alice", "s3cret-pw", ""});
    });
    const std::string msg = what_thrown([&] { c.get_manifest("app", "1", {}); });
    EXPECT_NE(msg.find("strata login " + endpoint().domain), std::string::npos) << msg;
    EXPECT_NE(msg.find("401"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("s3cret"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("YWxpY2U6"), std::string::npos) << msg;
}

TEST_F(ClientHttp, StillUnauthorizedAfterAFreshTokenFails) {
    const std::string realm = server_.url("/token");
    server_.route(
        "/v2/app/manifests/1",
        answer(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
               {"WWW-Authenticate: Bearer realm=\"" + realm + "\",service=\"s\""}));
    const std::string token_path =
        add_query(add_query("/token", "service", "s"), "scope", "repository:app:pull");
    server_.route(token_path, answer(200, R"({"access_token":"SECRET-TOKEN"})"));
    RegistryClient c = client();
    const std::string msg = what_thrown([&] { c.get_manifest("app", "1", {}); });
    EXPECT_EQ(server_.hits("/v2/app/manifests/1"), 2);  // once more with the token, then fail
    EXPECT_EQ(server_.hits(token_path), 1);
    EXPECT_NE(msg.find("HTTP 401"), std::string::npos) << msg;
    EXPECT_NE(msg.find("UNAUTHORIZED"), std::string::npos) << msg;
    EXPECT_NE(msg.find("run `strata login"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("SECRET-TOKEN"), std::string::npos) << msg;
}

TEST_F(ClientHttp, IdentityTokenUsesTheRefreshGrant) {
    const std::string realm = server_.url("/token");
    server_.sequence(
        "/v2/app/manifests/1",
        {answer(401, "", {"WWW-Authenticate: Bearer realm=\"" + realm + "\",service=\"s\""}),
         answer(200, kManifest)});
    server_.route("/token", answer(200, R"({"access_token":"FROM-REFRESH","expires_in":120})"));
    RegistryClient c = client([](std::string_view) {
        return std::optional<Credentials>(Credentials{"", "", "refresh-123"});
    });
    c.get_manifest("app", "1", {});
    const std::string req = server_.last_request("/token");
    EXPECT_NE(req.find("POST /token"), std::string::npos) << req;
    EXPECT_NE(req.find("grant_type=refresh_token&refresh_token=refresh-123&service=s"),
              std::string::npos)
        << req;
    EXPECT_NE(req.find("scope=repository%3Aapp%3Apull"), std::string::npos) << req;
    EXPECT_NE(server_.last_request("/v2/app/manifests/1").find("Bearer FROM-REFRESH"),
              std::string::npos);
}

TEST_F(ClientHttp, BasicChallengeAnsweredWithThePassword) {
    server_.sequence(
        "/v2/app/manifests/1",
        {answer(401, "", {"WWW-Authenticate: Basic realm=\"Registry\""}), answer(200, kManifest)});
    RegistryClient c = client([](std::string_view) {
        return std::optional<Credentials>(Credentials{"bob", "pw", ""});
    });
    c.get_manifest("app", "1", {});
    EXPECT_NE(server_.last_request("/v2/app/manifests/1").find("Authorization: Basic Ym9iOnB3"),
              std::string::npos);
}

TEST_F(ClientHttp, MirrorFailsOverToTheRegistry) {
    TestHttpServer registry;
    registry.route("/v2/library/app/manifests/1", answer(200, kManifest));
    Endpoint mirror = endpoint();  // server_: answers 500 to everything asked
    mirror.domain = "docker.io";
    mirror.mirror = true;
    server_.route("/v2/library/app/manifests/1", answer(500));
    Endpoint reg;
    reg.domain = "docker.io";
    reg.host = "127.0.0.1:" + std::to_string(registry.port());
    reg.plain_http = true;
    ClientOptions o = options();
    o.retry.max_attempts = 1;
    RegistryClient c({mirror, reg}, {}, o);
    EXPECT_EQ(c.get_manifest("library/app", "1", {}).bytes, kManifest);
    EXPECT_EQ(server_.hits("/v2/library/app/manifests/1"), 1);
    EXPECT_EQ(registry.hits("/v2/library/app/manifests/1"), 1);
}

}  // namespace
}  // namespace strata::registry
