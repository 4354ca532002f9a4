// pull_image against an in-memory source: what is stored, what is checked,
// what is skipped. (Against a real registry: registry_pull_test.cpp.)
#include "registry/pull.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "store/image_fixture.hpp"

namespace strata::registry {
namespace {

using nlohmann::json;
using store::Digest;

class FakeSource final : public ImageSource {
  public:
    std::map<std::string, std::string> manifests;  // reference → bytes
    std::map<std::string, std::string> blobs;      // digest → bytes
    std::map<std::string, int> blob_fetches;
    std::string describe() const override { return "fake/repo"; }
    FetchedManifest manifest(const std::string& reference) override {
        auto it = manifests.find(reference);
        if (it == manifests.end()) throw Error(ErrorKind::kNotFound, "manifest unknown");
        return {it->second, "", store::sha256_of(it->second)};
    }
    void blob(const Digest& d, int64_t,
              const std::function<void(const char*, size_t)>& sink) override {
        ++blob_fetches[d.str()];
        const std::string& b = blobs.at(d.str());
        // In pieces, as a network delivers it.
        for (size_t i = 0; i < b.size(); i += 1000)
            sink(b.data() + i, std::min<size_t>(1000, b.size() - i));
    }
    Digest add_blob(const std::string& bytes) {
        const Digest d = store::sha256_of(bytes);
        blobs[d.str()] = bytes;
        return d;
    }
    // Publishes `bytes` under `tag` and under its digest.
    Digest add_manifest(const std::string& tag, const std::string& bytes) {
        const Digest d = store::sha256_of(bytes);
        if (!tag.empty()) manifests[tag] = bytes;
        manifests[d.str()] = bytes;
        return d;
    }
};

struct Built {
    std::string manifest;
    Digest config;
    std::vector<Digest> layers;
    std::vector<Digest> diff_ids;
};

// An image of `files` (one layer each, gzip), for `arch`, in `source`.
Built make_image(FakeSource& source, const std::vector<std::string>& files,
                 const std::string& arch = "amd64", bool docker = true) {
    Built b;
    json layers = json::array(), diff_ids = json::array();
    for (const auto& name : files) {
        imagetest::TarBuilder plain, gz(true);
        plain.file(name, "content of " + name);
        gz.file(name, "content of " + name);
        const std::string tar = plain.finish(), tgz = gz.finish();
        b.diff_ids.push_back(store::sha256_of(tar));
        b.layers.push_back(source.add_blob(tgz));
        diff_ids.push_back(b.diff_ids.back().str());
        layers.push_back({{"mediaType", docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                                               : "application/vnd.oci.image.layer.v1.tar+gzip"},
                          {"digest", b.layers.back().str()},
                          {"size", tgz.size()}});
    }
    const std::string config = json{{"architecture", arch},
                                    {"os", "linux"},
                                    {"config", {{"Cmd", {"sh"}}}},
                                    {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                                   .dump();
    b.config = source.add_blob(config);
    b.manifest = json{
        {"schemaVersion", 2},
        {"mediaType", docker ? "application/vnd.docker.distribution.manifest.v2+json"
                             : "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", docker ? "application/vnd.docker.container.image.v1+json"
                               : "application/vnd.oci.image.config.v1+json"},
          {"digest", b.config.str()},
          {"size", config.size()}}},
        {"layers",
         layers}}.dump(3);  // not canonical on purpose: kept as served
    return b;
}

struct PullTest : ::testing::Test {
    TempDir dir = imagetest::scratch("strata-pull-test-");
    store::ImageStore store{dir.path() / "store"};
    FakeSource source;
    std::vector<PullEvent> events;
    PullOptions options() {
        PullOptions o;
        o.platform.os = "linux";
        o.platform.architecture = "amd64";
        o.progress = [this](const PullEvent& e) { events.push_back(e); };
        return o;
    }
    PullResult pull(const std::string& ref) {
        events.clear();
        return pull_image(store, source, store::Reference::parse(ref), options());
    }
    // The image's first layer is refused by whatever first reads it: the
    // unpack (naming the blob; nothing put in layers/) and the measure
    // (saying `measure_says`), and the record stays unmeasured.
    void expect_refused_when_read(const store::ImageRecord& image,
                                  const std::string& measure_says) {
        const store::LayerRecord& l = image.layers[0];
        try {
            store.layers().ensure_unpacked(l.digest, l.diff_id);
            ADD_FAILURE() << "unpacked " << l.digest.str();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
            EXPECT_NE(std::string(e.what()).find(l.digest.str()), std::string::npos) << e.what();
        }
        EXPECT_FALSE(store.layers().has(l.diff_id));
        try {
            store.measure(image);
            ADD_FAILURE() << "measured " << l.digest.str();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
            EXPECT_NE(std::string(e.what()).find(measure_says), std::string::npos) << e.what();
        }
        EXPECT_FALSE(store.image(image.manifest)->measured());
    }
    int count(PullEvent::Kind k) const {
        int n = 0;
        for (const auto& e : events)
            n += e.kind == k;
        return n;
    }
};

TEST_F(PullTest, StoresTheImageAsServedAndTagsIt) {
    const Built b = make_image(source, {"a", "b"});
    const Digest m = source.add_manifest("1.0", b.manifest);
    const PullResult r = pull("localhost:5000/app:1.0");
    EXPECT_EQ(r.resolved, m);
    EXPECT_EQ(r.image.manifest, m);
    EXPECT_EQ(r.image.config, b.config);
    ASSERT_EQ(r.image.layers.size(), 2u);
    EXPECT_EQ(r.image.layers[0].digest, b.layers[0]);
    EXPECT_EQ(r.image.layers[0].diff_id, b.diff_ids[0]);
    EXPECT_EQ(r.image.layers[1].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    EXPECT_EQ(store.content().read(m), b.manifest);  // byte for byte
    // Sizes are measured (and diffIDs checked) when first shown, then kept.
    EXPECT_FALSE(r.image.layers[1].unpacked_size);
    EXPECT_EQ(store.measure(r.image).layers[1].unpacked_size, std::string("content of b").size());
    EXPECT_EQ(store.image(m)->layers[1].unpacked_size, std::string("content of b").size());
    EXPECT_TRUE(store.image(m)->measured());
    EXPECT_EQ(store.lookup("localhost:5000/app:1.0").image.manifest, m);
    EXPECT_EQ(count(PullEvent::Kind::kComplete), 2);
    EXPECT_GT(r.downloaded, 0u);
    // Usable: the layers unpack and their diffIDs hold.
    for (const auto& l : r.image.layers)
        EXPECT_TRUE(std::filesystem::exists(store.layers().ensure_unpacked(l.digest, l.diff_id)));
}

TEST_F(PullTest, SecondPullDownloadsNothing) {
    const Built b = make_image(source, {"a", "b"});
    source.add_manifest("latest", b.manifest);
    pull("localhost:5000/app");
    const auto fetches = source.blob_fetches;
    const PullResult again = pull("localhost:5000/app:latest");
    EXPECT_EQ(source.blob_fetches, fetches);
    EXPECT_EQ(count(PullEvent::Kind::kAlreadyExists), 2);
    EXPECT_EQ(again.downloaded, 0u);
    EXPECT_FALSE(again.newer);
    EXPECT_FALSE(again.replaced);
    // A new image sharing a layer downloads only the other one.
    const Built c = make_image(source, {"a", "c"});
    source.add_manifest("latest", c.manifest);
    const PullResult third = pull("localhost:5000/app");
    EXPECT_EQ(source.blob_fetches[c.layers[0].str()], 1);
    EXPECT_EQ(source.blob_fetches[c.layers[1].str()], 1);
    EXPECT_TRUE(third.newer);
    ASSERT_TRUE(third.replaced);
}

TEST_F(PullTest, MeasuringOneImageMeasuresItsLayersInEveryImage) {
    const Built b = make_image(source, {"a", "b"});
    const Built c = make_image(source, {"a", "c"});
    const Digest mb = source.add_manifest("b", b.manifest);
    const Digest mc = source.add_manifest("c", c.manifest);
    pull("localhost:5000/app:b");
    pull("localhost:5000/app:c");
    const auto fetches = source.blob_fetches;
    const store::ImageRecord measured = store.measure(*store.image(mb));
    EXPECT_TRUE(measured.measured());
    EXPECT_EQ(measured.unpacked_size(), std::string("content of acontent of b").size());
    EXPECT_EQ(*store.image(mb), measured);
    const store::ImageRecord other = *store.image(mc);
    EXPECT_EQ(other.layers[0].unpacked_size, std::string("content of a").size());
    EXPECT_FALSE(other.layers[1].unpacked_size);
    EXPECT_EQ(source.blob_fetches, fetches);  // measured from the store's blobs
}

TEST_F(PullTest, IndexResolvesToTheWantedPlatform) {
    const Built amd = make_image(source, {"x86"}, "amd64", false);
    const Built arm = make_image(source, {"arm"}, "arm64", false);
    const Digest ma = source.add_manifest("", amd.manifest);
    const Digest mb = source.add_manifest("", arm.manifest);
    const std::string index =
        json{{"schemaVersion", 2},
             {"mediaType", "application/vnd.oci.image.index.v1+json"},
             {"manifests",
              {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"digest", mb.str()},
                {"size", arm.manifest.size()},
                {"platform", {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}}},
               {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"digest", ma.str()},
                {"size", amd.manifest.size()},
                {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}}
            .dump();
    const Digest mi = source.add_manifest("multi", index);
    const PullResult r = pull("localhost:5000/app:multi");
    EXPECT_EQ(r.resolved, mi);
    EXPECT_EQ(r.image.manifest, ma);
    EXPECT_EQ(source.blob_fetches.count(arm.layers[0].str()), 0u);
    // By the index's digest: the same image, no tag made.
    auto o = options();
    o.platform.architecture = "arm64";
    const PullResult by_digest =
        pull_image(store, source, store::Reference::parse("localhost:5000/other@" + mi.str()), o);
    EXPECT_EQ(by_digest.image.manifest, mb);
    EXPECT_THROW(store.lookup("localhost:5000/other:latest"), Error);
}

TEST_F(PullTest, WrongBytesAreRefusedAndLeaveNothing) {
    const Built b = make_image(source, {"a", "b"});
    source.add_manifest("latest", b.manifest);
    source.blobs[b.layers[1].str()][20] ^= 1;
    try {
        pull("localhost:5000/app");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
        EXPECT_NE(std::string(e.what()).find(b.layers[1].str()), std::string::npos) << e.what();
    }
    EXPECT_TRUE(store.images().empty());
    EXPECT_FALSE(store.content().has(b.layers[1]));
    EXPECT_TRUE(imagetest::tmp_is_empty(dir.path() / "store"));
}

TEST_F(PullTest, LayerThatIsNotWhatTheConfigSaysIsRefusedWhenRead) {
    Built b = make_image(source, {"a"});
    const Built other = make_image(source, {"z"});
    // The manifest names layer z, whose diffID the config does not list.
    json m = json::parse(b.manifest);
    m["layers"][0]["digest"] = other.layers[0].str();
    m["layers"][0]["size"] = source.blobs[other.layers[0].str()].size();
    source.add_manifest("latest", m.dump());
    // The blobs are what the manifest names; the layer's content is checked
    // against the config's diffID when first read, as containerd does.
    const PullResult r = pull("localhost:5000/app");
    const store::LayerRecord& l = r.image.layers[0];
    EXPECT_EQ(l.diff_id, b.diff_ids[0]);
    EXPECT_FALSE(l.unpacked_size);
    expect_refused_when_read(r.image, "but the image's config says " + l.diff_id.str());
}

// A registry is untrusted: a layer whose entries climb out of the root, or
// link out of it, is refused by whatever first reads it — whatever its
// digests — and leaves nothing behind.
TEST_F(PullTest, LayerThatEscapesItsRootIsRefusedWhenRead) {
    const struct {
        const char* name;
        std::function<void(imagetest::TarBuilder&)> add;
    } rows[] = {
        {"dotdot", [](imagetest::TarBuilder& t) { t.file("../../etc/evil", "x"); }},
        {"absolute", [](imagetest::TarBuilder& t) { t.file("/etc/evil", "x"); }},
        {"through-symlink",
         [](imagetest::TarBuilder& t) { t.symlink("up", "../..").file("up/evil", "x"); }},
        {"hardlink-out", [](imagetest::TarBuilder& t) { t.hardlink("h", "../../etc/passwd"); }},
    };
    for (const auto& row : rows) {
        SCOPED_TRACE(row.name);
        imagetest::TarBuilder plain, gz(true);
        row.add(plain);
        row.add(gz);
        const std::string tar = plain.finish(), tgz = gz.finish();
        const Digest layer = source.add_blob(tgz);
        const std::string config =
            json{{"architecture", "amd64"},
                 {"os", "linux"},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {store::sha256_of(tar).str()}}}}}
                .dump();
        const Digest c = source.add_blob(config);
        const std::string manifest = json{
            {"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
            {"config",
             {{"mediaType", "application/vnd.oci.image.config.v1+json"},
              {"digest", c.str()},
              {"size", config.size()}}},
            {"layers",
             {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
               {"digest", layer.str()},
               {"size", tgz.size()}}}}}.dump();
        source.add_manifest(row.name, manifest);
        // Its blobs are what the manifest names: the pull stores them, and
        // the first reader of the layer's content refuses it.
        const PullResult r = pull("localhost:5000/app:" + std::string(row.name));
        expect_refused_when_read(r.image, r.image.layers[0].digest.str());
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "etc" / "evil"));
}

