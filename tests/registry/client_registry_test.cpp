// RegistryClient against a real registry: Debian's docker-registry
// (distribution 2.8) started by tests/support/registry_fixture.hpp on
// 127.0.0.1 — plain HTTP; HTTPS with a test CA and htpasswd users; bearer
// tokens from a test token server.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "registry/client.hpp"
#include "support/registry_fixture.hpp"

namespace strata::registry {
namespace {

using test::RegistryServer;
using Mode = RegistryServer::Mode;

// The endpoint and credentials a test uses for the fixture's registry.
Endpoint endpoint_of(const RegistryServer& s) {
    Endpoint ep;
    ep.domain = ep.host = s.host();
    ep.plain_http = s.mode() != Mode::kTlsBasicAuth;
    if (s.mode() == Mode::kTlsBasicAuth) ep.tls.ca_files = {s.ca_file()};
    return ep;
}

CredentialLookup credentials_of(const RegistryServer& s) {
    if (s.mode() == Mode::kPlainHttp) return {};
    Credentials c{s.username(), s.password(), ""};
    return [c](std::string_view) { return std::optional<Credentials>(c); };
}

size_t count(const std::vector<std::string>& lines, std::string_view prefix) {
    return static_cast<size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); }));
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines)
        s += "  " + l + "\n";
    return s;
}

std::string pattern(size_t n, unsigned seed) {
    std::string s(n, '\0');
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s[i] = static_cast<char>(x);
    }
    return s;
}

std::string fetch(RegistryClient& c, const std::string& repo, const store::Digest& d,
                  std::optional<uint64_t> size) {
    std::string out;
    c.fetch_blob(repo, d, size, [&](const char* p, size_t n) { out.append(p, n); });
    return out;
}

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";

// The verbs, in each of the three setups.
class ClientRegistry : public ::testing::TestWithParam<Mode> {
  protected:
    void SetUp() override {
        std::string why;
        server_ = RegistryServer::start(GetParam(), why);
        if (!server_) GTEST_SKIP() << why;
    }
    RegistryClient client(ClientOptions o = {}) {
        return RegistryClient(endpoint_of(*server_), credentials_of(*server_), std::move(o));
    }
    Endpoint endpoint() const { return endpoint_of(*server_); }
    std::optional<RegistryServer> server_;
};

INSTANTIATE_TEST_SUITE_P(Setups, ClientRegistry,
                         ::testing::Values(Mode::kPlainHttp, Mode::kTlsBasicAuth, Mode::kTokenAuth),
                         [](const auto& info) {
                             switch (info.param) {
                                 case Mode::kPlainHttp:
                                     return std::string("PlainHttp");
                                 case Mode::kTlsBasicAuth:
                                     return std::string("TlsBasicAuth");
                                 default:
                                     return std::string("TokenAuth");
                             }
                         });

