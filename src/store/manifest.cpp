#include "store/manifest.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"

namespace strata::store {

using nlohmann::json;

bool is_manifest_media_type(std::string_view mt) {
    return mt == media_type::kOciManifest || mt == media_type::kDockerManifest;
}
bool is_index_media_type(std::string_view mt) {
    return mt == media_type::kOciIndex || mt == media_type::kDockerManifestList;
}
bool is_config_media_type(std::string_view mt) {
    return mt == media_type::kOciConfig || mt == media_type::kDockerConfig;
}

std::string Platform::str() const {
    std::string s = os + "/" + architecture;
    if (!variant.empty()) s += "/" + variant;
    return s;
}

namespace {

[[noreturn]] void bad(std::string_view what, std::string_view msg) {
    throw Error(ErrorKind::kParse, fmt::format("{}: {}", what, msg));
}

std::string get_str(const json& j, const char* key, std::string_view what, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) bad(what, fmt::format("missing \"{}\"", key));
        return {};
    }
    if (!it->is_string()) bad(what, fmt::format("\"{}\" must be a string", key));
    return it->get<std::string>();
}

std::map<std::string, std::string> get_annotations(const json& j, std::string_view what) {
    std::map<std::string, std::string> out;
    auto it = j.find("annotations");
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_object()) bad(what, "\"annotations\" must be an object");
    for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) bad(what, fmt::format("annotation \"{}\" must be a string", k));
        out[k] = v.get<std::string>();
    }
    return out;
}

int get_schema_version(const json& j, std::string_view what) {
    auto it = j.find("schemaVersion");
    if (it == j.end() || !it->is_number_integer())
        bad(what, "missing or invalid \"schemaVersion\"");
    int v = it->get<int>();
    if (v != 2) bad(what, fmt::format("unsupported schemaVersion {} (only 2 is)", v));
    return v;
}

json object_of(std::string_view text, std::string_view what) {
    json j = parse_json(text, what);
    if (!j.is_object()) bad(what, "not a JSON object");
    return j;
}

Platform platform_from_json(const json& j, std::string_view what) {
    if (!j.is_object()) bad(what, "\"platform\" must be an object");
    Platform p;
    p.architecture = get_str(j, "architecture", what, false);
    p.os = get_str(j, "os", what, false);
    p.variant = get_str(j, "variant", what, false);
    p.os_version = get_str(j, "os.version", what, false);
    if (auto it = j.find("os.features"); it != j.end() && it->is_array())
        for (const auto& f : *it)
            if (f.is_string()) p.os_features.push_back(f.get<std::string>());
    return p;
}

json platform_to_json(const Platform& p) {
    json j = {{"architecture", p.architecture}, {"os", p.os}};
    if (!p.variant.empty()) j["variant"] = p.variant;
    if (!p.os_version.empty()) j["os.version"] = p.os_version;
    if (!p.os_features.empty()) j["os.features"] = p.os_features;
    return j;
}

}  // namespace

Descriptor Descriptor::from_json(const json& j, std::string_view what) {
    if (!j.is_object()) bad(what, "descriptor is not an object");
    Descriptor d;
    d.media_type = get_str(j, "mediaType", what, true);
    std::string digest = get_str(j, "digest", what, true);
    auto parsed = Digest::try_parse(digest);
    if (!parsed) bad(what, fmt::format("invalid digest \"{}\"", digest));
    d.digest = *parsed;
    auto size = j.find("size");
    if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0)
        bad(what, fmt::format("descriptor {} has a missing or invalid size", digest));
    d.size = size->get<int64_t>();
    if (auto it = j.find("urls"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) bad(what, "\"urls\" must be an array");
        for (const auto& u : *it)
            if (u.is_string()) d.urls.push_back(u.get<std::string>());
    }
    d.annotations = get_annotations(j, what);
    if (auto it = j.find("platform"); it != j.end() && !it->is_null())
        d.platform = platform_from_json(*it, what);
    d.artifact_type = get_str(j, "artifactType", what, false);
    return d;
}