TEST_F(PullTest, ManifestMustMatchTheDigestAsked) {
    const Built b = make_image(source, {"a"});
    const Digest m = source.add_manifest("latest", b.manifest);
    source.manifests[m.str()] = b.manifest + " ";  // the registry lies
    EXPECT_THROW(pull("localhost:5000/app@" + m.str()), Error);
    EXPECT_TRUE(store.images().empty());
}

TEST_F(PullTest, RefusesWhatIsNotAnImage) {
    // Docker schema 1.
    source.add_manifest("old", R"({"schemaVersion": 1, "name": "x", "fsLayers": []})");
    try {
        pull("localhost:5000/app:old");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("schema 1"), std::string::npos) << e.what();
    }
    // A foreign layer.
    Built b = make_image(source, {"a"});
    json m = json::parse(b.manifest);
    m["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    m["layers"][0]["urls"] = {"https://example.invalid/layer"};
    source.add_manifest("foreign", m.dump());
    EXPECT_THROW(pull("localhost:5000/app:foreign"), Error);
    // An artifact.
    m = json::parse(b.manifest);
    m["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json";
    source.add_manifest("chart", m.dump());
    EXPECT_THROW(pull("localhost:5000/app:chart"), Error);
    // A tag the repository does not have.
    try {
        pull("localhost:5000/app:missing");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    }
    EXPECT_TRUE(store.images().empty());
}

TEST_F(PullTest, PlatformOfASinglePlatformImageMustMatchWhenAsked) {
    const Built b = make_image(source, {"a"}, "arm64");
    source.add_manifest("latest", b.manifest);
    auto o = options();
    o.platform_given = true;
    try {
        pull_image(store, source, store::Reference::parse("localhost:5000/app"), o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("wanted linux/amd64, actual: linux/arm64"),
                  std::string::npos)
            << e.what();
    }
    // Not asked for: Docker pulls it (and warns when it runs).
    EXPECT_NO_THROW(pull("localhost:5000/app"));
}

}  // namespace
}  // namespace strata::registry
