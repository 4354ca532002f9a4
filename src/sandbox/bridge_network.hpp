// BridgeNetwork — a container's network on the host bridge, as Docker's
// default `bridge` network and Podman's netavark give one, daemonless and as
// root only (the host side: bridge_host.hpp):
//
//   host                                  container's network namespace
//   strata0 10.89.0.1/16 ── vethXXXXXXXX ══ eth0 10.89.0.N/16, MAC 02:42:<IP>
//     │ (NAT: masquerade out of the host)    lo up, default via 10.89.0.1
//
// attach() makes a network namespace (a thread unshares it; nothing is
// forked), an address lease (address_lease.hpp), and a veth pair: the host
// end on the bridge, the peer created directly in the namespace as eth0.
// Inside, through a netlink socket opened in it: lo up, the address, the
// default route. Containers on the bridge reach each other, the host (at the
// gateway address) and, through NAT, the outside.
//
// Lifetime: the namespace is held by this object's descriptor and by the
// container's processes; when the last goes, the kernel removes the veth
// pair with it. The destructor closes the namespace and releases the lease;
// after a kill -9 of the owner the lease is reclaimed by the next
// allocation that finds its owner dead, and the host end of a veth that the
// kernel has not yet removed is deleted when its name is needed again.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "base/process_ref.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/address_lease.hpp"
#include "sandbox/bridge_host.hpp"

namespace strata::sandbox {

struct BridgeNetworkOptions {
    BridgeConfig bridge = BridgeConfig::from_environment();
    // The host's resolver configuration, as Docker reads it
    // (host_resolv_conf_for_bridge()); empty: that function's choice.
    std::optional<std::string> host_resolv_conf;
    // The lease's owner: the process that holds the namespace (this one by
    // default).
    std::optional<ProcessRef> owner;
};

class BridgeNetwork {
  public:
    // Throws Error naming what failed; nothing is left behind then.
    static BridgeNetwork attach(const std::string& container_id,
                                const BridgeNetworkOptions& options = {});

    BridgeNetwork(BridgeNetwork&&) noexcept = default;
    BridgeNetwork& operator=(BridgeNetwork&&) = delete;
    BridgeNetwork(const BridgeNetwork&) = delete;
    BridgeNetwork& operator=(const BridgeNetwork&) = delete;
    // Closes the namespace, then releases the lease.
    ~BridgeNetwork();

    // As PrivateNetwork's: the container's child setns()es into it. O_CLOEXEC.
    int netns_fd() const { return netns_.get(); }
    // The host's resolv.conf without loopback and IPv6 nameservers
    // (bridge_resolv_conf()).
    const std::string& resolv_conf() const { return resolv_conf_; }

    std::string ip_address() const { return format_ipv4(lease_.address()); }
    std::string gateway() const { return format_ipv4(host_.gateway); }
    int prefix_length() const { return host_.subnet.prefix; }
    std::string mac_address() const;     // 02:42:0a:59:00:02 for 10.89.0.2
    std::string host_interface() const;  // the host end: veth0a590002
    const std::string& bridge_name() const { return bridge_; }
    const std::filesystem::path& lease_file() const { return lease_.file(); }

  private:
    BridgeNetwork(AddressLease lease) : lease_(std::move(lease)) {}

    AddressLease lease_;  // declared first: released after the namespace is closed
    UniqueFd netns_;
    BridgeHost host_;
    std::string bridge_;
    std::string resolv_conf_;
};

// The MAC address a container with `address` gets: 02:42 (locally
// administered, as Docker's) then the address's four bytes.
std::array<uint8_t, 6> bridge_mac(uint32_t address);
// The host end's name for `address`: "veth" and the address in hex (12
// characters, within IFNAMSIZ).
std::string bridge_veth_name(uint32_t address);

}  // namespace strata::sandbox
