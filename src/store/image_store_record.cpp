#include "store/image_store_record.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"

namespace strata::store {

using nlohmann::json;

namespace {
constexpr int kRecordVersion = 1;
}

json layer_record_to_json(const LayerRecord& l) {
    json j{{"digest", l.digest.str()},
           {"diffID", l.diff_id.str()},
           {"size", l.size},
           {"mediaType", l.media_type}};
    if (l.unpacked_size) j["unpackedSize"] = *l.unpacked_size;
    return j;
}

LayerRecord layer_record_from_json(const json& l) {
    LayerRecord lr;
    lr.digest = Digest::parse(l.at("digest").get<std::string>());
    lr.diff_id = Digest::parse(l.at("diffID").get<std::string>());
    lr.size = l.at("size").get<uint64_t>();
    lr.media_type = l.at("mediaType").get<std::string>();
    if (auto it = l.find("unpackedSize"); it != l.end()) lr.unpacked_size = it->get<uint64_t>();
    return lr;
}

uint64_t ImageRecord::unpacked_size() const {
    uint64_t n = 0;
    for (const auto& l : layers)
        n += l.unpacked_size.value_or(0);
    return n;
}

bool ImageRecord::measured() const {
    for (const auto& l : layers)
        if (!l.unpacked_size) return false;
    return true;
}

std::vector<Digest> ImageRecord::blobs() const {
    std::vector<Digest> out{manifest, config};
    for (const auto& l : layers)
        out.push_back(l.digest);
    return out;
}

json ImageRecord::to_json() const {
    json layers_json = json::array();
    for (const auto& l : layers)
        layers_json.push_back(layer_record_to_json(l));
    return json{
        {"version", kRecordVersion},
        {"manifest",
         {{"digest", manifest.str()}, {"mediaType", manifest_media_type}, {"size", manifest_size}}},
        {"config", {{"digest", config.str()}, {"size", config_size}}},
        {"layers", std::move(layers_json)},
        {"created", created},
        {"added", added}};
}

ImageRecord ImageRecord::from_json(std::string_view text, std::string_view what) {
    try {
        json j = parse_json(text, what);
        if (!j.is_object() || j.value("version", 0) != kRecordVersion)
            throw Error(ErrorKind::kCorrupt,
                        fmt::format("{}: not an image record (version {})", what, kRecordVersion));
        ImageRecord r;
        const json& m = j.at("manifest");
        r.manifest = Digest::parse(m.at("digest").get<std::string>());
        r.manifest_media_type = m.at("mediaType").get<std::string>();
        r.manifest_size = m.at("size").get<uint64_t>();
        const json& c = j.at("config");
        r.config = Digest::parse(c.at("digest").get<std::string>());
        r.config_size = c.at("size").get<uint64_t>();
        for (const auto& l : j.at("layers"))
            r.layers.push_back(layer_record_from_json(l));
        r.created = j.value("created", std::string());
        r.added = j.value("added", std::string());
        return r;
    } catch (const json::exception& e) {
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: bad image record: {}", what, e.what()));
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::kCorrupt) throw;
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: bad image record: {}", what, e.what()));
    }
}

}  // namespace strata::store
