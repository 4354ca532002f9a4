#include "diff/image_source.hpp"

#include <archive_entry.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "store/digest.hpp"
#include "store/image_config.hpp"
#include "store/image_store.hpp"
#include "store/manifest.hpp"
#include "store/tar_input.hpp"

namespace strata::diff {

namespace fs = std::filesystem;
using nlohmann::json;

LayerFilesPtr LayerCache::get(const std::string& diff_id) {
    std::lock_guard lock(mu_);
    auto it = map_.find(diff_id);
    return it == map_.end() ? nullptr : it->second;
}

void LayerCache::put(const std::string& diff_id, LayerFilesPtr files) {
    std::lock_guard lock(mu_);
    map_.emplace(diff_id, std::move(files));
}

InputRef parse_input(std::string_view arg) {
    auto strip = [&](std::string_view prefix) -> std::optional<std::string> {
        if (arg.substr(0, prefix.size()) == prefix) return std::string(arg.substr(prefix.size()));
        return std::nullopt;
    };
    InputRef r;
    if (auto rest = strip("docker-archive:")) {
        r.kind = InputKind::kDockerArchive;
        r.location = *rest;
    } else if (auto rest2 = strip("oci-archive:")) {
        r.kind = InputKind::kOciArchive;
        r.location = *rest2;
    } else if (auto rest3 = strip("oci:")) {
        r.kind = InputKind::kOciDir;
        r.location = *rest3;
        // oci:DIR:TAG — the tag is what follows the last ':' after the last
        // '/', unless the whole text is a directory.
        auto colon = r.location.rfind(':');
        auto slash = r.location.rfind('/');
        if (colon != std::string::npos && (slash == std::string::npos || colon > slash) &&
            !fs::is_directory(r.location)) {
            r.tag = r.location.substr(colon + 1);
            r.location.resize(colon);
        }
    } else {
        r.location = std::string(arg);
    }
    if (r.location.empty())
        throw Error(ErrorKind::kUsage, "'" + std::string(arg) + "': no file or directory named");
    return r;
}

namespace {

// Fills created_by, diff_id and config_digest from the config; layers must
// already list the manifest's (or archive's) layers in order.
void apply_config(LoadedImage& img, const std::string& what) {
    img.config_digest = store::sha256_of(img.config_json).str();
    auto config = store::ImageConfig::parse(img.config_json, what + " config");
    if (img.layers.size() != config.diff_ids.size())
        throw Error(ErrorKind::kCorrupt,
                    what + ": the manifest names " + std::to_string(img.layers.size()) +
                        " layer(s), the config " + std::to_string(config.diff_ids.size()));
    size_t li = 0;
    for (const auto& h : config.history) {
        if (h.empty_layer) continue;
        if (li < img.layers.size()) img.layers[li].created_by = h.created_by;
        ++li;
    }
    for (size_t i = 0; i < img.layers.size(); ++i)
        img.layers[i].diff_id = config.diff_ids[i].str();
}

// Picks the image a layout's index.json names: by tag when given, the only
// one otherwise; an index (multi-platform) leads to the host's platform.
// `text` reads a document of the layout by entry name.
std::string pick_manifest(const std::function<std::optional<std::string>(const std::string&)>& text,
                          const std::string& tag, const std::string& what) {
    auto index_text = text("index.json");
    if (!index_text) throw Error(ErrorKind::kParse, what + ": no index.json: not an OCI layout");
    auto index = store::Index::parse(*index_text, what + " index.json");
    std::vector<store::Descriptor> found;
    for (const auto& d : index.manifests) {
        if (!tag.empty()) {
            auto it = d.annotations.find(store::annotation::kRefName);
            if (it == d.annotations.end()) continue;
            const std::string& n = it->second;
            if (n != tag && !(n.size() > tag.size() && n.ends_with(":" + tag))) continue;
        }
        found.push_back(d);
    }
    if (found.empty())
        throw Error(ErrorKind::kNotFound,
                    what + ": no image" + (tag.empty() ? "" : " tagged '" + tag + "'"));
    if (found.size() > 1)
        throw Error(ErrorKind::kUsage, what + ": holds " + std::to_string(found.size()) +
                                           " images; name one with oci:DIR:TAG");
    store::Descriptor d = found.front();
    for (int depth = 0; depth < 4; ++depth) {
        auto doc = text("blobs/" + d.digest.algorithm + "/" + d.digest.hex);
        if (!doc) throw Error(ErrorKind::kNotFound, what + ": blob " + d.digest.str() + " missing");
        if (store::document_kind(*doc, what) == store::DocumentKind::kManifest) return *doc;
        auto sub = store::Index::parse(*doc, what);
        auto host = store::host_platform();
        const store::Descriptor* pick = nullptr;
        for (const auto& m : sub.manifests)
            if (m.platform &&
                store::platform_matches(*m.platform, host.os, host.architecture, host.variant)) {
                pick = &m;
                break;
            }
        if (!pick)
            throw Error(ErrorKind::kNotFound, what + ": no image for this machine's platform");
        d = *pick;
    }
    throw Error(ErrorKind::kParse, what + ": indexes nested too deep");
}

// Fills manifest, layers (digest, media type, source) and config from an OCI
// manifest document of a layout.
void from_oci_manifest(LoadedImage& img, const std::string& manifest_json,
                       const std::function<std::optional<std::string>(const std::string&)>& text,
                       const std::string& what) {
    img.manifest_json = manifest_json;
    img.manifest_digest = store::sha256_of(manifest_json).str();
    auto m = store::Manifest::parse(manifest_json, what + " manifest");
    auto cfg = text("blobs/" + m.config.digest.algorithm + "/" + m.config.digest.hex);
    if (!cfg)
        throw Error(ErrorKind::kNotFound, what + ": config " + m.config.digest.str() + " missing");
    img.config_json = *cfg;
    for (const auto& l : m.layers) {
        ImageLayer layer;
        layer.digest = l.digest.str();
        layer.media_type = l.media_type;
        layer.source = "blobs/" + l.digest.algorithm + "/" + l.digest.hex;
        img.layers.push_back(std::move(layer));
    }
    apply_config(img, what);
}

std::string read_whole(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw system_error("open", p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// One pass over an image archive: JSON documents kept, layers scanned.
LoadedImage load_archive(const InputRef& ref, const std::string& what) {
    UniqueFd fd(::open(ref.location.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw Error(ErrorKind::kNotFound, "open '" + ref.location + "': " + std::strerror(errno));
    // The store's reader: a gzip-compressed archive (`docker save | gzip`)
    // through GzipDecoder, anything else libarchive knows through libarchive.
    store::TarInput in(fd.get(), what, nullptr, nullptr, store::TarFilters::kAll);
    in.skip_digest();
    std::map<std::string, std::string> texts;
    std::map<std::string, LayerFilesPtr> layers;
    std::map<std::string, std::string> aliases;
    TextBudget budget;
    auto rel = [](std::string_view n) { return clean_entry_path(n).substr(1); };
    while (struct archive_entry* e = in.next()) {
        std::string name = rel(in.entry_name());
        if (const char* h = archive_entry_hardlink(e)) {
            aliases[name] = rel(h);
            continue;
        }
        if (archive_entry_filetype(e) == AE_IFLNK) {
            std::string dir = name.find('/') == std::string::npos
                                  ? std::string()
                                  : name.substr(0, name.rfind('/') + 1);
            aliases[name] = rel(dir + archive_entry_symlink(e));
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG) continue;
        const int64_t size = archive_entry_size(e);
        std::string_view head = in.next_block();
        if (head.empty()) {
            texts[name] = "";
            continue;
        }
        auto p = head.find_first_not_of(" \t\r\n");
        if (size <= (8 << 20) && p != std::string_view::npos &&
            (head[p] == '{' || head[p] == '[')) {
            std::string t(head);
            for (std::string_view b = in.next_block(); !b.empty(); b = in.next_block())
                t.append(b);
            texts[name] = std::move(t);
            continue;
        }
        if (name == "oci-layout" || name == "repositories") continue;
        bool gave_first = false;
        ChunkSource src = [&]() -> std::string_view {
            if (!gave_first) {
                gave_first = true;
                return head;
            }
            return in.next_block();
        };
        layers[name] = std::make_shared<LayerFiles>(scan_layer(src, what + " " + name, budget));
    }
    in.finish_member();
    auto resolve = [&](std::string n) {
        n = rel(n);
        for (int i = 0; i < 16; ++i) {
            auto it = aliases.find(n);
            if (it == aliases.end()) break;
            n = it->second;
        }
        return n;
    };
    auto text = [&](const std::string& n) -> std::optional<std::string> {
        auto it = texts.find(resolve(n));
        if (it == texts.end()) return std::nullopt;
        return it->second;
    };

    LoadedImage img;
    img.name =
        std::string(ref.kind == InputKind::kOciArchive ? "oci-archive:" : "docker-archive:") +
        ref.location;
    bool docker = ref.kind == InputKind::kDockerArchive && texts.count("manifest.json");
    if (docker) {
        json m = json::parse(texts["manifest.json"], nullptr, false);
        if (!m.is_array() || m.empty() || !m[0].is_object() || !m[0].contains("Config"))
            throw Error(ErrorKind::kParse, what + ": manifest.json is not a docker-save manifest");
        const json& e0 = m[0];
        auto cfg = text(e0["Config"].get<std::string>());
        if (!cfg)
            throw Error(ErrorKind::kNotFound,
                        what + ": config " + e0["Config"].dump() + " missing");
        img.config_json = *cfg;
        for (const auto& l : e0.value("Layers", json::array())) {
            ImageLayer layer;
            layer.source = resolve(l.get<std::string>());
            img.layers.push_back(std::move(layer));
        }
        // A Docker 25+ archive also has the OCI manifest: use it when it
        // names this config.
        if (auto idx = text("index.json")) {
            try {
                auto doc = pick_manifest(text, "", what);
                auto man = store::Manifest::parse(doc, what);
                if (man.config.digest == store::sha256_of(img.config_json) &&
                    man.layers.size() == img.layers.size()) {
                    img.manifest_json = doc;
                    img.manifest_digest = store::sha256_of(doc).str();
                    for (size_t i = 0; i < man.layers.size(); ++i) {
                        img.layers[i].digest = man.layers[i].digest.str();
                        img.layers[i].media_type = man.layers[i].media_type;
                    }
                }
            } catch (const Error&) {
                // Several images or none: compare without the manifest.
            }
        }
        apply_config(img, what);
    } else {
        from_oci_manifest(img, pick_manifest(text, ref.tag, what), text, what);
    }
    for (auto& l : img.layers) {
        auto it = layers.find(resolve(l.source));
        if (it == layers.end())
            throw Error(ErrorKind::kNotFound,
                        what + ": layer '" + l.source + "' is not in the archive");
        l.files = it->second;
    }
    return img;
}

}  // namespace

LoadedImage load_store_image(store::ImageStore& st, const store::ImageRecord& record,
                             std::string name) {
    LoadedImage img;
    img.name = std::move(name);
    img.manifest_json = st.content().read(record.manifest);
    img.manifest_digest = record.manifest.str();
    img.config_json = st.config_json(record);
    for (const auto& l : record.layers) {
        ImageLayer layer;
        layer.digest = l.digest.str();
        layer.media_type = l.media_type;
        layer.source = l.digest.str();
        img.layers.push_back(std::move(layer));
    }
    apply_config(img, img.name);
    img.open_layer = [&st](const std::string& source) {
        return st.content().open(store::Digest::parse(source));
    };
    return img;
}

LoadedImage load_image(std::string_view arg, const fs::path& store_root, LayerCache* cache) {
    InputRef ref = parse_input(arg);
    const std::string what = std::string(arg);
    LoadedImage img;
    switch (ref.kind) {
        case InputKind::kDockerArchive:
        case InputKind::kOciArchive:
            img = load_archive(ref, what);
            break;
        case InputKind::kOciDir: {
            const fs::path dir = ref.location;
            if (!fs::is_directory(dir))
                throw Error(ErrorKind::kNotFound, "'" + ref.location + "' is not a directory");
            auto text = [dir](const std::string& n) -> std::optional<std::string> {
                std::error_code ec;
                if (!fs::is_regular_file(dir / n, ec)) return std::nullopt;
                return read_whole(dir / n);
            };
            from_oci_manifest(img, pick_manifest(text, ref.tag, what), text, what);
            img.name = what;
            img.open_layer = [dir](const std::string& source) {
                UniqueFd fd(::open((dir / source).c_str(), O_RDONLY | O_CLOEXEC));
                if (!fd) throw system_error("open", (dir / source).string());
                return fd;
            };
            break;
        }
        case InputKind::kStoreImage: {
            // Kept alive by the opener, which scan_layers calls later.
            auto st = std::make_shared<store::ImageStore>(store_root);
            auto match = st->lookup(ref.location);
            img = load_store_image(*st, match.image, what);
            img.open_layer = [st](const std::string& source) {
                return st->content().open(store::Digest::parse(source));
            };
            break;
        }
    }
    if (cache)
        for (auto& l : img.layers)
            if (l.files) cache->put(l.diff_id, l.files);
    return img;
}

void scan_layers(LoadedImage& image, LayerCache* cache) {
    TextBudget budget;
    for (size_t i = 0; i < image.layers.size(); ++i) {
        auto& l = image.layers[i];
        if (l.files) continue;
        if (cache) l.files = cache->get(l.diff_id);
        if (l.files) continue;
        if (!image.open_layer)
            throw Error(ErrorKind::kInternal,
                        image.name + ": layer " + std::to_string(i + 1) + " not read");
        UniqueFd fd = image.open_layer(l.source);
        l.files = std::make_shared<LayerFiles>(scan_layer_fd(
            fd.get(), "layer " + std::to_string(i + 1) + " of " + image.name, budget));
        if (cache) cache->put(l.diff_id, l.files);
    }
}

}  // namespace strata::diff
