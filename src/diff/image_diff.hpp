// The comparison engine of `strata diff` and `strata build
// --check-reproducible`: two LoadedImages → a list of differences, each as
// small as it can be (one field of one file, one config field), grouped by
// scope: the manifest, the config, each layer (aligned by position), and the
// merged filesystem (what no layer difference already explains).
//
// Consequences are not differences: a changed file changes its layer's
// diffID, the config's rootfs and the manifest's layer digest; only the file
// is reported. A layer whose tar bytes differ while every entry matches is
// reported as such ("order" or "tar"), so a report is never empty when the
// digests differ — unless that difference was ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diff/image_source.hpp"

namespace strata::diff {

// What --ignore can leave out (a bit set).
enum Ignore : unsigned {
    kIgnoreTimestamps = 1u << 0,  // file mtimes, config/history `created`, created annotation
    kIgnoreHistory = 1u << 1,     // config history entries
    kIgnoreOwners = 1u << 2,      // file uid/gid
    kIgnoreModes = 1u << 3,       // file permission bits
    kIgnoreXattrs = 1u << 4,      // file xattrs
    kIgnoreConfig = 1u << 5,      // config fields other than history
    kIgnoreManifest = 1u << 6,    // manifest fields (media types, compression, annotations)
    kIgnoreFiles = 1u << 7,       // the file trees altogether
    kIgnoreOrder = 1u << 8,       // tar entry order and header encoding
};
// "timestamps,owners" (comma-separated names, see above) → bits;
// Error(kUsage) naming the unknown word and the known ones.
unsigned parse_ignore(std::string_view list);
std::vector<std::string> ignore_names(unsigned bits);

struct Difference {
    std::string scope;  // "manifest" | "config" | "layer" | "merged"
    int layer = 0;      // scope "layer": 1-based position (the A side's for "moved")
    std::string path;   // scope "layer"/"merged": the file ("/etc/passwd")
    // Files: "presence", "type", "mode", "owner", "content", "mtime",
    // "link", "hardlink", "xattr NAME", "device", "moved"; layers: "order",
    // "tar", "presence" (a layer only one image has); documents: the field's
    // path ("config.Env[PATH]", "history[3].created_by", "layers[0].mediaType").
    std::string field;
    std::optional<std::string> a, b;  // rendered values; nullopt: absent on that side
    std::string unified;              // "content" of small text files: diff -u hunks
};

struct DiffReport {
    std::vector<Difference> differences;
    unsigned ignored = 0;
    bool identical() const { return differences.empty(); }
};

struct DiffOptions {
    unsigned ignore = 0;
};

// Compares a and b; scans their layers (through `cache`) only when the
// configs differ — equal configs mean equal diffIDs, hence equal files.
DiffReport compare_images(LoadedImage& a, LoadedImage& b, const DiffOptions& options,
                          LayerCache* cache = nullptr);

// One image: what each layer adds (A), changes (C) and deletes (D), as
// `docker diff` prints a container's changes.
struct LayerChange {
    char kind = 'A';
    std::string path;
};
struct LayerChanges {
    int layer = 0;  // 1-based
    std::string diff_id;
    std::string created_by;
    std::vector<LayerChange> changes;
};
std::vector<LayerChanges> layer_changes(LoadedImage& image, LayerCache* cache = nullptr);

// Renderings (diff_report.cpp). `verbose` text lists the two images' IDs.
std::string render_text(const DiffReport& report, const LoadedImage& a, const LoadedImage& b);
std::string render_json(const DiffReport& report, const LoadedImage& a, const LoadedImage& b);
std::string render_changes_text(const std::vector<LayerChanges>& changes);
std::string render_changes_json(const std::vector<LayerChanges>& changes);
// The one line for identical images: "identical: sha256:…".
std::string identical_line(const DiffReport& report, const LoadedImage& a, const LoadedImage& b);

}  // namespace strata::diff
