#include "store/docker_archive_load.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <map>
#include <set>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "store/canonical_json.hpp"
#include "store/docker_archive_reader.hpp"
#include "store/image_store_scan.hpp"
#include "store/layer_writer.hpp"
#include "store/oci_layout.hpp"

namespace strata::store {

namespace {

constexpr int kMaxIndexDepth = 4;

struct StagedImage {
    Digest manifest;
    std::vector<LayerRecord> layers;
    std::vector<Reference> names;
    std::set<Digest> blobs;
};

class Loader {
  public:
    Loader(ArchiveReader& reader, ContentStore& stage, const LoadOptions& opts)
        : r_(reader), stage_(stage), opts_(opts), what_(reader.what()) {
        if (opts_.architecture.empty()) {
            auto host = host_platform();
            opts_.os = host.os;
            opts_.architecture = host.architecture;
            opts_.variant = host.variant;
        }
    }

    std::vector<StagedImage> stage_oci();
    std::vector<StagedImage> stage_docker();

  private:
    [[noreturn]] void corrupt(const std::string& msg) const {
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: {}", what_, msg));
    }
    // A blob the archive must contain, with the size its descriptor says.
    void need_blob(const Digest& d, int64_t size, std::string_view role);
    Descriptor select_manifest(const Descriptor& desc, int depth);
    void add_oci_image(const Descriptor& manifest_desc, const std::optional<Reference>& name,
                       std::vector<StagedImage>& out);
    LayerRecord stage_docker_layer(const std::string& path, const Digest& diff_id, size_t index);

