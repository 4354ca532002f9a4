// The OCI image layout (image-spec/image-layout.md) as strata reads and
// writes it inside archives: `oci-layout`, `index.json`, `blobs/sha256/…`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/manifest.hpp"
#include "store/name_index_reference.hpp"

namespace strata::store {

inline constexpr std::string_view kOciLayoutFile = "oci-layout";
inline constexpr std::string_view kOciIndexFile = "index.json";
inline constexpr std::string_view kOciLayoutVersion = "1.0.0";

// The `oci-layout` file's content: {"imageLayoutVersion":"1.0.0"}.
std::string oci_layout_json();
// Error(kParse) naming `what` unless `text` declares layout version 1.0.0.
void check_oci_layout(std::string_view text, std::string_view what);

// The image name an index.json descriptor carries: io.containerd.image.name
// when present, else org.opencontainers.image.ref.name when it is a whole
// reference (has a '/' or ':'; a bare tag names nothing). Always tagged.
std::optional<Reference> descriptor_image_name(const Descriptor& d);

// Annotations for a descriptor naming `name` in index.json, as Docker 25+
// writes them: the full name and the tag.
std::map<std::string, std::string> name_annotations(const Reference& name);

}  // namespace strata::store
