#include "sandbox/ipv4.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <charconv>

namespace strata::sandbox {

std::optional<uint32_t> parse_ipv4(const std::string& text) {
    in_addr a{};
    if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

std::string format_ipv4(uint32_t address) {
    return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff,
                       address & 0xff);
}

std::optional<Ipv4Subnet> Ipv4Subnet::parse(const std::string& cidr) {
    const auto slash = cidr.find('/');
    if (slash == std::string::npos) return std::nullopt;
    const auto address = parse_ipv4(cidr.substr(0, slash));
    int prefix = -1;
    const char* first = cidr.data() + slash + 1;
    const char* last = cidr.data() + cidr.size();
    const auto [end, ec] = std::from_chars(first, last, prefix);
    if (!address || ec != std::errc() || end != last || first == last || prefix < 0 || prefix > 32)
        return std::nullopt;
    const Ipv4Subnet subnet = of(*address, prefix);
    if (subnet.network != *address) return std::nullopt;
    return subnet;
}

Ipv4Subnet Ipv4Subnet::of(uint32_t address, int prefix) {
    Ipv4Subnet s;
    s.prefix = prefix;
    s.network = address & s.mask();
    return s;
}

std::string Ipv4Subnet::to_string() const {
    return fmt::format("{}/{}", format_ipv4(network), prefix);
}

}  // namespace strata::sandbox
