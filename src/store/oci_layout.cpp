#include "store/oci_layout.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"

namespace strata::store {

std::string oci_layout_json() {
    return canonical_json(nlohmann::json{{"imageLayoutVersion", kOciLayoutVersion}});
}

void check_oci_layout(std::string_view text, std::string_view what) {
    auto j = parse_json(text, what);
    if (!j.is_object() || !j.contains("imageLayoutVersion") || !j["imageLayoutVersion"].is_string())
        throw Error(ErrorKind::kParse, fmt::format("{}: missing imageLayoutVersion", what));
    auto v = j["imageLayoutVersion"].get<std::string>();
    if (v != kOciLayoutVersion)
        throw Error(ErrorKind::kParse,
                    fmt::format("{}: unsupported image layout version \"{}\"", what, v));
}

std::optional<Reference> descriptor_image_name(const Descriptor& d) {
    if (auto it = d.annotations.find(annotation::kImageName); it != d.annotations.end())
        if (auto ref = Reference::try_parse(it->second); ref && !ref->digest)
            return ref->with_default_tag();
    if (auto it = d.annotations.find(annotation::kRefName); it != d.annotations.end()) {
        const std::string& v = it->second;
        if (v.find_first_of("/:") != std::string::npos)
            if (auto ref = Reference::try_parse(v); ref && !ref->digest)
                return ref->with_default_tag();
    }
    return std::nullopt;
}

std::map<std::string, std::string> name_annotations(const Reference& name) {
    Reference tagged = name.with_default_tag();
    return {{annotation::kImageName, tagged.str()}, {annotation::kRefName, tagged.tag}};
}

}  // namespace strata::store
