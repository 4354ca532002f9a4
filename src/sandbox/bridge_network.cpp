#include "sandbox/bridge_network.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <exception>
#include <thread>
#include <utility>

#include "base/error.hpp"
#include "sandbox/resolv_conf.hpp"

namespace strata::sandbox {

namespace {

constexpr const char* kContainerInterface = "eth0";

struct Namespace {
    UniqueFd fd;
    std::optional<RouteSocket> socket;  // opened inside it
};

// A new network namespace and a netlink socket in it, made by a thread of
// its own: the calling thread's namespace (and strata's) stays as it was.
Namespace new_namespace_with_socket() {
    Namespace ns;
    std::exception_ptr failure;
    std::thread([&] {
        try {
            if (::unshare(CLONE_NEWNET) != 0)
                throw system_error("unshare(CLONE_NEWNET) for the container's network", "");
            ns.fd.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
            if (!ns.fd)
                throw system_error("open the new network namespace", "/proc/thread-self/ns/net");
            ns.socket.emplace(RouteSocket::open());
        } catch (...) {
            failure = std::current_exception();
        }
    }).join();
    if (failure) std::rethrow_exception(failure);
    return ns;
}

}  // namespace

std::array<uint8_t, 6> bridge_mac(uint32_t address) {
    return {0x02,
            0x42,
            static_cast<uint8_t>(address >> 24),
            static_cast<uint8_t>(address >> 16),
            static_cast<uint8_t>(address >> 8),
            static_cast<uint8_t>(address)};
}

std::string bridge_veth_name(uint32_t address) {
    return fmt::format("veth{:08x}", address);
}

BridgeNetwork BridgeNetwork::attach(const std::string& container_id,
                                    const BridgeNetworkOptions& options) {
    RouteSocket host = RouteSocket::open();
    const BridgeHost bridge = ensure_bridge(host, options.bridge);
    BridgeNetwork net(AddressLease::acquire(options.bridge.state_dir / "leases", bridge.subnet,
                                            options.owner.value_or(ProcessRef::self()),
                                            container_id));
    net.host_ = bridge;
    net.bridge_ = options.bridge.name;
    net.resolv_conf_ = bridge_resolv_conf(options.host_resolv_conf ? *options.host_resolv_conf
                                                                   : host_resolv_conf_for_bridge());

    Namespace ns = new_namespace_with_socket();
    const uint32_t address = net.lease_.address();
    VethRequest veth;
    veth.name = bridge_veth_name(address);
    veth.master_index = bridge.index;
    veth.peer_name = kContainerInterface;
    veth.peer_netns_fd = ns.fd.get();
    veth.peer_mac = bridge_mac(address);
    // A link of that name is the host end of an earlier holder of this
    // address whose namespace the kernel has not removed yet, or that
    // something still holds (its owner is dead: the lease was free): it goes.
    for (int attempt = 0; !host.add_veth(veth); ++attempt) {
        if (attempt == 2)
            throw Error(
                ErrorKind::kConflict,
                fmt::format("the interface {} exists and could not be replaced", veth.name));
        host.delete_link(veth.name);
    }

    RouteSocket& inside = *ns.socket;
    inside.set_up(1);  // lo: always the first interface of a namespace
    const auto eth0 = inside.link(kContainerInterface);
    if (!eth0)
        throw Error(ErrorKind::kSystem,
                    "the container's eth0 is missing from its namespace after veth creation");
    inside.set_up(eth0->index);
    inside.add_ipv4_address(eth0->index, address, bridge.subnet.prefix);
    inside.add_ipv4_default_route(bridge.gateway, eth0->index);
    net.netns_ = std::move(ns.fd);
    return net;
}

BridgeNetwork::~BridgeNetwork() {
    netns_.reset();  // before the lease goes (member order does the same)
}

std::string BridgeNetwork::mac_address() const {
    const auto m = bridge_mac(lease_.address());
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                       m[5]);
}

std::string BridgeNetwork::host_interface() const {
    return bridge_veth_name(lease_.address());
}

}  // namespace strata::sandbox
