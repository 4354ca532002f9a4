// A container's /etc/resolv.conf, made from the host's: which nameservers a
// container can reach depends on its network, and the rules for both private
// networks live here.
#pragma once

#include <filesystem>
#include <string>

namespace strata::sandbox {

// The host's resolv.conf rewritten for a PrivateNetwork (pasta, see
// PrivateNetwork::resolv_conf()): the first IPv4 loopback nameserver becomes
// `forward_address` (and is returned as forward_to, the resolver pasta must
// forward to; "" when there is none), other loopback nameservers are dropped.
// An empty `forward_address` (no IPv4 gateway) drops them all.
struct PrivateResolvConf {
    std::string content;
    std::string forward_to;
};
PrivateResolvConf private_resolv_conf(const std::string& host_resolv_conf,
                                      const std::string& forward_address);

// The host's resolv.conf for a container on the bridge, as Docker writes it
// for its default bridge network: loopback nameservers dropped (they are the
// container's own loopback there), IPv6 ones too (the bridge is IPv4 only);
// when no nameserver is left, Docker's fallback, Google's public resolvers
// 8.8.8.8 and 8.8.4.4. search/options lines are kept.
std::string bridge_resolv_conf(const std::string& host_resolv_conf);

// The host file a bridge container's resolv.conf is made from, as Docker
// picks it: `etc_resolv_conf`, unless its only nameserver is
// systemd-resolved's stub 127.0.0.53 and `resolved_upstream` exists (the
// upstream servers resolved uses), then that. Returns its content ("" when
// unreadable).
std::string host_resolv_conf_for_bridge(
    const std::filesystem::path& etc_resolv_conf = "/etc/resolv.conf",
    const std::filesystem::path& resolved_upstream = "/run/systemd/resolve/resolv.conf");

}  // namespace strata::sandbox