    ArchiveReader& r_;
    ContentStore& stage_;
    LoadOptions opts_;
    std::string what_;
    std::map<Digest, LayerRecord> layers_by_diff_id_;  // layers shared between images
};

void Loader::need_blob(const Digest& d, int64_t size, std::string_view role) {
    if (!r_.has("blobs/" + d.algorithm + "/" + d.hex))
        corrupt(fmt::format("{} {} is missing from the archive", role, d.str()));
    uint64_t actual = stage_.size(d);
    if (size >= 0 && actual != static_cast<uint64_t>(size))
        corrupt(
            fmt::format("{} {} is {} bytes, its descriptor says {}", role, d.str(), actual, size));
}

// A descriptor of index.json may point at an index (a multi-platform image):
// take the manifest for the wanted platform.
Descriptor Loader::select_manifest(const Descriptor& desc, int depth) {
    if (depth > kMaxIndexDepth) corrupt("indexes nested too deeply");
    need_blob(desc.digest, desc.size, "manifest");
    std::string text = stage_.read(desc.digest);
    std::string doc = "manifest " + desc.digest.str();
    DocumentKind kind = is_index_media_type(desc.media_type)      ? DocumentKind::kIndex
                        : is_manifest_media_type(desc.media_type) ? DocumentKind::kManifest
                                                                  : document_kind(text, doc);
    if (kind == DocumentKind::kManifest) return desc;
    Index idx = Index::parse(text, "index " + desc.digest.str());
    const Descriptor* pick = nullptr;
    for (const auto& m : idx.manifests) {
        if (m.platform &&
            !platform_matches(*m.platform, opts_.os, opts_.architecture, opts_.variant))
            continue;
        if (m.platform || idx.manifests.size() == 1) {
            pick = &m;
            break;
        }
    }
    if (!pick)
        corrupt(fmt::format("index {} has no image for platform {}/{}{}", desc.digest.str(),
                            opts_.os, opts_.architecture,
                            opts_.variant.empty() ? "" : "/" + opts_.variant));
    return select_manifest(*pick, depth + 1);
}

void Loader::add_oci_image(const Descriptor& manifest_desc, const std::optional<Reference>& name,
                           std::vector<StagedImage>& out) {
    for (auto& img : out)
        if (img.manifest == manifest_desc.digest) {
            if (name && std::find(img.names.begin(), img.names.end(), *name) == img.names.end())
                img.names.push_back(*name);
            return;
        }
    std::string doc = "manifest " + manifest_desc.digest.str();
    Manifest m = Manifest::parse(stage_.read(manifest_desc.digest), doc);
    if (!m.config.media_type.empty() && !is_config_media_type(m.config.media_type))
        corrupt(fmt::format("{} is not a container image (config media type {})", doc,
                            m.config.media_type));
    need_blob(m.config.digest, m.config.size, "config");
    ImageConfig config =
        ImageConfig::parse(stage_.read(m.config.digest), "config " + m.config.digest.str());
    if (config.diff_ids.size() != m.layers.size())
        corrupt(fmt::format("{} has {} layers, its config lists {} diffIDs", doc, m.layers.size(),
                            config.diff_ids.size()));
    StagedImage img;
    img.manifest = manifest_desc.digest;
    img.blobs = {manifest_desc.digest, m.config.digest};
    for (size_t i = 0; i < m.layers.size(); ++i) {
        const auto& l = m.layers[i];
        if (!l.urls.empty() && !r_.has("blobs/" + l.digest.algorithm + "/" + l.digest.hex))
            corrupt(fmt::format("layer {} is a foreign layer not included in the archive",
                                l.digest.str()));
        need_blob(l.digest, l.size, "layer");
        LayerScan scan =
            scan_layer_blob(stage_, l.digest, fmt::format("{}: layer {}", what_, l.digest.str()));
        if (scan.diff_id != config.diff_ids[i])
            corrupt(fmt::format("layer {} has diffID {}, but the config says {}", l.digest.str(),
                                scan.diff_id.str(), config.diff_ids[i].str()));
        img.layers.push_back(LayerRecord{l.digest, scan.diff_id, static_cast<uint64_t>(l.size),
                                         l.media_type, scan.unpacked_size});
        img.blobs.insert(l.digest);
    }
    if (name) img.names.push_back(*name);
    out.push_back(std::move(img));
}

std::vector<StagedImage> Loader::stage_oci() {
    if (r_.has(kOciLayoutFile))
        check_oci_layout(r_.read_text(kOciLayoutFile), what_ + ": oci-layout");
    Index index = Index::parse(r_.read_text(kOciIndexFile), what_ + ": index.json");
    std::vector<StagedImage> out;
    for (const auto& desc : index.manifests) {
        Descriptor manifest = select_manifest(desc, 0);
        add_oci_image(manifest, descriptor_image_name(desc), out);
    }
    // A Docker 25+ tarball also names images in manifest.json.
    if (r_.has("manifest.json")) {
        auto items = parse_json(r_.read_text("manifest.json"), what_ + ": manifest.json");
        if (items.is_array())
            for (const auto& item : items) {
                if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string() ||
                    !item.contains("RepoTags") || !item["RepoTags"].is_array())
                    continue;
                auto cfg = r_.find(item["Config"].get<std::string>());
                if (!cfg || !cfg->blob) continue;
                for (auto& img : out) {
                    Manifest m = Manifest::parse(stage_.read(img.manifest));
                    if (m.config.digest != *cfg->blob) continue;
                    for (const auto& t : item["RepoTags"]) {
                        if (!t.is_string()) continue;
                        auto ref = Reference::try_parse(t.get<std::string>());
                        if (!ref || ref->digest) continue;
                        auto tagged = ref->with_default_tag();
                        if (std::find(img.names.begin(), img.names.end(), tagged) ==
                            img.names.end())
                            img.names.push_back(tagged);
                    }
                }
            }
    }
    if (out.empty()) corrupt("index.json lists no images");
    return out;
}

LayerRecord Loader::stage_docker_layer(const std::string& path, const Digest& diff_id,
                                       size_t index) {
    if (auto it = layers_by_diff_id_.find(diff_id); it != layers_by_diff_id_.end())
        return it->second;
    auto entry = r_.find(path);
    if (!entry) corrupt(fmt::format("manifest.json: layer '{}' is missing", path));
    std::string layer_what = fmt::format("{}: layer {} ('{}')", what_, index, path);
    LayerRecord rec;
    if (entry->blob) {
        // Newer docker save: the layer is a blob already, kept as it is.
        LayerScan scan = scan_layer_blob(stage_, *entry->blob, layer_what);
        if (scan.diff_id != diff_id)
            corrupt(fmt::format("layer '{}' has diffID {}, but the config says {}", path,
                                scan.diff_id.str(), diff_id.str()));
        auto fd = stage_.open(*entry->blob);
        unsigned char head[8] = {};
        ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
        rec = LayerRecord{*entry->blob, diff_id, stage_.size(*entry->blob),
                          layer_media_type(detect_compression(head, n > 0 ? size_t(n) : 0)),
                          scan.unpacked_size};
    } else {
        // Old docker save: a plain tar file. Check it before compressing it.
        LayerScan scan;
        {
            auto fd = r_.open(*entry);
            scan = scan_layer(fd.get(), layer_what);
        }
        if (scan.diff_id != diff_id)
            corrupt(fmt::format("layer '{}' has diffID {}, but the config says {}", path,
                                scan.diff_id.str(), diff_id.str()));
        auto fd = r_.open(*entry);
        StoreTarOptions sopts;
        sopts.compression = opts_.layer_compression;
        sopts.expected_diff_id = diff_id;
        LayerBlob blob = store_layer_tar(fd.get(), stage_, sopts);
        rec =
            LayerRecord{blob.digest, blob.diff_id, blob.size, blob.media_type, scan.unpacked_size};
    }
    layers_by_diff_id_[diff_id] = rec;
    return rec;
}

std::vector<StagedImage> Loader::stage_docker() {
    std::string mwhat = what_ + ": manifest.json";
    auto items = parse_json(r_.read_text("manifest.json"), mwhat);
    if (!items.is_array()) corrupt("manifest.json is not a JSON array");
    std::vector<StagedImage> out;
    for (const auto& item : items) {
        if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string())
            corrupt("manifest.json: an entry has no \"Config\"");
        std::string config_path = item["Config"].get<std::string>();
        auto cfg = r_.find(config_path);
        if (!cfg) corrupt(fmt::format("manifest.json: config '{}' is missing", config_path));
        std::string config_text = r_.read_text(config_path);
        Digest config_digest = sha256_of(config_text);
        // Old-form names ("<hex>.json") are the config digest: check them too.
        std::string base = cfg->name.substr(cfg->name.rfind('/') + 1);
        if (base.size() == 64 + 5 && base.ends_with(".json")) {
            auto named = Digest::try_parse("sha256:" + base.substr(0, 64));
            if (named && *named != config_digest)
                corrupt(fmt::format("config '{}' does not match its digest (content is {})",
                                    config_path, config_digest.str()));
        }
        ImageConfig config =
            ImageConfig::parse(config_text, fmt::format("{}: config '{}'", what_, config_path));
        std::vector<std::string> layer_paths;
        if (item.contains("Layers") && item["Layers"].is_array())
            for (const auto& l : item["Layers"]) {
                if (!l.is_string()) corrupt("manifest.json: \"Layers\" must hold strings");
                layer_paths.push_back(l.get<std::string>());
            }
        if (layer_paths.size() != config.diff_ids.size())
            corrupt(
                fmt::format("manifest.json lists {} layers for config '{}', which has {} "
                            "diffIDs",
                            layer_paths.size(), config_path, config.diff_ids.size()));
        StagedImage img;
        Manifest m;
        m.media_type = std::string(media_type::kOciManifest);
        m.config.media_type = std::string(media_type::kOciConfig);
        m.config.digest = stage_.put(config_text);
        m.config.size = static_cast<int64_t>(config_text.size());
        for (size_t i = 0; i < layer_paths.size(); ++i) {
            LayerRecord l = stage_docker_layer(layer_paths[i], config.diff_ids[i], i);
            Descriptor d;
            d.media_type = l.media_type;
            d.digest = l.digest;
            d.size = static_cast<int64_t>(l.size);
            m.layers.push_back(d);
            img.layers.push_back(l);
            img.blobs.insert(l.digest);
        }
        img.manifest = stage_.put(m.canonical());
        img.blobs.insert(img.manifest);
        img.blobs.insert(m.config.digest);
        if (item.contains("RepoTags") && item["RepoTags"].is_array())
            for (const auto& t : item["RepoTags"]) {
                if (!t.is_string()) corrupt("manifest.json: \"RepoTags\" must hold strings");
                auto ref = Reference::parse(t.get<std::string>());
                if (ref.digest)
                    corrupt(
                        fmt::format("manifest.json: \"{}\" is not a tag", t.get<std::string>()));
                img.names.push_back(ref.with_default_tag());
            }
        out.push_back(std::move(img));
    }
    if (out.empty()) corrupt("manifest.json lists no images");
    return out;
}

}  // namespace

