// The host side of the bridge network: the bridge `strata0` (Docker's
// docker0, Podman's podman0), its subnet, and outbound NAT — made on first
// use, as root, and kept afterwards (until reboot or `ip link del strata0`).
//
// Made once, under an flock on <state_dir>/bridge.lock (concurrent strata
// processes wait for one of them to finish it), in an order that makes
// "the bridge is up and has an address" mean "it is complete":
//   1. the bridge link, down;
//   2. the subnet: STRATA_BRIDGE_SUBNET, else the first of 10.89.0.0/16 ...
//      10.99.0.0/16 that no route and no address of the host overlaps;
//   3. net.ipv4.ip_forward = 1;
//   4. one `nft -f -`: a table `ip strata` of its own (masquerade of the
//      subnet's traffic leaving through another interface; a forward chain
//      that accepts what containers send and the replies they get, and
//      drops new connections from outside), and — when iptables' FORWARD
//      chain is in use (Docker sets its policy to drop; netavark jumps from
//      it) — the same two accepts inserted there with `iptables -I`, since
//      an accept in one base chain does not override a drop in another
//      (not with nft: iptables-nft would find rules it did not write there
//      and call the whole table incompatible, breaking Docker and Podman);
//   5. the gateway address (the subnet's first host address) on the bridge,
//      and the bridge up.
// Steps 3 and 4 are done again, under the same lock, when the nftables
// ruleset's generation (nft_generation.hpp) moved since they were last done:
// a ruleset flushed or reloaded, or a daemon started later whose FORWARD
// policy drops, would otherwise cut the containers off.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/ipv4.hpp"
#include "sandbox/netlink.hpp"

namespace strata::sandbox {

struct BridgeConfig {
    std::string name = "strata0";
    // The nft table of the bridge's rules (tests use their own).
    std::string nft_table = "strata";
    // The subnet to make the bridge with; nullopt: the first free of
    // default_bridge_subnets(). A bridge that exists keeps its own.
    std::optional<Ipv4Subnet> subnet;
    // Host-global state: bridge.lock, leases/ (bridge_network.hpp).
    std::filesystem::path state_dir = "/run/strata/network";
    // The nft binary; empty: `nft` on $PATH, then /usr/sbin and /sbin.
    std::filesystem::path nft;

    // The defaults, with STRATA_BRIDGE_SUBNET (a CIDR such as
    // 10.123.0.0/16) for `subnet`. Throws Error(kUsage) for a bad value.
    static BridgeConfig from_environment();
};

struct BridgeHost {
    int index = 0;  // the bridge's interface index
    Ipv4Subnet subnet;
    uint32_t gateway = 0;  // the bridge's own address, the containers' default route
};

// The bridge, made if missing (see above); `host` is a socket in the host's
// network namespace. Throws Error naming what failed (no nft, no bridge
// support, no free subnet, a bridge with another subnet than the one asked).
BridgeHost ensure_bridge(RouteSocket& host, const BridgeConfig& config);

// The candidates, in order.
std::vector<Ipv4Subnet> default_bridge_subnets();
// The first candidate that overlaps none of `in_use`.
std::optional<Ipv4Subnet> first_free_subnet(const std::vector<Ipv4Subnet>& candidates,
                                            const std::vector<Ipv4Subnet>& in_use);

// The `nft -f -` script of step 4.
std::string bridge_nft_script(const std::string& table, const std::string& bridge,
                              const Ipv4Subnet& subnet);
// The two rules of step 4 for iptables' FORWARD chain, as iptables arguments.
std::vector<std::vector<std::string>> iptables_forward_rules(const std::string& bridge);

}  // namespace strata::sandbox
