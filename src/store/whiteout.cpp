#include "store/whiteout.hpp"

#include <sys/xattr.h>

namespace strata::store {

WhiteoutName classify_whiteout(std::string_view basename) {
    // Order matters: the opaque marker and AUFS metadata also start with ".wh.".
    if (basename == kOpaqueMarker) return {WhiteoutKind::kOpaque, {}};
    if (basename.starts_with(kWhiteoutMetaPrefix)) return {WhiteoutKind::kMeta, {}};
    if (basename.starts_with(kWhiteoutPrefix))
        return {WhiteoutKind::kWhiteout, basename.substr(kWhiteoutPrefix.size())};
    return {};
}

bool is_opaque_dir(int dirfd) {
    for (const char* name : {kTrustedOpaqueXattr, kUserOpaqueXattr}) {
        char value[8];
        ssize_t n = ::fgetxattr(dirfd, name, value, sizeof value);
        if (n == 1 && value[0] == 'y') return true;
    }
    return false;
}

bool is_overlay_xattr(std::string_view name) {
    return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

bool is_layer_xattr(std::string_view name) {
    if (is_overlay_xattr(name)) return false;
    return name == "security.capability" || name.starts_with("user.");
}

}  // namespace strata::store
