// Where pull reads an image from: one repository of a registry (the
// distribution client, registry_image_source.hpp) or, in tests, anything
// that can hand out manifests and blobs. Everything it returns is untrusted:
// pull checks every digest, size and media type itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "store/digest.hpp"

namespace strata::registry {

struct FetchedManifest {
    std::string bytes;       // exactly as served
    std::string media_type;  // the Content-Type (may be empty or generic)
    store::Digest digest;    // sha256 of `bytes`
};

class ImageSource {
  public:
    virtual ~ImageSource() = default;
    // "host/name" as messages name it.
    virtual std::string describe() const = 0;
    // A tag ("latest") or a digest ("sha256:…"). Error(kNotFound) when the
    // repository has no such manifest.
    virtual FetchedManifest manifest(const std::string& reference) = 0;
    // Streams the blob's bytes to `sink` in order, each byte once, and
    // returns when all `size` bytes were delivered. The source may check the
    // digest itself; pull checks it again.
    virtual void blob(const store::Digest& digest, int64_t size,
                      const std::function<void(const char*, size_t)>& sink) = 0;
    // Whether blob() itself refuses bytes that do not hash to `digest` (with
    // `size` bytes), before it returns: then pull does not hash them again.
    virtual bool verifies_blobs() const { return false; }
};

}  // namespace strata::registry