void publish_blob(ContentStore& from, ContentStore& to, const Digest& digest) {
    if (to.has(digest)) return;
    auto src = from.blob_path(digest);
    auto dst = to.blob_path(digest);
    if (::rename(src.c_str(), dst.c_str()) == 0) return;
    if (errno != EXDEV) throw system_error("rename into the store", dst.string());
    auto fd = from.open(digest);
    to.put_fd(fd.get(), digest);
}

namespace {

LoadReport load_archive_impl(ImageStore& store, int fd, const std::string& what,
                             const LoadOptions& opts) {
    LockFile lease = store.lease();
    TempDir staging = TempDir::create(store.tmp_dir(), "load-");
    ContentStore stage(staging.path() / "store");
    ArchiveReader reader(fd, what, stage, staging.path() / "files");

    Loader loader(reader, stage, opts);
    LoadReport report;
    std::vector<StagedImage> staged;
    if (reader.has(kOciIndexFile)) {
        report.format = "oci-layout";
        staged = loader.stage_oci();
    } else if (reader.has("manifest.json")) {
        report.format = "docker-save";
        staged = loader.stage_docker();
    } else {
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("{}: not an image archive: it has neither manifest.json (docker "
                                "save) nor index.json (OCI layout)",
                                what));
    }

    // Everything is verified: publish blobs, then records and names.
    for (const auto& img : staged)
        for (const auto& d : img.blobs)
            publish_blob(stage, store.content(), d);
    fsync_dir(store.content().blob_path(staged.front().manifest).parent_path());

    auto txn = store.begin();
    for (const auto& img : staged) {
        LoadedImage loaded;
        loaded.image = store.record_for_manifest(img.manifest, img.layers);
        if (auto old = txn.image(img.manifest)) loaded.image.added = old->added;
        txn.put_image(loaded.image);
        for (const auto& name : img.names) {
            auto prev = txn.tag(name, img.manifest);
            if (prev && *prev != img.manifest) report.replaced.emplace_back(name, *prev);
            loaded.names.push_back(name);
        }
        report.images.push_back(std::move(loaded));
    }
    txn.commit();
    return report;
}

}  // namespace

LoadReport load_archive(ImageStore& store, int fd, const std::string& what,
                        const LoadOptions& opts) {
    try {
        return load_archive_impl(store, fd, what, opts);
    } catch (const Error& e) {
        // Bad JSON or a bad name inside an archive is a bad archive.
        if (e.kind() == ErrorKind::kParse || e.kind() == ErrorKind::kUsage) {
            std::string msg = e.what();
            if (msg.rfind(what, 0) != 0) msg = what + ": " + msg;
            throw Error(ErrorKind::kCorrupt, msg);
        }
        throw;
    }
}

}  // namespace strata::store
