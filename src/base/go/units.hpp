// go-units (github.com/docker/go-units), as Docker and BuildKit read sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::go::units {

// RAMInBytes: a number (fractions allowed) and an optional unit b, k, m, g,
// t or p, any case, powers of 1024, with an optional "b" or "ib" after it
// ("64m", "1.5GiB", "512 kb"). Docker reads --memory, --shm-size and
// `builder prune --keep-storage` with it, BuildKit a tmpfs mount's size=.
// nullopt with go-units' message in `error` when invalid.
std::optional<uint64_t> ram_in_bytes(std::string_view text, std::string* error = nullptr);

}  // namespace strata::go::units
