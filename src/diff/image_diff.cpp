#include "diff/image_diff.hpp"

#include <fmt/format.h>

#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.hpp"
#include "diff/line_diff.hpp"

namespace strata::diff {

using nlohmann::json;

namespace {

const std::vector<std::pair<std::string, unsigned>>& ignore_table() {
    static const std::vector<std::pair<std::string, unsigned>> t = {
        {"timestamps", kIgnoreTimestamps}, {"history", kIgnoreHistory}, {"owners", kIgnoreOwners},
        {"modes", kIgnoreModes},           {"xattrs", kIgnoreXattrs},   {"config", kIgnoreConfig},
        {"manifest", kIgnoreManifest},     {"files", kIgnoreFiles},     {"order", kIgnoreOrder},
    };
    return t;
}

}  // namespace

unsigned parse_ignore(std::string_view list) {
    unsigned bits = 0;
    size_t i = 0;
    while (i <= list.size()) {
        size_t j = list.find(',', i);
        if (j == std::string_view::npos) j = list.size();
        std::string word(list.substr(i, j - i));
        if (!word.empty()) {
            bool found = false;
            for (const auto& [name, bit] : ignore_table())
                if (name == word) bits |= bit, found = true;
            if (!found) {
                std::string known;
                for (const auto& [name, bit] : ignore_table())
                    known += (known.empty() ? "" : ", ") + name;
                throw Error(ErrorKind::kUsage,
                            "--ignore: unknown '" + word + "' (known: " + known + ")");
            }
        }
        i = j + 1;
    }
    return bits;
}

std::vector<std::string> ignore_names(unsigned bits) {
    std::vector<std::string> out;
    for (const auto& [name, bit] : ignore_table())
        if (bits & bit) out.push_back(name);
    return out;
}

namespace {

std::string octal(uint32_t mode) {
    return fmt::format("{:04o}", mode);
}

std::string time_text(int64_t sec, int64_t ns) {
    std::time_t t = std::time_t(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string s = buf;
    if (ns) s += fmt::format(".{:09d}", ns);
    return s + "Z";
}

// Printable as is, or 0x-hex.
std::string value_text(const std::string& v) {
    bool printable = true;
    for (unsigned char c : v)
        if (c < 0x20 || c == 0x7f) printable = false;
    if (printable) return v;
    std::string out = "0x";
    for (unsigned char c : v)
        out += fmt::format("{:02x}", c);
    return out;
}

// One line describing an entry, for "only in A/B".
std::string describe(const FileEntry& e) {
    std::string s = entry_type_name(e.type);
    if (e.type == EntryType::kWhiteout || e.type == EntryType::kOpaque) return s;
    s += " " + octal(e.mode) + " " + std::to_string(e.uid) + ":" + std::to_string(e.gid);
    if (!e.hardlink.empty()) s += " hardlink to " + e.hardlink;
    if (e.type == EntryType::kFile) s += " " + std::to_string(e.size) + " bytes sha256:" + e.sha256;
    if (e.type == EntryType::kSymlink) s += " -> " + e.link;
    if (e.type == EntryType::kChar || e.type == EntryType::kBlock)
        s += " " + std::to_string(e.dev_major) + ":" + std::to_string(e.dev_minor);
    return s;
}

struct Candidate {
    Difference d;
    unsigned category;
};

// Every way two entries of the same path differ, each with its --ignore category.
std::vector<Candidate> entry_differences(const FileEntry& x, const FileEntry& y) {
    std::vector<Candidate> out;
    auto add = [&](std::string field, std::optional<std::string> a, std::optional<std::string> b,
                   unsigned cat, std::string unified = "") {
        Difference d;
        d.path = x.path;
        d.field = std::move(field);
        d.a = std::move(a);
        d.b = std::move(b);
        d.unified = std::move(unified);
        out.push_back({std::move(d), cat});
    };
    if (x.type != y.type) {
        add("type", entry_type_name(x.type), entry_type_name(y.type), kIgnoreFiles);
        return out;
    }
    if (x.mode != y.mode) add("mode", octal(x.mode), octal(y.mode), kIgnoreModes);
    if (x.uid != y.uid || x.gid != y.gid)
        add("owner", fmt::format("{}:{}", x.uid, x.gid), fmt::format("{}:{}", y.uid, y.gid),
            kIgnoreOwners);
    if (x.hardlink != y.hardlink)
        add("hardlink", x.hardlink.empty() ? std::nullopt : std::optional(x.hardlink),
            y.hardlink.empty() ? std::nullopt : std::optional(y.hardlink), kIgnoreFiles);
    // Hard links to the same path share their content: the target reports it.
    const bool same_link = !x.hardlink.empty() && x.hardlink == y.hardlink;
    if (x.type == EntryType::kFile && !same_link && (x.sha256 != y.sha256 || x.size != y.size)) {
        std::string u;
        if (x.text && y.text) u = unified_diff(*x.text, *y.text);
        add("content", fmt::format("sha256:{} ({} bytes)", x.sha256, x.size),
            fmt::format("sha256:{} ({} bytes)", y.sha256, y.size), kIgnoreFiles, u);
    }
    if (x.link != y.link) add("link", x.link, y.link, kIgnoreFiles);
    if (x.dev_major != y.dev_major || x.dev_minor != y.dev_minor)
        add("device", fmt::format("{}:{}", x.dev_major, x.dev_minor),
            fmt::format("{}:{}", y.dev_major, y.dev_minor), kIgnoreFiles);
    if (x.mtime != y.mtime || x.mtime_ns != y.mtime_ns)
        add("mtime", time_text(x.mtime, x.mtime_ns), time_text(y.mtime, y.mtime_ns),
            kIgnoreTimestamps);
    std::set<std::string> names;
    for (const auto& [k, v] : x.xattrs)
        names.insert(k);
    for (const auto& [k, v] : y.xattrs)
        names.insert(k);
    for (const auto& n : names) {
        auto ix = x.xattrs.find(n), iy = y.xattrs.find(n);
        std::optional<std::string> a, b;
        if (ix != x.xattrs.end()) a = value_text(ix->second);
        if (iy != y.xattrs.end()) b = value_text(iy->second);
        if (a != b) add("xattr " + n, a, b, kIgnoreXattrs);
    }
    return out;
}

bool equal_under(const FileEntry& x, const FileEntry& y, unsigned ignore) {
    for (const auto& c : entry_differences(x, y))
        if (!(c.category & ignore)) return false;
    return true;
}

using FileMap = std::map<std::string_view, const FileEntry*>;

// Differences between two path → entry maps, filtered by `ignore`; `raw`
// counts them before filtering.
std::vector<Difference> tree_differences(const FileMap& a, const FileMap& b, unsigned ignore,
                                         size_t* raw = nullptr) {
    std::vector<Difference> out;
    auto ia = a.begin(), ib = b.begin();
    auto only = [&](const FileEntry& e, bool in_a) {
        if (raw) ++*raw;
        if (ignore & kIgnoreFiles) return;
        Difference d;
        d.path = e.path;
        d.field = "presence";
        (in_a ? d.a : d.b) = describe(e);
        out.push_back(std::move(d));
    };
    while (ia != a.end() || ib != b.end()) {
        if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
            only(*ia->second, true);
            ++ia;
        } else if (ia == a.end() || ib->first < ia->first) {
            only(*ib->second, false);
            ++ib;
        } else {
            for (auto& c : entry_differences(*ia->second, *ib->second)) {
                if (raw) ++*raw;
                if (!(c.category & ignore) && !(ignore & kIgnoreFiles))
                    out.push_back(std::move(c.d));
            }
            ++ia, ++ib;
        }
    }
    return out;
}

FileMap layer_map(const LayerFilesPtr& files) {
    FileMap m;
    if (files)
        for (const auto& [k, e] : files->entries)
            m.emplace(k, &e);
    return m;
}

bool is_under(std::string_view path, std::string_view dir) {
    if (dir == "/") return true;
    return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

// Layers applied in order: whiteouts and opaque markers first (they act on
// the layers below), then the layer's entries.
FileMap merged_tree(const LoadedImage& img) {
    FileMap m;
    auto erase_under = [&](std::string_view dir) {
        auto it = m.lower_bound(dir);
        while (it != m.end() && (it->first == dir || is_under(it->first, dir))) {
            if (it->first == dir) {
                ++it;
                continue;
            }
            it = m.erase(it);
        }
    };
    for (const auto& l : img.layers) {
        if (!l.files) continue;
        for (const auto& [k, e] : l.files->entries) {
            if (e.type == EntryType::kWhiteout) {
                m.erase(std::string_view(e.path));
                erase_under(e.path);
            } else if (e.type == EntryType::kOpaque) {
                std::string_view dir(e.path);
                dir = dir.substr(0, dir.rfind('/'));
                erase_under(dir.empty() ? "/" : dir);
            }
        }
        for (const auto& [k, e] : l.files->entries)
            if (e.type != EntryType::kWhiteout && e.type != EntryType::kOpaque) m[e.path] = &e;
    }
    return m;
}

// --- JSON documents ------------------------------------------------------

bool plain_key(const std::string& k) {
    for (char c : k)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return !k.empty();
}

std::string child(const std::string& path, const std::string& key) {
    if (plain_key(key)) return path.empty() ? key : path + "." + key;
    return path + "[" + key + "]";
}

using Emit = std::function<void(const std::string& path, const json* a, const json* b)>;

void json_diff(const json* a, const json* b, const std::string& path, const Emit& emit) {
    if (a && b && *a == *b) return;
    if (a && b && a->is_object() && b->is_object()) {
        std::set<std::string> keys;
        for (auto it = a->begin(); it != a->end(); ++it)
            keys.insert(it.key());
        for (auto it = b->begin(); it != b->end(); ++it)
            keys.insert(it.key());
        for (const auto& k : keys) {
            const json* x = a->contains(k) ? &(*a)[k] : nullptr;
            const json* y = b->contains(k) ? &(*b)[k] : nullptr;
            json_diff(x, y, child(path, k), emit);
        }
        return;
    }
    // Env: by variable, so that one changed variable is one difference.
    if (a && b && a->is_array() && b->is_array() && path.ends_with("Env")) {
        std::map<std::string, std::string> ea, eb;
        std::vector<std::string> oa, ob;
        for (const auto& v : *a)
            if (v.is_string()) {
                auto s = v.get<std::string>();
                ea[s.substr(0, s.find('='))] = s, oa.push_back(s.substr(0, s.find('=')));
            }
        for (const auto& v : *b)
            if (v.is_string()) {
                auto s = v.get<std::string>();
                eb[s.substr(0, s.find('='))] = s, ob.push_back(s.substr(0, s.find('=')));
            }
        bool any = false;
        std::set<std::string> keys;
        for (const auto& [k, v] : ea)
            keys.insert(k);
        for (const auto& [k, v] : eb)
            keys.insert(k);
        for (const auto& k : keys) {
            auto x = ea.count(k) ? std::optional<json>(ea[k]) : std::nullopt;
            auto y = eb.count(k) ? std::optional<json>(eb[k]) : std::nullopt;
            if (x != y) {
                any = true;
                emit(path + "[" + k + "]", x ? &*x : nullptr, y ? &*y : nullptr);
            }
        }
        if (!any) emit(path + " (order)", a, b);
        return;
    }
    auto objects = [](const json& arr) {
        for (const auto& v : arr)
            if (!v.is_object()) return false;
        return true;
    };
    if (a && b && a->is_array() && b->is_array() && objects(*a) && objects(*b)) {
        for (size_t i = 0; i < std::max(a->size(), b->size()); ++i)
            json_diff(i < a->size() ? &(*a)[i] : nullptr, i < b->size() ? &(*b)[i] : nullptr,
                      path + "[" + std::to_string(i) + "]", emit);
        return;
    }
    emit(path, a, b);
}

std::optional<std::string> json_text(const json* v) {
    if (!v) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    return v->dump();
}

unsigned config_category(const std::string& path) {
    const unsigned time =
        path == "created" || path.ends_with(".created") ? unsigned(kIgnoreTimestamps) : 0u;
    if (path.starts_with("history")) return unsigned(kIgnoreHistory) | time;
    return unsigned(kIgnoreConfig) | time;
}

void compare_configs(const LoadedImage& a, const LoadedImage& b, unsigned ignore,
                     std::vector<Difference>& out) {
    if (a.config_digest == b.config_digest) return;
    json ja = json::parse(a.config_json), jb = json::parse(b.config_json);
    // rootfs follows the layers: their differences are reported there.
    ja.erase("rootfs");
    jb.erase("rootfs");
    size_t found = 0;
    json_diff(&ja, &jb, "", [&](const std::string& path, const json* x, const json* y) {
        ++found;
        if (config_category(path) & ignore) return;
        Difference d;
        d.scope = "config";
        d.field = path;
        d.a = json_text(x);
        d.b = json_text(y);
        out.push_back(std::move(d));
    });
    if (found == 0 && !(ignore & kIgnoreConfig) && a.layers.size() == b.layers.size()) {
        bool same_layers = true;
        for (size_t i = 0; i < a.layers.size(); ++i)
            same_layers = same_layers && a.layers[i].diff_id == b.layers[i].diff_id;
        if (same_layers) {
            Difference d;
            d.scope = "config";
            d.field = "encoding";
            d.a = a.config_digest;
            d.b = b.config_digest;
            out.push_back(std::move(d));
        }
    }
}

void compare_manifests(const LoadedImage& a, const LoadedImage& b, unsigned ignore,
                       std::vector<Difference>& out) {
    if (ignore & kIgnoreManifest) return;
    if (!a.manifest_json || !b.manifest_json || a.manifest_digest == b.manifest_digest) return;
    json ja = json::parse(*a.manifest_json), jb = json::parse(*b.manifest_json);
    // The config descriptor follows the config; a layer's digest and size
    // follow its content when the diffIDs differ.
    for (json* j : {&ja, &jb})
        if (j->contains("config") && (*j)["config"].is_object()) {
            (*j)["config"].erase("digest");
            (*j)["config"].erase("size");
        }
    for (size_t i = 0; i < std::min(a.layers.size(), b.layers.size()); ++i)
        if (a.layers[i].diff_id != b.layers[i].diff_id)
            for (json* j : {&ja, &jb})
                if (j->contains("layers") && (*j)["layers"].is_array() &&
                    i < (*j)["layers"].size()) {
                    (*j)["layers"][i].erase("digest");
                    (*j)["layers"][i].erase("size");
                }
    if (a.layers.size() != b.layers.size()) {
        ja.erase("layers");
        jb.erase("layers");
    }
    size_t found = 0;
    json_diff(&ja, &jb, "", [&](const std::string& path, const json* x, const json* y) {
        ++found;
        if ((ignore & kIgnoreTimestamps) &&
            path.find("org.opencontainers.image.created") != std::string::npos)
            return;
        Difference d;
        d.scope = "manifest";
        d.field = path;
        d.a = json_text(x);
        d.b = json_text(y);
        out.push_back(std::move(d));
    });
    (void)found;
}

}  // namespace

DiffReport compare_images(LoadedImage& a, LoadedImage& b, const DiffOptions& options,
                          LayerCache* cache) {
    DiffReport report;
    report.ignored = options.ignore;
    const unsigned ignore = options.ignore;
    auto& out = report.differences;
    compare_manifests(a, b, ignore, out);
    compare_configs(a, b, ignore, out);
    if (a.config_digest == b.config_digest || (ignore & kIgnoreFiles)) return report;

    scan_layers(a, cache);
    scan_layers(b, cache);
    const size_t n = std::max(a.layers.size(), b.layers.size());
    std::vector<Difference> layer_diffs;
    for (size_t i = 0; i < n; ++i) {
        const ImageLayer* la = i < a.layers.size() ? &a.layers[i] : nullptr;
        const ImageLayer* lb = i < b.layers.size() ? &b.layers[i] : nullptr;
        if (la && lb && la->diff_id == lb->diff_id) continue;
        size_t raw = 0;
        auto diffs = tree_differences(layer_map(la ? la->files : nullptr),
                                      layer_map(lb ? lb->files : nullptr), ignore, &raw);
        if (raw == 0 && la && lb && !(ignore & kIgnoreOrder)) {
            Difference d;
            if (la->files->order_digest != lb->files->order_digest) {
                d.field = "order";
                d.a = "entries in one order";
                d.b = "the same entries in another order";
            } else {
                d.field = "tar";
                d.a = la->diff_id;
                d.b = lb->diff_id;
            }
            diffs.push_back(std::move(d));
        }
        if (!la || !lb) {
            Difference d;
            d.field = "presence";
            if (la) d.a = la->diff_id;
            if (lb) d.b = lb->diff_id;
            diffs.insert(diffs.begin(), std::move(d));
        }
        for (auto& d : diffs) {
            d.scope = "layer";
            d.layer = int(i + 1);
            layer_diffs.push_back(std::move(d));
        }
    }

    // A file only in A's layer i and only in B's layer j, the same
    // otherwise: one difference, "moved".
    std::map<std::string, std::vector<size_t>> only_a, only_b;
    for (size_t k = 0; k < layer_diffs.size(); ++k) {
        const auto& d = layer_diffs[k];
        if (d.field != "presence" || d.path.empty()) continue;
        (d.a ? only_a : only_b)[d.path].push_back(k);
    }
    std::set<size_t> drop;
    for (auto& [path, ks] : only_a) {
        auto it = only_b.find(path);
        if (it == only_b.end()) continue;
        for (size_t ka : ks)
            for (size_t& kb : it->second) {
                if (kb == SIZE_MAX || drop.count(ka)) continue;
                const int la = layer_diffs[ka].layer, lb = layer_diffs[kb].layer;
                const FileEntry& ea = a.layers[size_t(la - 1)].files->entries.at(path);
                const FileEntry& eb = b.layers[size_t(lb - 1)].files->entries.at(path);
                if (la == lb || !equal_under(ea, eb, ignore)) continue;
                auto& d = layer_diffs[ka];
                d.field = "moved";
                d.a = "layer " + std::to_string(la);
                d.b = "layer " + std::to_string(lb);
                drop.insert(kb);
                kb = SIZE_MAX;
            }
    }
    std::set<std::string> mentioned;
    for (size_t k = 0; k < layer_diffs.size(); ++k) {
        if (drop.count(k)) continue;
        std::string p = layer_diffs[k].path;
        if (p.ends_with("/.wh..wh..opq")) p.resize(p.size() - 13);
        if (!p.empty()) mentioned.insert(p.empty() ? "/" : p);
        out.push_back(std::move(layer_diffs[k]));
    }

    // The merged filesystem: only what no layer difference explains (e.g.
    // when the layers are cut differently).
    auto explained = [&](const std::string& path) {
        for (std::string p = path;;) {
            if (mentioned.count(p)) return true;
            if (p == "/" || p.empty()) return false;
            auto s = p.rfind('/');
            p = s == 0 ? "/" : p.substr(0, s);
        }
    };
    FileMap ma = merged_tree(a), mb = merged_tree(b);
    for (auto& d : tree_differences(ma, mb, ignore)) {
        if (explained(d.path)) continue;
        d.scope = "merged";
        out.push_back(std::move(d));
    }
    return report;
}

std::vector<LayerChanges> layer_changes(LoadedImage& image, LayerCache* cache) {
    scan_layers(image, cache);
    std::vector<LayerChanges> out;
    FileMap below;
    LoadedImage partial;
    for (size_t i = 0; i < image.layers.size(); ++i) {
        const auto& l = image.layers[i];
        LayerChanges lc;
        lc.layer = int(i + 1);
        lc.diff_id = l.diff_id;
        lc.created_by = l.created_by;
        for (const auto& [k, e] : l.files->entries) {
            if (e.type == EntryType::kOpaque) continue;
            if (e.type == EntryType::kWhiteout) {
                lc.changes.push_back({'D', e.path});
            } else if (e.path != "/") {
                lc.changes.push_back({below.count(e.path) ? 'C' : 'A', e.path});
            }
        }
        out.push_back(std::move(lc));
        partial.layers.push_back(l);
        below = merged_tree(partial);
    }
    return out;
}

}  // namespace strata::diff
