// Platform names as containerd normalizes them (platforms.Normalize), the
// one rule the planner (TARGETPLATFORM, --platform) and pull (which manifest
// of an index) share.
#pragma once

#include <string>

namespace strata {

// Go's architecture names with containerd's variant rules, in place:
// i386/i686/x86 → 386; x86_64/x86-64 → amd64 (variant v1 dropped);
// aarch64 → arm64 (variant 8/v8 dropped); armhf → arm/v7, armel → arm/v6;
// arm without a variant → v7, "5"/"6"/"8" → "v5"/"v6"/"v8".
void normalize_architecture(std::string& architecture, std::string& variant);

}  // namespace strata
