// The OCI image configuration (application/vnd.oci.image.config.v1+json, the
// same document as Docker's application/vnd.docker.container.image.v1+json),
// with Docker's extensions (Healthcheck, OnBuild, Shell).
//
// Parsing keeps every field strata does not model (`extra`), so a config read
// and written back loses nothing. Writing follows Go's `omitempty` rules of
// the OCI and Docker structs. Note that strata never re-serialises a config
// it loaded to store it: blobs keep their original bytes (the image ID is the
// digest of those bytes); to_json()/canonical() are for configs strata makes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store/digest.hpp"

namespace strata::store {

struct HealthConfig {
    // ["NONE"] | ["CMD", arg...] | ["CMD-SHELL", command]; empty: inherit.
    std::vector<std::string> test;
    int64_t interval = 0;        // nanoseconds; 0: inherit
    int64_t timeout = 0;         // nanoseconds
    int64_t start_period = 0;    // nanoseconds
    int64_t start_interval = 0;  // nanoseconds
    int retries = 0;
    bool operator==(const HealthConfig&) const = default;
};

// The "config" object: how to run a container from the image.
struct ContainerConfig {
    std::string user;
    std::set<std::string> exposed_ports;                 // "80/tcp"
    std::vector<std::string> env;                        // "KEY=value", in order
    std::optional<std::vector<std::string>> entrypoint;  // nullopt: not set (null)
    std::optional<std::vector<std::string>> cmd;
    std::set<std::string> volumes;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::string stop_signal;
    std::optional<std::vector<std::string>> shell;
    std::optional<HealthConfig> healthcheck;
    std::vector<std::string> on_build;
    bool args_escaped = false;
    // Fields not modelled above (Docker's Hostname, Tty, Image, ...), kept as is.
    nlohmann::json extra = nlohmann::json::object();

    // The value of KEY in env, when set.
    std::optional<std::string> env_value(std::string_view key) const;
    // Sets KEY=value, replacing an earlier KEY in place (Docker's ENV rule).
    void set_env(std::string_view key, std::string_view value);

    bool operator==(const ContainerConfig&) const = default;
};

struct HistoryEntry {
    std::optional<std::string> created;  // RFC 3339
    std::string created_by;
    std::string author;
    std::string comment;
    bool empty_layer = false;
    bool operator==(const HistoryEntry&) const = default;
};

struct ImageConfig {
    std::optional<std::string> created;  // RFC 3339
    std::string author;
    std::string architecture;  // GOARCH names: amd64, arm64, ...
    std::string os;            // linux
    std::string variant;       // v7, v8 (arm)
    std::string os_version;
    std::vector<std::string> os_features;
    ContainerConfig config;
    std::vector<Digest> diff_ids;  // rootfs.diff_ids, bottom layer first
    std::vector<HistoryEntry> history;
    // Top-level fields not modelled above (Docker's container, container_config,
    // docker_version, ...), kept as is.
    nlohmann::json extra = nlohmann::json::object();

    // Error(kParse) naming `what` and the field for malformed documents.
    static ImageConfig parse(std::string_view json, std::string_view what = "image config");
    static ImageConfig from_json(const nlohmann::json& j, std::string_view what = "image config");
    nlohmann::json to_json() const;
    std::string canonical() const;  // canonical_json(to_json())

    // Number of history entries that are not empty_layer.
    size_t non_empty_history() const;

    bool operator==(const ImageConfig&) const = default;
};

// The running machine as an OCI platform: GOARCH name and variant.
struct HostPlatform {
    std::string os = "linux";
    std::string architecture;
    std::string variant;
};
HostPlatform host_platform();
// Maps a uname machine name (x86_64, aarch64, armv7l, ...) to GOARCH/variant.
HostPlatform platform_from_machine(std::string_view machine);

}  // namespace strata::store
