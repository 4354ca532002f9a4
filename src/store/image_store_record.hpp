// ImageRecord — what the store keeps about one image, besides its blobs:
// <root>/images/<manifest hex>.json. An image is identified by its manifest
// digest (names point at it); its ID, as `docker images` shows it, is the
// config digest.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/digest.hpp"

namespace strata::store {

struct LayerRecord {
    Digest digest;           // of the blob as stored
    Digest diff_id;          // of the uncompressed tar
    uint64_t size = 0;       // blob bytes
    std::string media_type;  // layer media type in the manifest
    // Content bytes, as Docker counts an image's size. Unknown for a layer
    // pulled from a registry until it is first read (ImageStore::measure).
    std::optional<uint64_t> unpacked_size;
    bool operator==(const LayerRecord&) const = default;
};

// The JSON form of a layer record, as image records and cache entries keep it.
nlohmann::json layer_record_to_json(const LayerRecord& layer);
// Throws nlohmann::json exceptions or Error(kParse) on malformed input.
LayerRecord layer_record_from_json(const nlohmann::json& j);

struct ImageRecord {
    Digest manifest;
    std::string manifest_media_type;
    uint64_t manifest_size = 0;
    Digest config;
    uint64_t config_size = 0;
    std::vector<LayerRecord> layers;
    std::string created;  // the config's "created" (may be empty)
    std::string added;    // when the record was written (RFC 3339)

    const Digest& id() const { return config; }
    uint64_t unpacked_size() const;     // sum over layers (measured ones)
    bool measured() const;              // every layer's unpacked size is known
    std::vector<Digest> blobs() const;  // manifest, config, layer blobs

    nlohmann::json to_json() const;
    // Error(kCorrupt) naming `what` for anything malformed.
    static ImageRecord from_json(std::string_view text, std::string_view what);
    bool operator==(const ImageRecord&) const = default;
};

}  // namespace strata::store