TEST_P(ClientRegistry, MonolithicUploadHeadFetch) {
    RegistryClient c = client();
    const auto blob = std::make_shared<const std::string>(pattern(100'000, 1));
    const store::Digest d = store::sha256_of(*blob);
    EXPECT_EQ(c.blob_exists("team/app", d), std::nullopt);
    uint64_t progress = 0;
    c.upload_blob("team/app", d, BlobSource::from_string(blob),
                  [&](uint64_t done, uint64_t) { progress = done; });
    EXPECT_EQ(progress, blob->size());
    EXPECT_EQ(c.blob_exists("team/app", d), blob->size());

    uint64_t calls = 0, last = 0;
    std::string got;
    c.fetch_blob(
        "team/app", d, blob->size(), [&](const char* p, size_t n) { got.append(p, n); },
        [&](uint64_t done, uint64_t total) {
            ++calls;
            EXPECT_EQ(total, blob->size());
            last = done;
        });
    EXPECT_EQ(got, *blob);
    EXPECT_GE(calls, 1u);
    EXPECT_EQ(last, blob->size());
}

TEST_P(ClientRegistry, ChunkedUploadOf40MB) {
    RegistryClient c = client();
    const auto blob = std::make_shared<const std::string>(pattern(40u << 20, 2));
    const store::Digest d = store::sha256_of(*blob);
    c.upload_blob("big", d, BlobSource::from_string(blob));  // above the 32 MiB threshold
    EXPECT_EQ(c.blob_exists("big", d), blob->size());
    EXPECT_EQ(fetch(c, "big", d, blob->size()), *blob);
}

TEST_P(ClientRegistry, ChunkedUploadWithSmallChunks) {
    ClientOptions o;
    o.chunked_threshold = 1000;
    o.chunk_size = 777;  // several PATCHes, the last one short
    RegistryClient c = client(o);
    const auto blob = std::make_shared<const std::string>(pattern(5000, 3));
    const store::Digest d = store::sha256_of(*blob);
    c.upload_blob("chunks", d, BlobSource::from_string(blob));
    EXPECT_EQ(fetch(c, "chunks", d, blob->size()), *blob);
}

TEST_P(ClientRegistry, UploadWithWrongDigestRefused) {
    RegistryClient c = client();
    const auto blob = std::make_shared<const std::string>("some bytes");
    const store::Digest wrong = store::sha256_of("other bytes");
    try {
        c.upload_blob("app", wrong, BlobSource::from_string(blob));
        FAIL() << "uploaded under a wrong digest";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("HTTP 400"), std::string::npos) << msg;
        EXPECT_NE(msg.find("DIGEST_INVALID"), std::string::npos) << msg;
        EXPECT_NE(msg.find(wrong.str()), std::string::npos) << msg;
    }
}

TEST_P(ClientRegistry, MountAcrossRepositories) {
    RegistryClient c = client();
    const auto blob = std::make_shared<const std::string>(pattern(4096, 4));
    const store::Digest d = store::sha256_of(*blob);
    c.upload_blob("src/repo", d, BlobSource::from_string(blob));
    EXPECT_TRUE(c.mount_blob("dst/repo", d, "src/repo"));
    EXPECT_EQ(c.blob_exists("dst/repo", d), blob->size());
    // a blob the source does not have: the registry opens an upload instead
    const store::Digest absent = store::sha256_of("absent");
    EXPECT_FALSE(c.mount_blob("dst/repo", absent, "src/repo"));
    EXPECT_EQ(c.blob_exists("dst/repo", absent), std::nullopt);
}

TEST_P(ClientRegistry, ManifestByTagAndByDigest) {
    RegistryClient c = client();
    const auto config = std::make_shared<const std::string>(
        R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})");
    const store::Digest cd = store::sha256_of(*config);
    c.upload_blob("app", cd, BlobSource::from_string(config));
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
        cd.str() + R"(","size":)" + std::to_string(config->size()) + R"(},"layers":[]})";
    const store::Digest md = c.put_manifest("app", "v1", kOciManifest, manifest);
    EXPECT_EQ(md, store::sha256_of(manifest));

    const Manifest by_tag = c.get_manifest("app", "v1", {kOciManifest});
    EXPECT_EQ(by_tag.bytes, manifest);
    EXPECT_EQ(by_tag.digest, md);
    EXPECT_EQ(by_tag.media_type, kOciManifest);
    const Manifest by_digest = c.get_manifest("app", md.str(), {kOciManifest});
    EXPECT_EQ(by_digest.bytes, manifest);

    auto head = c.head_manifest("app", "v1", {kOciManifest});
    ASSERT_TRUE(head);
    EXPECT_EQ(head->digest, md);
    EXPECT_EQ(head->size, manifest.size());
    EXPECT_EQ(head->media_type, kOciManifest);
    EXPECT_EQ(c.head_manifest("app", "nope", {kOciManifest}), std::nullopt);

    // pushed by digest into another repository, its config mounted there first
    ASSERT_TRUE(c.mount_blob("other", cd, "app"));
    EXPECT_EQ(c.put_manifest("other", md.str(), kOciManifest, manifest), md);
    // unknown tag: the error a user reads
    try {
        c.get_manifest("app", "v2", {kOciManifest});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_EQ(std::string(e.what()),
                  "manifest unknown: app:v2 not found on " + endpoint().host);
    }
}

