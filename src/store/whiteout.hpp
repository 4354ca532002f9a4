// The whiteout rules in one place: how OCI layer tars and overlayfs each say
// "this file was deleted" and "this directory replaces the one below".
//
//   tar (OCI / AUFS style)            overlayfs upper/lower dir
//   <dir>/.wh.<name>                  <dir>/<name> as char device 0:0
//   <dir>/.wh..wh..opq                <dir> with xattr trusted.overlay.opaque=y
//                                     (user.overlay.opaque=y with `userxattr`)
//
// `.wh..wh..opq` must be recognised before the generic `.wh.` prefix: read as
// a plain whiteout it would delete a file named `.wh..opq` and leave the lower
// directory's content visible. Other `.wh..wh.` names are AUFS bookkeeping and
// are ignored.
#pragma once

#include <string_view>

#include "base/overlay_mount.hpp"

namespace strata::store {

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
// overlay's side of the rules (markers, its private xattrs): base/overlay_mount.hpp.
using strata::is_opaque_dir;
using strata::is_overlay_whiteout;
using strata::is_overlay_xattr;
using strata::kTrustedOpaqueXattr;
using strata::kUserOpaqueXattr;

enum class WhiteoutKind {
    kNone,      // an ordinary name
    kOpaque,    // `.wh..wh..opq`: the parent directory is opaque
    kWhiteout,  // `.wh.<name>`: <name> is deleted
    kMeta,      // other `.wh..wh.*` (AUFS metadata): ignore
};

struct WhiteoutName {
    WhiteoutKind kind = WhiteoutKind::kNone;
    std::string_view target;  // kWhiteout: the deleted name
};

// Classifies the last component of a tar entry name.
WhiteoutName classify_whiteout(std::string_view basename);

// The xattrs a layer carries, both ways: security.capability and user.*
// (except user.overlay.*).
bool is_layer_xattr(std::string_view name);

}  // namespace strata::store
