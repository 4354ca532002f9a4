// OCI manifests and indexes, Docker schema2 manifests and manifest lists.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/manifest.hpp"
#include "store/oci_layout.hpp"

namespace strata::store {
namespace {

const std::string kHexA(64, 'a');
const std::string kHexB(64, 'b');
const std::string kHexC(64, 'c');

std::string docker_manifest() {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
      "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"sha256:)" +
           kHexA + R"("},
      "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2811,"digest":"sha256:)" +
           kHexB + R"("}]})";
}

TEST(Manifest, ParsesDockerSchema2) {
    auto m = Manifest::parse(docker_manifest());
    EXPECT_TRUE(m.is_docker());
    EXPECT_EQ(m.config.digest.hex, kHexA);
    EXPECT_EQ(m.config.size, 1469);
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_EQ(m.layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    EXPECT_EQ(document_kind(docker_manifest(), "m"), DocumentKind::kManifest);
}

TEST(Manifest, OciRoundTripIsCanonical) {
    Manifest m;
    m.config = Descriptor{std::string(media_type::kOciConfig),
                          Digest::parse("sha256:" + kHexA),
                          10,
                          {},
                          {},
                          std::nullopt,
                          {}};
    m.layers.push_back(Descriptor{"application/vnd.oci.image.layer.v1.tar+gzip",
                                  Digest::parse("sha256:" + kHexB),
                                  20,
                                  {},
                                  {{"x", "y"}},
                                  std::nullopt,
                                  {}});
    m.annotations["org.opencontainers.image.created"] = "2024-01-01T00:00:00Z";
    std::string text = m.canonical();
    EXPECT_EQ(text.rfind(R"({"annotations":)", 0), 0u) << text;  // keys sorted
    auto back = Manifest::parse(text);
    EXPECT_EQ(back, m);
    EXPECT_EQ(back.canonical(), text);
}

TEST(Manifest, RefusesWhatIsNotAnImageManifest) {
    EXPECT_THROW(Manifest::parse(R"({"schemaVersion":1,"fsLayers":[]})"), Error);
    EXPECT_THROW(Manifest::parse(R"({"schemaVersion":2,"layers":[]})"), Error);  // no config
    EXPECT_THROW(
        Manifest::parse(
            R"({"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"sha256:abc"}})"),
        Error);  // bad digest
    EXPECT_THROW(Manifest::parse(
                     R"({"schemaVersion":2,"config":{"mediaType":"x","size":-1,"digest":"sha256:)" +
                     kHexA + R"("}})"),
                 Error);  // negative size
    EXPECT_THROW(
        Manifest::parse(
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})"),
        Error);
    try {
        Manifest::parse("not json", "manifest X");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kParse);
        EXPECT_NE(std::string(e.what()).find("manifest X"), std::string::npos);
    }
}

TEST(Index, ParsesDockerManifestListWithPlatforms) {
    std::string list =
        R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
      "manifests":[
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"sha256:)" +
        kHexA + R"(","platform":{"architecture":"arm","os":"linux","variant":"v7"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"sha256:)" +
        kHexB + R"(","platform":{"architecture":"amd64","os":"linux"}}]})";
    auto idx = Index::parse(list);
    ASSERT_EQ(idx.manifests.size(), 2u);
    ASSERT_TRUE(idx.manifests[0].platform);
    EXPECT_EQ(idx.manifests[0].platform->str(), "linux/arm/v7");
    EXPECT_TRUE(platform_matches(*idx.manifests[1].platform, "linux", "amd64", ""));
    EXPECT_FALSE(platform_matches(*idx.manifests[0].platform, "linux", "amd64", ""));
    EXPECT_FALSE(platform_matches(*idx.manifests[0].platform, "linux", "arm", "v6"));
    EXPECT_TRUE(platform_matches(*idx.manifests[0].platform, "linux", "arm", ""));
    EXPECT_EQ(document_kind(list, "l"), DocumentKind::kIndex);
    EXPECT_EQ(Index::parse(idx.canonical()), idx);
}

TEST(Index, DocumentKindFromShapeWhenMediaTypeIsAbsent) {
    EXPECT_EQ(document_kind(R"({"schemaVersion":2,"manifests":[]})", "x"), DocumentKind::kIndex);
    EXPECT_EQ(document_kind(R"({"schemaVersion":2,"config":{}})", "x"), DocumentKind::kManifest);
    EXPECT_THROW(document_kind(R"({"schemaVersion":2})", "x"), Error);
    EXPECT_THROW(document_kind(R"({"schemaVersion":2,"mediaType":"text/plain"})", "x"), Error);
    EXPECT_THROW(document_kind(R"({"schemaVersion":1,"fsLayers":[],"config":{}})", "x"), Error);
}

TEST(OciLayout, NamesFromIndexAnnotations) {
    Descriptor d;
    d.annotations[annotation::kImageName] = "docker.io/library/busybox:1.36";
    d.annotations[annotation::kRefName] = "1.36";
    auto n = descriptor_image_name(d);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->familiar(), "busybox:1.36");

    Descriptor tag_only;
    tag_only.annotations[annotation::kRefName] = "latest";
    EXPECT_FALSE(descriptor_image_name(tag_only));  // a bare tag names no repository

    Descriptor full_ref;
    full_ref.annotations[annotation::kRefName] = "example.com/app";
    ASSERT_TRUE(descriptor_image_name(full_ref));
    EXPECT_EQ(descriptor_image_name(full_ref)->str(), "example.com/app:latest");

    auto ann = name_annotations(Reference::parse("busybox"));
    EXPECT_EQ(ann.at(annotation::kImageName), "docker.io/library/busybox:latest");
    EXPECT_EQ(ann.at(annotation::kRefName), "latest");

    EXPECT_NO_THROW(check_oci_layout(oci_layout_json(), "x"));
    EXPECT_THROW(check_oci_layout(R"({"imageLayoutVersion":"2.0.0"})", "x"), Error);
    EXPECT_THROW(check_oci_layout(R"({})", "x"), Error);
}

}  // namespace
}  // namespace strata::store
