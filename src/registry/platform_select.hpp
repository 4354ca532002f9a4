// Which manifest of a multi-platform image (OCI index, Docker manifest list)
// strata pulls: containerd's rules (platforms.Only), which Docker and
// BuildKit use — the exact platform first, then the older variants and
// 32-bit modes the machine can also run, in that order.
#pragma once

#include <vector>

#include "store/manifest.hpp"

namespace strata::registry {

// `p` with containerd's normalization: Go's architecture names (x86_64 →
// amd64, aarch64 → arm64), arm64's variant v8 and amd64's v1 dropped, arm's
// missing variant made v7; os defaults to linux.
store::Platform normalize_platform(store::Platform p);

// The platforms an image for `want` may be taken from, best first:
// amd64/vN → amd64/vN…v1, then 386; arm64 → arm64, then arm/v8…v5;
// arm/vN → arm/vN…v5. Others: `want` alone.
std::vector<store::Platform> compatible_platforms(const store::Platform& want);

// The entry of `index` for `want`: of the compatible platforms, the best one
// any entry has (the first such entry; attestation entries, "unknown/unknown",
// never match). Error(kNotFound) "no matching manifest for linux/amd64 in the
// manifest list entries" (Docker's words) when none does.
store::Descriptor select_manifest(const store::Index& index, const store::Platform& want);

}  // namespace strata::registry
