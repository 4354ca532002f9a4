// Image references as Docker parses them (distribution/reference):
//
//   [DOMAIN/]PATH[:TAG][@DIGEST]
//
// normalised the Docker way: no domain means docker.io, and a one-component
// path on docker.io gets "library/" ("busybox" → "docker.io/library/busybox").
// The "familiar" form drops those again for display ("busybox:latest").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/digest.hpp"

namespace strata::store {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";

struct Reference {
    std::string domain;  // "docker.io", "localhost:5000", "quay.io"
    std::string path;    // "library/busybox"
    std::string tag;     // empty when the reference has none
    std::optional<Digest> digest;

    // Error(kUsage) "invalid reference format: ..." for anything Docker refuses.
    static Reference parse(std::string_view text);
    static std::optional<Reference> try_parse(std::string_view text);

    // The same reference with tag "latest" when it has neither tag nor digest.
    Reference with_default_tag() const;
    bool name_only() const { return tag.empty() && !digest; }

    std::string repository() const;           // "docker.io/library/busybox"
    std::string familiar_repository() const;  // "busybox"
    std::string str() const;       // full: "docker.io/library/busybox:latest[@sha256:…]"
    std::string familiar() const;  // "busybox:latest[@sha256:…]"

    bool operator==(const Reference&) const = default;
    auto operator<=>(const Reference&) const = default;
};

// Whether `text` can be (a prefix of) an image ID: 1–64 lowercase hex
// characters, optionally after "sha256:".
bool looks_like_id(std::string_view text);

}  // namespace strata::store
