// Reads a layer tar (any compression libarchive detects; gzip through the
// store's GzipDecoder, as pull and unpack do) once, front to back,
// into LayerFiles: metadata and content digests per entry. Nothing is written
// to disk; memory holds one data block at a time plus what LayerFiles keeps.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "diff/file_entry.hpp"

namespace strata::diff {

// The next chunk of the raw (possibly compressed) layer bytes; an empty view
// at the end. A chunk stays valid until the next call.
using ChunkSource = std::function<std::string_view()>;

// How many bytes of small text files an image may still keep.
struct TextBudget {
    int64_t left = kTextBudget;
};

// `what` names the layer in errors ("layer 2 of docker-archive:a.tar").
// Error(kCorrupt) for a truncated or malformed tar.
LayerFiles scan_layer(const ChunkSource& source, const std::string& what, TextBudget& budget);
LayerFiles scan_layer_fd(int fd, const std::string& what, TextBudget& budget);

// "/a/b" from "./a/b/", "a/b", "/a//b"; "/" for the root.
std::string clean_entry_path(std::string_view name);

}  // namespace strata::diff
