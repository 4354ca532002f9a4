#include "store/whiteout.hpp"

namespace strata::store {

WhiteoutName classify_whiteout(std::string_view basename) {
    // Order matters: the opaque marker and AUFS metadata also start with ".wh.".
    if (basename == kOpaqueMarker) return {WhiteoutKind::kOpaque, {}};
    if (basename.starts_with(kWhiteoutMetaPrefix)) return {WhiteoutKind::kMeta, {}};
    if (basename.starts_with(kWhiteoutPrefix))
        return {WhiteoutKind::kWhiteout, basename.substr(kWhiteoutPrefix.size())};
    return {};
}

bool is_layer_xattr(std::string_view name) {
    if (is_overlay_xattr(name)) return false;
    return name == "security.capability" || name.starts_with("user.");
}

}  // namespace strata::store