TEST_P(ClientRegistry, WrongDigestExpectationIsAnError) {
    RegistryClient c = client();
    const auto blob = std::make_shared<const std::string>(pattern(3000, 5));
    const store::Digest d = store::sha256_of(*blob);
    c.upload_blob("app", d, BlobSource::from_string(blob));
    // right digest, wrong size: refused while streaming
    try {
        fetch(c, "app", d, 2999);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find(d.str()), std::string::npos) << e.what();
    }
    // a blob the registry does not have under that name
    const store::Digest other = store::sha256_of("x");
    try {
        fetch(c, "app", other, 1);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(e.what()).find(other.str()), std::string::npos) << e.what();
    }
}

TEST_P(ClientRegistry, PingAndLogin) {
    RegistryClient c = client();
    const auto want =
        GetParam() == Mode::kPlainHttp ? PingResult::Status::kOk : PingResult::Status::kNeedsAuth;
    EXPECT_EQ(c.ping().status, want);
    EXPECT_NO_THROW(
        check_login(endpoint(), Credentials{server_->username(), server_->password(), ""}));
    if (GetParam() == Mode::kPlainHttp) return;
    try {
        check_login(endpoint(), Credentials{server_->username(), "wrong-pass-123", ""});
        FAIL() << "a wrong password was accepted";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(server_->host()), std::string::npos) << msg;
        EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("wrong-pass-123"), std::string::npos) << msg;
    }
}

TEST_P(ClientRegistry, RequestsSentForMountAndChunks) {
    ClientOptions o;
    o.chunked_threshold = 1000;
    o.chunk_size = 1000;
    RegistryClient c = client(o);
    const auto blob = std::make_shared<const std::string>(pattern(2500, 6));
    const store::Digest d = store::sha256_of(*blob);
    c.upload_blob("one/src", d, BlobSource::from_string(blob));
    server_->clear_log();
    ASSERT_TRUE(c.mount_blob("one/dst", d, "one/src"));
    const auto after_mount = server_->requests();
    EXPECT_EQ(count(after_mount,
                    "POST /v2/one/dst/blobs/uploads/?mount=" + d.str() + "&from=one/src 201") +
                  count(after_mount, "POST /v2/one/dst/blobs/uploads/?mount=sha256%3A" + d.hex +
                                         "&from=one%2Fsrc 201"),
              1u)
        << joined(after_mount);
    EXPECT_EQ(count(after_mount, "PATCH "), 0u) << joined(after_mount);
    EXPECT_EQ(count(after_mount, "PUT "), 0u) << joined(after_mount);

    server_->clear_log();
    const auto blob2 = std::make_shared<const std::string>(pattern(2500, 7));
    c.upload_blob("one/src", store::sha256_of(*blob2), BlobSource::from_string(blob2));
    const auto chunked = server_->requests();
    EXPECT_EQ(count(chunked, "PATCH /v2/one/src/blobs/uploads/"), 3u) << joined(chunked);
    EXPECT_EQ(count(chunked, "PUT /v2/one/src/blobs/uploads/"), 1u) << joined(chunked);
}

// --- TLS ---

std::string thrown(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

class ClientTls : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string why;
        server_ = RegistryServer::start(Mode::kTlsBasicAuth, why);
        if (!server_) GTEST_SKIP() << why;
    }
    std::optional<RegistryServer> server_;
};

