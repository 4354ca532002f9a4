// RouteSocket — a NETLINK_ROUTE socket (through Debian's libnl-route-3) and
// the few requests the bridge network makes with it: links (a bridge, a veth
// pair whose peer is created in another namespace), IPv4 addresses and
// routes. Everything `ip link` / `ip addr` / `ip route` would do, without
// running them.
//
// A netlink socket belongs to the network namespace of the thread that
// opened it, for its whole life: a thread that has entered (or made) a
// container's namespace opens one there, and any thread can use it after.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/ipv4.hpp"

struct nl_sock;

namespace strata::sandbox {

struct LinkState {
    int index = 0;
    bool up = false;   // IFF_UP
    std::string kind;  // "bridge", "veth", ... ("" for a plain device)
};

struct VethRequest {
    std::string name;                   // the end that stays in the socket's namespace
    int master_index = 0;               // the bridge that end joins; 0: none
    std::string peer_name;              // the other end's name, in peer_netns_fd
    int peer_netns_fd = -1;             // where the peer is created
    std::array<uint8_t, 6> peer_mac{};  // all zero: the kernel picks one
};

class RouteSocket {
  public:
    // A socket in the calling thread's network namespace. Throws Error.
    static RouteSocket open();

    RouteSocket(RouteSocket&& other) noexcept;
    RouteSocket& operator=(RouteSocket&& other) noexcept;
    RouteSocket(const RouteSocket&) = delete;
    RouteSocket& operator=(const RouteSocket&) = delete;
    ~RouteSocket();

    // The link named `name`; nullopt when there is none.
    std::optional<LinkState> link(const std::string& name);
    // A new bridge, down. Throws Error (an existing link of that name too).
    void add_bridge(const std::string& name);
    void set_up(int index);
    // Removes the link (a veth takes its peer along); false when there was none.
    bool delete_link(const std::string& name);
    // The near end up and enslaved to `master_index`, the peer down. false when a link
    // named `name` exists already; throws Error otherwise.
    bool add_veth(const VethRequest& request);
    // `address`/`prefix` on the link (an address it has already is fine).
    void add_ipv4_address(int index, uint32_t address, int prefix);
    // The IPv4 addresses of link `index` (0: of every link), each with its prefix.
    struct Address {
        int index;
        uint32_t address;
        int prefix;
    };
    std::vector<Address> ipv4_addresses(int index = 0);
    // The destinations of the namespace's IPv4 unicast routes, in every table,
    // default routes left out.
    std::vector<Ipv4Subnet> ipv4_route_destinations();
    // default via `gateway` (dev `index`).
    void add_ipv4_default_route(uint32_t gateway, int index);

  private:
    explicit RouteSocket(nl_sock* sock) : sock_(sock) {}
    nl_sock* sock_ = nullptr;
};

}  // namespace strata::sandbox
