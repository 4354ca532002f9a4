#include "sandbox/resolv_conf.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace strata::sandbox {

namespace {

bool is_ipv4(const std::string& address) {
    in_addr a{};
    return ::inet_pton(AF_INET, address.c_str(), &a) == 1;
}

bool is_ipv4_loopback(const std::string& address) {
    in_addr a{};
    return ::inet_pton(AF_INET, address.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool is_ipv6_loopback(const std::string& address) {
    in6_addr a{};
    return ::inet_pton(AF_INET6, address.c_str(), &a) == 1 && IN6_IS_ADDR_LOOPBACK(&a);
}

// One line of resolv.conf: a nameserver (with its address), or another
// keyword's line kept as it is. Comments and blank lines are dropped.
struct ResolvLine {
    bool nameserver = false;
    std::string address;
    std::string text;
};

std::vector<ResolvLine> parse(const std::string& resolv_conf) {
    std::vector<ResolvLine> out;
    std::stringstream in(resolv_conf);
    for (std::string line; std::getline(in, line);) {
        std::stringstream words(line);
        std::string keyword, address;
        words >> keyword >> address;
        if (keyword == "nameserver")
            out.push_back({true, address, line});
        else if (!keyword.empty() && keyword[0] != '#' && keyword[0] != ';')
            out.push_back({false, "", line});
    }
    return out;
}

std::string read_file_or_empty(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

PrivateResolvConf private_resolv_conf(const std::string& host_resolv_conf,
                                      const std::string& forward_address) {
    PrivateResolvConf out;
    bool any_nameserver = false;
    for (const ResolvLine& l : parse(host_resolv_conf)) {
        if (!l.nameserver) {
            out.content += l.text + "\n";
            continue;
        }
        any_nameserver = true;
        if (is_ipv4_loopback(l.address)) {
            // pasta forwards one address (to its first resolver): the first
            // loopback resolver it is.
            if (out.forward_to.empty() && !forward_address.empty()) {
                out.forward_to = l.address;
                out.content += fmt::format("nameserver {}\n", forward_address);
            }
        } else if (!is_ipv6_loopback(l.address) && !l.address.empty()) {
            out.content += fmt::format("nameserver {}\n", l.address);
        }
    }
    // No nameserver line: the resolver asks the local host (resolv.conf(5)).
    if (!any_nameserver && !forward_address.empty()) {
        out.forward_to = "127.0.0.1";
        out.content += fmt::format("nameserver {}\n", forward_address);
    }
    return out;
}

std::string bridge_resolv_conf(const std::string& host_resolv_conf) {
    std::string content;
    bool any_nameserver = false;
    for (const ResolvLine& l : parse(host_resolv_conf)) {
        if (!l.nameserver) {
            content += l.text + "\n";
        } else if (is_ipv4(l.address) && !is_ipv4_loopback(l.address)) {
            content += fmt::format("nameserver {}\n", l.address);
            any_nameserver = true;
        }
    }
    if (!any_nameserver) content += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    return content;
}

std::string host_resolv_conf_for_bridge(const std::filesystem::path& etc_resolv_conf,
                                        const std::filesystem::path& resolved_upstream) {
    std::string host = read_file_or_empty(etc_resolv_conf);
    std::vector<std::string> nameservers;
    for (const ResolvLine& l : parse(host))
        if (l.nameserver) nameservers.push_back(l.address);
    if (nameservers == std::vector<std::string>{"127.0.0.53"}) {
        std::string upstream = read_file_or_empty(resolved_upstream);
        if (!upstream.empty()) return upstream;
    }
    return host;
}

}  // namespace strata::sandbox