TEST_F(ClientTls, WithoutTheCaTheErrorSaysWhatToDo) {
    Endpoint ep = endpoint_of(*server_);
    ep.tls.ca_files.clear();
    ClientOptions o;
    o.retry.max_attempts = 1;
    RegistryClient c(ep, credentials_of(*server_), o);
    const std::string msg = thrown([&] { c.get_manifest("app", "v1", {}); });
    EXPECT_NE(msg.find("TLS"), std::string::npos) << msg;
    EXPECT_NE(msg.find("/etc/docker/certs.d/" + server_->host() + "/ca.crt"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("--insecure-registry " + server_->host()), std::string::npos) << msg;
    EXPECT_NE(msg.find("pull " + server_->host() + "/app:v1"), std::string::npos) << msg;
}

TEST_F(ClientTls, SkipVerifyAndTheCertsDirCa) {
    Endpoint ep = endpoint_of(*server_);
    ep.tls.ca_files = {
        (std::filesystem::path(server_->certs_d()) / server_->host() / "ca.crt").string()};
    RegistryClient with_ca(ep, credentials_of(*server_));
    const auto blob = std::make_shared<const std::string>("tls bytes");
    with_ca.upload_blob("app", store::sha256_of(*blob), BlobSource::from_string(blob));
    ep.tls.ca_files.clear();
    ep.skip_tls_verify = true;
    RegistryClient insecure(ep, credentials_of(*server_));
    EXPECT_EQ(insecure.blob_exists("app", store::sha256_of(*blob)), blob->size());
}

TEST_F(ClientTls, WrongPasswordNamesLoginNeverThePassword) {
    const Credentials bad{server_->username(), "not-the-password-42", ""};
    RegistryClient c(endpoint_of(*server_), [bad](std::string_view) { return std::optional(bad); });
    const std::string msg = thrown([&] { c.get_manifest("app", "v1", {}); });
    EXPECT_NE(msg.find("HTTP 401"), std::string::npos) << msg;
    EXPECT_NE(msg.find("strata login " + server_->host()), std::string::npos) << msg;
    EXPECT_EQ(msg.find("not-the-password-42"), std::string::npos) << msg;
    RegistryClient anonymous(endpoint_of(*server_), {});
    const std::string anon = thrown([&] { anonymous.get_manifest("app", "v1", {}); });
    EXPECT_NE(anon.find("strata login " + server_->host()), std::string::npos) << anon;
}

// --- bearer tokens ---

TEST(ClientToken, TokensReusedUntilTheyExpire) {
    std::string why;
    auto server = RegistryServer::start(Mode::kTokenAuth, why);
    if (!server) GTEST_SKIP() << why;
    auto now = std::chrono::system_clock::now();
    ClientOptions o;
    o.tokens = std::make_shared<TokenCache>([&] { return now; });
    RegistryClient c(endpoint_of(*server), credentials_of(*server), o);
    for (int i = 0; i < 5; ++i) {
        const auto blob = std::make_shared<const std::string>(pattern(100, 10 + i));
        c.upload_blob("tok/app", store::sha256_of(*blob), BlobSource::from_string(blob));
    }
    EXPECT_EQ(server->tokens_issued(), 1);  // one pull,push token for the five uploads
    now += std::chrono::minutes(10);        // past the fixture's 300 s lifetime
    EXPECT_TRUE(c.blob_exists("tok/app", store::sha256_of(pattern(100, 10))));
    EXPECT_EQ(server->tokens_issued(), 2);
    // a pull scope is another token
    std::string got;
    c.fetch_blob("tok/app", store::sha256_of(pattern(100, 10)), 100,
                 [&](const char* p, size_t n) { got.append(p, n); });
    EXPECT_EQ(server->tokens_issued(), 3);
    EXPECT_EQ(got, pattern(100, 10));
}

// Uploads that start together (as a push's layers do) with no token yet for
// their scope: one asks the token server, the others wait for its answer.
TEST(ClientToken, UploadsStartingTogetherAskForOneToken) {
    std::string why;
    auto server = RegistryServer::start(Mode::kTokenAuth, why);
    if (!server) GTEST_SKIP() << why;
    RegistryClient c(endpoint_of(*server), credentials_of(*server));
    // The host's challenge learnt (and a pull token for another repository).
    EXPECT_FALSE(c.blob_exists("tok/first", store::sha256_of(pattern(10, 1))));
    ASSERT_EQ(server->tokens_issued(), 1);

    constexpr int kThreads = 8;
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    std::vector<std::string> errors(kThreads);
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            const auto blob = std::make_shared<const std::string>(pattern(100, 50 + i));
            ++ready;
            while (ready < kThreads)
                std::this_thread::yield();
            try {
                c.upload_blob("tok/together", store::sha256_of(*blob),
                              BlobSource::from_string(blob));
            } catch (const std::exception& e) {
                errors[static_cast<size_t>(i)] = e.what();
            }
        });
    for (auto& th : threads)
        th.join();
    for (const auto& e : errors)
        EXPECT_EQ(e, "");
    EXPECT_EQ(server->tokens_issued(), 2) << "one pull,push token for the eight uploads";
    for (int i = 0; i < kThreads; ++i)
        EXPECT_TRUE(c.blob_exists("tok/together", store::sha256_of(pattern(100, 50 + i))));
}

