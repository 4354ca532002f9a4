// Pull through the distribution client when the registry misbehaves: a 500
// then success, a connection cut mid-blob, a corrupted byte, refused
// credentials, nothing listening. Each is retried or refused with a clear
// error, and the store is left clean (store check passes, no stray image,
// nothing in tmp). The registry is a scripted server on 127.0.0.1.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "registry/client.hpp"
#include "registry/pull.hpp"
#include "registry/registry_image_source.hpp"
#include "store/image_fixture.hpp"
#include "store/store_check.hpp"
#include "support/http_server.hpp"

namespace strata::registry {
namespace {

using nlohmann::json;
using testsupport::TestHttpServer;
using Route = TestHttpServer::Route;

struct FakeRegistryImage {
    std::string manifest, config, layer;
    store::Digest manifest_digest, config_digest, layer_digest;
};

FakeRegistryImage make_image() {
    FakeRegistryImage img;
    imagetest::TarBuilder plain, gz(true);
    // Big enough to be cut part-way.
    std::string data(200000, '\0');
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>((i * 7919) ^ (i >> 5));
    plain.file("data.bin", data);
    gz.file("data.bin", data);
    const std::string tar = plain.finish();
    img.layer = gz.finish();
    img.layer_digest = store::sha256_of(img.layer);
    img.config = json{{"architecture", "amd64"},
                      {"os", "linux"},
                      {"rootfs", {{"type", "layers"}, {"diff_ids", {store::sha256_of(tar).str()}}}}}
                     .dump();
    img.config_digest = store::sha256_of(img.config);
    img.manifest = json{{"schemaVersion", 2},
                        {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                        {"config",
                         {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                          {"digest", img.config_digest.str()},
                          {"size", img.config.size()}}},
                        {"layers",
                         {{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                           {"digest", img.layer_digest.str()},
                           {"size", img.layer.size()}}}}}
                       .dump();
    img.manifest_digest = store::sha256_of(img.manifest);
    return img;
}

struct PullFailure : ::testing::Test {
    TempDir dir = imagetest::scratch("strata-pull-failure-");
    store::ImageStore store{dir.path() / "store"};
    TestHttpServer server;
    FakeRegistryImage img = make_image();

    void SetUp() override {
        server.route("/v2/", Route(200, "{}"));
        Route m(200, img.manifest);
        m.headers = {"Content-Type: application/vnd.docker.distribution.manifest.v2+json"};
        server.route("/v2/app/manifests/latest", m);
        server.route("/v2/app/blobs/" + img.config_digest.str(), Route(200, img.config));
        server.route(layer_path(), Route(200, img.layer));
    }
    std::string layer_path() const { return "/v2/app/blobs/" + img.layer_digest.str(); }

    PullResult pull(CredentialLookup creds = {}, uint16_t port = 0) {
        Endpoint ep;
        ep.domain = ep.host = "127.0.0.1:" + std::to_string(port ? port : server.port());
        ep.plain_http = true;
        ClientOptions o;
        o.sleep = [](std::chrono::milliseconds) {};  // retries without waiting
        RegistryClient client(ep, std::move(creds), o);
        RegistryImageSource source(client, ep.host, "app");
        PullOptions po;
        po.platform.os = "linux";
        po.platform.architecture = "amd64";
        return pull_image(store, source, store::Reference::parse(ep.host + "/app"), po);
    }
    void expect_clean_store() {
        EXPECT_TRUE(store.images().empty());
        EXPECT_TRUE(imagetest::tmp_is_empty(dir.path() / "store"));
        const auto report = store::check_store(store);
        EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0]);
    }
};

TEST_F(PullFailure, A500ThenSuccessIsRetried) {
    server.sequence(layer_path(), {Route(500, "oops"), Route(503, "busy"), Route(200, img.layer)});
    const PullResult r = pull();
    EXPECT_EQ(r.image.manifest, img.manifest_digest);
    EXPECT_EQ(server.hits(layer_path()), 3);
    EXPECT_TRUE(store::check_store(store).ok());
}

TEST_F(PullFailure, ACutMidBlobIsResumed) {
    Route cut(200, img.layer);
    cut.cut_after = img.layer.size() / 3;
    cut.ranges = true;
    Route rest(200, img.layer);
    rest.ranges = true;
    server.sequence(layer_path(), {cut, rest});
    const PullResult r = pull();
    EXPECT_EQ(r.image.layers.at(0).digest, img.layer_digest);
    EXPECT_NE(server.last_request(layer_path()).find("Range: bytes="), std::string::npos);
    EXPECT_TRUE(store::check_store(store).ok());
}

TEST_F(PullFailure, ACorruptedByteIsRefusedWithTheDigestNamed) {
    std::string bad = img.layer;
    bad[bad.size() / 2] ^= 0x20;
    server.route(layer_path(), Route(200, bad));
    try {
        pull();
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
        EXPECT_NE(std::string(e.what()).find(img.layer_digest.str()), std::string::npos)
            << e.what();
    }
    expect_clean_store();
}

TEST_F(PullFailure, RefusedCredentialsSayStrataLogin) {
    Route challenge(401,
                    R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})");
    challenge.headers = {"WWW-Authenticate: Basic realm=\"test\""};
    server.route("/v2/app/manifests/latest", challenge);
    try {
        pull([](std::string_view) { return std::optional<Credentials>({"u", "s3cret-pw", ""}); });
        FAIL() << "expected an error";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("strata login"), std::string::npos) << what;
        EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
    }
    expect_clean_store();
}

TEST_F(PullFailure, NothingListeningIsAClearError) {
    // A port that was free a moment ago: bind, read it, close.
    uint16_t port = 0;
    {
        TestHttpServer gone;
        port = gone.port();
    }
    try {
        pull({}, port);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)),
                  std::string::npos)
            << e.what();
    }
    expect_clean_store();
}

}  // namespace
}  // namespace strata::registry
