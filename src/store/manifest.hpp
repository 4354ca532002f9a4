// OCI image manifests and indexes, and the Docker schema2 manifests and
// manifest lists that share their shape (docker-save archives and registries
// still use them). One model for both: the media types tell them apart.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/digest.hpp"

namespace strata::store {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
}  // namespace media_type

bool is_manifest_media_type(std::string_view mt);  // OCI manifest or Docker schema2
bool is_index_media_type(std::string_view mt);     // OCI index or Docker manifest list
bool is_config_media_type(std::string_view mt);    // OCI or Docker image config

namespace annotation {
// The tag of a manifest in an OCI layout's index.json (Docker, containerd
// and skopeo write the tag alone; some tools write a whole reference).
inline constexpr const char* kRefName = "org.opencontainers.image.ref.name";
// The full image name, as containerd and Docker 25+ write it.
inline constexpr const char* kImageName = "io.containerd.image.name";
inline constexpr const char* kCreated = "org.opencontainers.image.created";
}  // namespace annotation

struct Platform {
    std::string architecture;
    std::string os;
    std::string variant;
    std::string os_version;
    std::vector<std::string> os_features;
    bool operator==(const Platform&) const = default;
    std::string str() const;  // "linux/arm64/v8"
};

struct Descriptor {
    std::string media_type;
    Digest digest;
    int64_t size = 0;
    std::vector<std::string> urls;
    std::map<std::string, std::string> annotations;
    std::optional<Platform> platform;
    std::string artifact_type;
    bool operator==(const Descriptor&) const = default;

    nlohmann::json to_json() const;
    static Descriptor from_json(const nlohmann::json& j, std::string_view what);
};

struct Manifest {
    int schema_version = 2;
    std::string media_type{media_type::kOciManifest};  // may be empty in OCI documents
    std::string artifact_type;
    Descriptor config;
    std::vector<Descriptor> layers;
    std::optional<Descriptor> subject;
    std::map<std::string, std::string> annotations;
    bool operator==(const Manifest&) const = default;

    // Error(kParse) naming `what` for anything malformed (schemaVersion other
    // than 2, missing config, bad digests, negative sizes, an index).
    static Manifest parse(std::string_view json, std::string_view what = "manifest");
    nlohmann::json to_json() const;
    std::string canonical() const;
    bool is_docker() const { return media_type == media_type::kDockerManifest; }
};

struct Index {
    int schema_version = 2;
    std::string media_type{media_type::kOciIndex};
    std::string artifact_type;
    std::vector<Descriptor> manifests;
    std::map<std::string, std::string> annotations;
    bool operator==(const Index&) const = default;

    static Index parse(std::string_view json, std::string_view what = "index");
    nlohmann::json to_json() const;
    std::string canonical() const;
};

enum class DocumentKind { kManifest, kIndex };
// What a manifest-like JSON document is: from its mediaType, else from its
// shape ("manifests" → index, "config"/"layers" → manifest). Error(kParse)
// when it is neither (e.g. a Docker schema1 manifest).
DocumentKind document_kind(std::string_view json, std::string_view what);

// Whether `p` can run here: same OS and architecture; a variant only counts
// when both sides name one.
bool platform_matches(const Platform& p, std::string_view os, std::string_view architecture,
                      std::string_view variant);

}  // namespace strata::store