TEST(ClientToken, AnonymousPullAndRefusedPush) {
    std::string why;
    RegistryServer::Options options;
    options.anonymous_pull = true;
    auto server = RegistryServer::start(Mode::kTokenAuth, options, why);
    if (!server) GTEST_SKIP() << why;
    RegistryClient pusher(endpoint_of(*server), credentials_of(*server));
    const auto blob = std::make_shared<const std::string>("public bytes");
    const store::Digest d = store::sha256_of(*blob);
    pusher.upload_blob("pub/app", d, BlobSource::from_string(blob));

    RegistryClient anonymous(endpoint_of(*server), {});
    std::string got;
    anonymous.fetch_blob("pub/app", d, blob->size(),
                         [&](const char* p, size_t n) { got.append(p, n); });
    EXPECT_EQ(got, *blob);
    const std::string msg =
        thrown([&] { anonymous.upload_blob("pub/app", d, BlobSource::from_string(blob)); });
    EXPECT_NE(msg.find("push blob " + d.str()), std::string::npos) << msg;
    EXPECT_NE(msg.find("strata login " + server->host()), std::string::npos) << msg;
}

}  // namespace
}  // namespace strata::registry

namespace strata::registry {
namespace {

// An insecure registry as RegistryHosts describes 127.0.0.1 (HTTPS without
// verification, then plain HTTP): the client settles on the scheme the
// registry speaks, once, and every verb works.
TEST(ClientInsecure, FallsBackToPlainHttpOnlyWhenHttpsCannotWork) {
    for (Mode mode : {Mode::kPlainHttp, Mode::kTlsBasicAuth}) {
        std::string why;
        auto server = RegistryServer::start(mode, why);
        if (!server) GTEST_SKIP() << why;
        Endpoint ep;
        ep.domain = ep.host = server->host();
        ep.skip_tls_verify = true;
        ep.http_fallback = true;
        RegistryClient c(ep, credentials_of(*server));
        const std::string blob = pattern(1000, 7);
        const store::Digest d = store::sha256_of(blob);
        c.upload_blob("fallback/repo", d,
                      BlobSource::from_string(std::make_shared<const std::string>(blob)));
        EXPECT_EQ(fetch(c, "fallback/repo", d, blob.size()), blob);
        // The TLS registry was used over TLS: the plain one answered the
        // probe's handshake with HTTP, the TLS one took it.
        const auto requests = server->requests();
        EXPECT_GE(count(requests, "PUT /v2/fallback/repo/blobs/uploads/"), 1u) << joined(requests);
        EXPECT_EQ(c.ping().status, mode == Mode::kPlainHttp ? PingResult::Status::kOk
                                                            : PingResult::Status::kNeedsAuth);
    }
}

}  // namespace
}  // namespace strata::registry
