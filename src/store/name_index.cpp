#include "store/name_index.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"
#include "store/image_store_io.hpp"

namespace strata::store {

using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;

}  // namespace

std::string NameIndex::key(const Reference& ref) {
    if (ref.tag.empty() || ref.digest)
        throw Error(ErrorKind::kInternal, "name index keys are NAME:TAG, got " + ref.str());
    return ref.str();
}

NameIndex NameIndex::load(const std::filesystem::path& file) {
    auto text = read_file_if_exists(file);
    if (!text) return {};
    return parse(*text, file.string());
}

NameIndex NameIndex::parse(std::string_view text, std::string_view what) {
    NameIndex idx;
    try {
        json j = parse_json(text, what);
        if (!j.is_object() || j.value("version", 0) != kFormatVersion || !j.contains("names") ||
            !j["names"].is_object())
            throw Error(ErrorKind::kParse, fmt::format("{}: not a strata name index (version {})",
                                                       what, kFormatVersion));
        for (const auto& [name, entry] : j["names"].items()) {
            auto ref = Reference::try_parse(name);
            auto digest =
                entry.is_object() && entry.contains("digest") && entry["digest"].is_string()
                    ? Digest::try_parse(entry["digest"].get<std::string>())
                    : std::nullopt;
            if (!ref || ref->tag.empty() || !digest)
                throw Error(ErrorKind::kParse, fmt::format("{}: bad entry \"{}\"", what, name));
            idx.entries_[ref->str()] = NameEntry{*digest, entry.value("tagged", std::string())};
        }
    } catch (const Error& e) {
        throw Error(ErrorKind::kCorrupt, e.what());
    } catch (const json::exception& e) {
        throw Error(ErrorKind::kCorrupt, fmt::format("{}: {}", what, e.what()));
    }
    return idx;
}

std::string NameIndex::serialize() const {
    json names = json::object();
    for (const auto& [k, e] : entries_) {
        json entry = {{"digest", e.manifest.str()}};
        if (!e.tagged_at.empty()) entry["tagged"] = e.tagged_at;
        names[k] = std::move(entry);
    }
    return canonical_json(json{{"version", kFormatVersion}, {"names", std::move(names)}}) + "\n";
}

std::optional<Digest> NameIndex::get(const Reference& ref) const {
    auto it = entries_.find(key(ref));
    if (it == entries_.end()) return std::nullopt;
    return it->second.manifest;
}

std::optional<Digest> NameIndex::set(const Reference& ref, const Digest& manifest,
                                     const std::string& tagged_at) {
    auto& slot = entries_[key(ref)];
    std::optional<Digest> previous;
    if (!slot.manifest.hex.empty()) previous = slot.manifest;
    slot = NameEntry{manifest, tagged_at};
    return previous;
}

bool NameIndex::remove(const Reference& ref) {
    return entries_.erase(key(ref)) > 0;
}

std::vector<Reference> NameIndex::names_of(const Digest& manifest) const {
    std::vector<Reference> out;
    for (const auto& [k, e] : entries_)
        if (e.manifest == manifest) out.push_back(Reference::parse(k));
    return out;
}

std::vector<std::pair<Reference, Digest>> NameIndex::in_repository(
    const std::string& repository) const {
    std::vector<std::pair<Reference, Digest>> out;
    for (const auto& [k, e] : entries_) {
        auto ref = Reference::parse(k);
        if (ref.repository() == repository) out.emplace_back(std::move(ref), e.manifest);
    }
    return out;
}

std::vector<std::pair<Reference, NameEntry>> NameIndex::all() const {
    std::vector<std::pair<Reference, NameEntry>> out;
    for (const auto& [k, e] : entries_)
        out.emplace_back(Reference::parse(k), e);
    return out;
}

}  // namespace strata::store