json Descriptor::to_json() const {
    json j = {{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}};
    if (!urls.empty()) j["urls"] = urls;
    if (!annotations.empty()) j["annotations"] = annotations;
    if (platform) j["platform"] = platform_to_json(*platform);
    if (!artifact_type.empty()) j["artifactType"] = artifact_type;
    return j;
}

Manifest Manifest::parse(std::string_view text, std::string_view what) {
    json j = object_of(text, what);
    Manifest m;
    m.schema_version = get_schema_version(j, what);
    m.media_type = get_str(j, "mediaType", what, false);
    if (!m.media_type.empty() && !is_manifest_media_type(m.media_type))
        bad(what, fmt::format("media type \"{}\" is not an image manifest", m.media_type));
    if (j.contains("manifests")) bad(what, "is an index, not a manifest");
    m.artifact_type = get_str(j, "artifactType", what, false);
    auto config = j.find("config");
    if (config == j.end()) bad(what, "missing \"config\"");
    m.config = Descriptor::from_json(*config, what);
    if (auto it = j.find("layers"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) bad(what, "\"layers\" must be an array");
        for (const auto& l : *it)
            m.layers.push_back(Descriptor::from_json(l, what));
    }
    if (auto it = j.find("subject"); it != j.end() && !it->is_null())
        m.subject = Descriptor::from_json(*it, what);
    m.annotations = get_annotations(j, what);
    return m;
}

json Manifest::to_json() const {
    json j = {{"schemaVersion", schema_version}, {"config", config.to_json()}};
    if (!media_type.empty()) j["mediaType"] = media_type;
    if (!artifact_type.empty()) j["artifactType"] = artifact_type;
    json ls = json::array();
    for (const auto& l : layers)
        ls.push_back(l.to_json());
    j["layers"] = std::move(ls);
    if (subject) j["subject"] = subject->to_json();
    if (!annotations.empty()) j["annotations"] = annotations;
    return j;
}

std::string Manifest::canonical() const {
    return canonical_json(to_json());
}

Index Index::parse(std::string_view text, std::string_view what) {
    json j = object_of(text, what);
    Index idx;
    idx.schema_version = get_schema_version(j, what);
    idx.media_type = get_str(j, "mediaType", what, false);
    if (!idx.media_type.empty() && !is_index_media_type(idx.media_type))
        bad(what, fmt::format("media type \"{}\" is not an image index", idx.media_type));
    idx.artifact_type = get_str(j, "artifactType", what, false);
    auto ms = j.find("manifests");
    if (ms == j.end() || !ms->is_array()) bad(what, "missing \"manifests\" array");
    for (const auto& m : *ms)
        idx.manifests.push_back(Descriptor::from_json(m, what));
    idx.annotations = get_annotations(j, what);
    return idx;
}

json Index::to_json() const {
    json j = {{"schemaVersion", schema_version}};
    if (!media_type.empty()) j["mediaType"] = media_type;
    if (!artifact_type.empty()) j["artifactType"] = artifact_type;
    json ms = json::array();
    for (const auto& m : manifests)
        ms.push_back(m.to_json());
    j["manifests"] = std::move(ms);
    if (!annotations.empty()) j["annotations"] = annotations;
    return j;
}

std::string Index::canonical() const {
    return canonical_json(to_json());
}

DocumentKind document_kind(std::string_view text, std::string_view what) {
    json j = object_of(text, what);
    std::string mt = get_str(j, "mediaType", what, false);
    if (is_index_media_type(mt)) return DocumentKind::kIndex;
    if (is_manifest_media_type(mt)) return DocumentKind::kManifest;
    if (!mt.empty()) bad(what, fmt::format("unsupported media type \"{}\"", mt));
    if (j.contains("manifests")) return DocumentKind::kIndex;
    if (j.contains("config") || j.contains("layers")) {
        if (j.contains("fsLayers")) bad(what, "Docker schema 1 manifests are not supported");
        return DocumentKind::kManifest;
    }
    bad(what, "neither an image manifest nor an index");
}

bool platform_matches(const Platform& p, std::string_view os, std::string_view architecture,
                      std::string_view variant) {
    if (p.os != os || p.architecture != architecture) return false;
    return p.variant.empty() || variant.empty() || p.variant == variant;
}

}  // namespace strata::store
