// Ipv4 — an IPv4 address and a subnet (CIDR), in host byte order, for the
// bridge network's host side, its address management and its netlink calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace strata::sandbox {

// "10.89.0.2" → host-order value; nullopt when not a dotted IPv4 address.
std::optional<uint32_t> parse_ipv4(const std::string& text);
std::string format_ipv4(uint32_t address);

struct Ipv4Subnet {
    uint32_t network = 0;  // the address with the host bits cleared
    int prefix = 0;        // 0..32

    // "10.89.0.0/16" (host bits must be zero); nullopt otherwise.
    static std::optional<Ipv4Subnet> parse(const std::string& cidr);
    // The subnet `address` lies in with this prefix.
    static Ipv4Subnet of(uint32_t address, int prefix);

    uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
    uint32_t broadcast() const { return network | ~mask(); }
    bool contains(uint32_t address) const { return (address & mask()) == network; }
    bool overlaps(const Ipv4Subnet& other) const {
        return contains(other.network) || other.contains(network);
    }
    // The first host address (the bridge's, which containers use as their gateway).
    uint32_t gateway() const { return network + 1; }
    std::string to_string() const;  // "10.89.0.0/16"
    bool operator==(const Ipv4Subnet&) const = default;
};

}  // namespace strata::sandbox
