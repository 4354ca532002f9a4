#include "sandbox/netlink.hpp"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <fmt/format.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include <cstring>
#include <memory>
#include <utility>

#include "base/error.hpp"

namespace strata::sandbox {

namespace {

struct LinkPut {
    void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
    void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RoutePut {
    void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct NlAddrPut {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct CacheFree {
    void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<rtnl_addr, AddrPut>;
using Route = std::unique_ptr<rtnl_route, RoutePut>;
using NlAddr = std::unique_ptr<nl_addr, NlAddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;

[[noreturn]] void fail(const std::string& what, int nl_error) {
    throw Error(ErrorKind::kSystem, fmt::format("netlink: {}: {}", what, nl_geterror(nl_error)));
}

template <typename T>
T* check_alloc(T* p, const char* what) {
    if (!p) throw Error(ErrorKind::kSystem, fmt::format("netlink: out of memory ({})", what));
    return p;
}

NlAddr ipv4_nl_addr(uint32_t address, int prefix) {
    const uint32_t net = htonl(address);
    NlAddr a(check_alloc(nl_addr_build(AF_INET, &net, sizeof net), "nl_addr_build"));
    nl_addr_set_prefixlen(a.get(), prefix);
    return a;
}

uint32_t host_order(nl_addr* a) {
    uint32_t net = 0;
    if (a && nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == sizeof net)
        std::memcpy(&net, nl_addr_get_binary_addr(a), sizeof net);
    return ntohl(net);
}

bool not_found(int err) {
    return err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV;
}

}  // namespace

RouteSocket RouteSocket::open() {
    nl_sock* sock = check_alloc(nl_socket_alloc(), "nl_socket_alloc");
    if (const int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
        nl_socket_free(sock);
        fail("connect a NETLINK_ROUTE socket", err);
    }
    return RouteSocket(sock);
}

RouteSocket::RouteSocket(RouteSocket&& other) noexcept
    : sock_(std::exchange(other.sock_, nullptr)) {}

RouteSocket& RouteSocket::operator=(RouteSocket&& other) noexcept {
    if (this != &other) {
        if (sock_) nl_socket_free(sock_);
        sock_ = std::exchange(other.sock_, nullptr);
    }
    return *this;
}

RouteSocket::~RouteSocket() {
    if (sock_) nl_socket_free(sock_);  // closes the socket
}

std::optional<LinkState> RouteSocket::link(const std::string& name) {
    rtnl_link* found = nullptr;
    const int err = rtnl_link_get_kernel(sock_, 0, name.c_str(), &found);
    if (not_found(err)) return std::nullopt;
    if (err < 0) fail(fmt::format("get link {}", name), err);
    Link l(found);
    LinkState s;
    s.index = rtnl_link_get_ifindex(l.get());
    s.up = (rtnl_link_get_flags(l.get()) & IFF_UP) != 0;
    if (const char* kind = rtnl_link_get_type(l.get())) s.kind = kind;
    return s;
}

void RouteSocket::add_bridge(const std::string& name) {
    Link l(check_alloc(rtnl_link_alloc(), "rtnl_link_alloc"));
    rtnl_link_set_name(l.get(), name.c_str());
    if (const int err = rtnl_link_set_type(l.get(), "bridge"); err < 0)
        fail("the bridge link type (is the kernel's bridge module there?)", err);
    if (const int err = rtnl_link_add(sock_, l.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        fail(fmt::format("add bridge {}", name), err);
}

void RouteSocket::set_up(int index) {
    Link orig(check_alloc(rtnl_link_alloc(), "rtnl_link_alloc"));
    rtnl_link_set_ifindex(orig.get(), index);
    Link change(check_alloc(rtnl_link_alloc(), "rtnl_link_alloc"));
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (const int err = rtnl_link_change(sock_, orig.get(), change.get(), 0); err < 0)
        fail(fmt::format("set link {} up", index), err);
}

bool RouteSocket::delete_link(const std::string& name) {
    Link l(check_alloc(rtnl_link_alloc(), "rtnl_link_alloc"));
    rtnl_link_set_name(l.get(), name.c_str());
    const int err = rtnl_link_delete(sock_, l.get());
    if (not_found(err)) return false;
    if (err < 0) fail(fmt::format("delete link {}", name), err);
    return true;
}

bool RouteSocket::add_veth(const VethRequest& r) {
    Link l(check_alloc(rtnl_link_veth_alloc(), "rtnl_link_veth_alloc (is veth in the kernel?)"));
    rtnl_link_set_name(l.get(), r.name.c_str());
    rtnl_link_set_flags(l.get(), IFF_UP);
    if (r.master_index > 0) rtnl_link_set_master(l.get(), r.master_index);
    {
        // The peer is the veth object's own (released with it); this is a
        // second reference.
        Link peer(check_alloc(rtnl_link_veth_get_peer(l.get()), "rtnl_link_veth_get_peer"));
        rtnl_link_set_name(peer.get(), r.peer_name.c_str());
        rtnl_link_set_ns_fd(peer.get(), r.peer_netns_fd);
        // Not up here: the kernel (6.1) refuses to open a peer whose other
        // end is not registered yet (ENOTCONN); it is set up in its namespace.
        if (r.peer_mac != std::array<uint8_t, 6>{}) {
            NlAddr mac(check_alloc(nl_addr_build(AF_LLC, r.peer_mac.data(), r.peer_mac.size()),
                                   "nl_addr_build"));
            rtnl_link_set_addr(peer.get(), mac.get());
        }
    }
    const int err = rtnl_link_add(sock_, l.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err == -NLE_EXIST) return false;
    if (err < 0) fail(fmt::format("add veth pair {} / {}", r.name, r.peer_name), err);
    return true;
}

void RouteSocket::add_ipv4_address(int index, uint32_t address, int prefix) {
    Addr a(check_alloc(rtnl_addr_alloc(), "rtnl_addr_alloc"));
    rtnl_addr_set_ifindex(a.get(), index);
    rtnl_addr_set_family(a.get(), AF_INET);
    NlAddr local = ipv4_nl_addr(address, prefix);
    if (const int err = rtnl_addr_set_local(a.get(), local.get()); err < 0)
        fail("rtnl_addr_set_local", err);
    rtnl_addr_set_prefixlen(a.get(), prefix);
    const Ipv4Subnet subnet = Ipv4Subnet::of(address, prefix);
    if (prefix < 31) {
        NlAddr broadcast = ipv4_nl_addr(subnet.broadcast(), 32);
        rtnl_addr_set_broadcast(a.get(), broadcast.get());
    }
    const int err = rtnl_addr_add(sock_, a.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST)
        fail(fmt::format("add address {}/{} to link {}", format_ipv4(address), prefix, index), err);
}

std::vector<RouteSocket::Address> RouteSocket::ipv4_addresses(int index) {
    nl_cache* raw = nullptr;
    if (const int err = rtnl_addr_alloc_cache(sock_, &raw); err < 0) fail("list addresses", err);
    Cache cache(raw);
    std::vector<Address> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        if (rtnl_addr_get_family(a) != AF_INET) continue;
        if (index != 0 && rtnl_addr_get_ifindex(a) != index) continue;
        out.push_back({rtnl_addr_get_ifindex(a), host_order(rtnl_addr_get_local(a)),
                       rtnl_addr_get_prefixlen(a)});
    }
    return out;
}

std::vector<Ipv4Subnet> RouteSocket::ipv4_route_destinations() {
    nl_cache* raw = nullptr;
    if (const int err = rtnl_route_alloc_cache(sock_, AF_INET, 0, &raw); err < 0)
        fail("list routes", err);
    Cache cache(raw);
    std::vector<Ipv4Subnet> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
        auto* r = reinterpret_cast<rtnl_route*>(o);
        if (rtnl_route_get_type(r) != RTN_UNICAST) continue;
        nl_addr* dst = rtnl_route_get_dst(r);
        if (!dst || nl_addr_get_prefixlen(dst) == 0) continue;
        out.push_back(
            Ipv4Subnet::of(host_order(dst), static_cast<int>(nl_addr_get_prefixlen(dst))));
    }
    return out;
}

void RouteSocket::add_ipv4_default_route(uint32_t gateway, int index) {
    Route r(check_alloc(rtnl_route_alloc(), "rtnl_route_alloc"));
    rtnl_route_set_family(r.get(), AF_INET);
    rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
    rtnl_route_set_scope(r.get(), RT_SCOPE_UNIVERSE);
    rtnl_route_set_type(r.get(), RTN_UNICAST);
    rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
    NlAddr dst = ipv4_nl_addr(0, 0);
    if (const int err = rtnl_route_set_dst(r.get(), dst.get()); err < 0)
        fail("rtnl_route_set_dst", err);
    rtnl_nexthop* nh = check_alloc(rtnl_route_nh_alloc(), "rtnl_route_nh_alloc");
    NlAddr via = ipv4_nl_addr(gateway, 32);
    rtnl_route_nh_set_gateway(nh, via.get());
    rtnl_route_nh_set_ifindex(nh, index);
    rtnl_route_add_nexthop(r.get(), nh);  // the route owns it now
    if (const int err = rtnl_route_add(sock_, r.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        fail(fmt::format("add default route via {}", format_ipv4(gateway)), err);
}

}  // namespace strata::sandbox
