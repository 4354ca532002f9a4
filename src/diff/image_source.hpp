// The two sides of a comparison: an image in the store (name, ID or ID
// prefix), a docker-save tarball (`docker-archive:FILE`), an OCI layout in a
// tar (`oci-archive:FILE`) or in a directory (`oci:DIR[:TAG]`), read into
// LoadedImage: the manifest and config documents as they are (bytes kept: the
// digests are their identity) and each layer's LayerFiles.
//
// Archives are read in one pass (the outer tar, any compression): small JSON
// entries are kept, every other regular entry is scanned as a layer as it
// streams by; nothing is unpacked to disk. Store images and OCI directories
// are opened first and their layers scanned only when needed (scan_layers),
// so two images with the same config skip the layers altogether.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"
#include "diff/file_entry.hpp"
#include "diff/layer_scan.hpp"

namespace strata::store {
class ImageStore;
struct ImageRecord;
}  // namespace strata::store

namespace strata::diff {

struct ImageLayer {
    std::string diff_id;     // "sha256:…" from the config's rootfs
    std::string digest;      // the blob's digest from the manifest, when there is one
    std::string media_type;  // from the manifest
    std::string created_by;  // the history entry (Dockerfile step) that made it
    std::string source;      // where the blob is: a store digest, an archive entry name
    LayerFilesPtr files;     // null until scanned
};

struct LoadedImage {
    std::string name;                          // as given on the command line
    std::optional<std::string> manifest_json;  // none for an old docker-save entry
    std::string manifest_digest;               // "" when there is no manifest
    std::string config_json;
    std::string config_digest;  // the image ID
    std::vector<ImageLayer> layers;
    // Opens layers[i].source for scanning (store images, OCI directories).
    std::function<UniqueFd(const std::string& source)> open_layer;
};

// Scanned layers by diffID, shared by both sides (and both threads): a
// layer both images have is read once.
class LayerCache {
  public:
    LayerFilesPtr get(const std::string& diff_id);
    void put(const std::string& diff_id, LayerFilesPtr files);

  private:
    std::mutex mu_;
    std::map<std::string, LayerFilesPtr> map_;
};

// What kind of thing a command-line argument names. Containers (`strata
// diff CTR`) will be told apart here, before the store lookup.
enum class InputKind { kStoreImage, kDockerArchive, kOciArchive, kOciDir };
struct InputRef {
    InputKind kind = InputKind::kStoreImage;
    std::string location;  // the image reference, file or directory
    std::string tag;       // oci:DIR:TAG
};
InputRef parse_input(std::string_view arg);

// Opens `arg`; `store_root` is used for store images. Archives are scanned
// here (one pass); other inputs leave `files` null until scan_layers.
LoadedImage load_image(std::string_view arg, const std::filesystem::path& store_root,
                       LayerCache* cache = nullptr);
// An image already found in an open store (the build's check).
LoadedImage load_store_image(store::ImageStore& store, const store::ImageRecord& record,
                             std::string name);
// Scans every layer whose files are still null.
void scan_layers(LoadedImage& image, LayerCache* cache = nullptr);

}  // namespace strata::diff
