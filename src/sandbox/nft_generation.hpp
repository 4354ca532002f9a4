// The generation of the kernel's nftables ruleset: a number the kernel
// bumps on every change to any table (nft, iptables-nft, firewalld, a
// `flush ruleset`). The bridge network remembers the generation it last
// checked its rules at, and looks again only when it moved (bridge_host.hpp).
#pragma once

#include <cstdint>
#include <optional>

namespace strata::sandbox {

// One NFT_MSG_GETGEN request on a NETLINK_NETFILTER socket (libnl-3), in the
// calling thread's network namespace; nullopt when the kernel does not answer
// it (no nf_tables, no permission).
std::optional<uint32_t> nftables_generation();

}  // namespace strata::sandbox
