// Capabilities by name: Docker's default set, and the names runc and
// Docker's seccomp profile use ("CAP_CHOWN", ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::sandbox {

// The 14 capabilities Docker (and runc's default spec) give a container.
const std::vector<std::string>& default_capabilities();

// "CAP_CHOWN" (or "chown", any case) → its number; nullopt when unknown.
std::optional<int> capability_number(std::string_view name);

// Every capability name this build knows, in number order.
const std::vector<std::string>& all_capability_names();

// A set of capability names as a bit mask (bit N = capability N).
uint64_t capability_mask(const std::vector<std::string>& names);

}  // namespace strata::sandbox
