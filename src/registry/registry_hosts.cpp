#include "registry/registry_hosts.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <system_error>

#include "base/error.hpp"

namespace strata::registry {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHubDomain = "docker.io";
constexpr std::string_view kHubRegistryHost = "registry-1.docker.io";

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

// Go's net.SplitHostPort for the forms a registry host takes: "[v6]:port",
// "name:port". nullopt when `s` has no port ("name", "::1", "[::1]").
struct HostPort {
    std::string host;
    std::string port;
};
std::optional<HostPort> split_host_port(std::string_view s) {
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return std::nullopt;
        return HostPort{std::string(s.substr(1, close - 1)), std::string(s.substr(close + 2))};
    }
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || s.find(':', colon + 1) != std::string_view::npos)
        return std::nullopt;
    return HostPort{std::string(s.substr(0, colon)), std::string(s.substr(colon + 1))};
}

// The host part of "host[:port]" without brackets.
std::string host_only(std::string_view hostport) {
    if (auto hp = split_host_port(hostport)) return hp->host;
    if (hostport.starts_with('[') && hostport.ends_with(']'))
        return std::string(hostport.substr(1, hostport.size() - 2));
    return std::string(hostport);
}

bool parse_ip(const std::string& text, unsigned char out[16], int& family) {
    if (::inet_pton(AF_INET, text.c_str(), out) == 1) {
        family = AF_INET;
        return true;
    }
    if (::inet_pton(AF_INET6, text.c_str(), out) == 1) {
        family = AF_INET6;
        return true;
    }
    return false;
}

// A DNS name as Docker's validateHostPort accepts it: dot-separated labels of
// letters, digits and inner hyphens (underscores allowed, as Go's regexp does).
bool valid_hostname(std::string_view h) {
    if (h.empty()) return false;
    size_t start = 0;
    while (start <= h.size()) {
        const auto dot = std::min(h.find('.', start), h.size());
        const auto label = h.substr(start, dot - start);
        if (label.empty()) return false;
        for (char c : label)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
        if (label.front() == '-' || label.back() == '-') return false;
        start = dot + 1;
        if (dot == h.size()) break;
    }
    return true;
}

// Empty when `s` is a valid host[:port], else what is wrong with it.
std::string host_port_problem(std::string_view s) {
    std::string host(s), port;
    if (auto hp = split_host_port(s)) {
        host = hp->host;
        port = hp->port;
        if (port.empty() || port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
            std::stoi(port) > 65535)
            return fmt::format("invalid port \"{}\"", port);
    }
    unsigned char addr[16];
    int family = 0;
    if (!valid_hostname(host) && !parse_ip(host, addr, family))
        return fmt::format("invalid host \"{}\"", host);
    return {};
}

std::vector<std::string> getaddrinfo_addresses(const std::string& host) {
    struct addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return {};
    std::unique_ptr<struct addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
    std::vector<std::string> out;
    for (auto* ai = res; ai; ai = ai->ai_next) {
        char buf[INET6_ADDRSTRLEN] = {};
        const void* src =
            ai->ai_family == AF_INET
                ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                : static_cast<const void*>(
                      &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        if (::inet_ntop(ai->ai_family, src, buf, sizeof buf)) out.emplace_back(buf);
    }
    return out;
}

bool cidr_contains(const unsigned char net[16], int bits, const unsigned char addr[16]) {
    for (int i = 0; i < bits / 8; ++i)
        if (net[i] != addr[i]) return false;
    if (bits % 8 == 0) return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - bits % 8));
    return (net[bits / 8] & mask) == (addr[bits / 8] & mask);
}

// A "registry-mirrors" entry as Docker's ValidateMirror takes it: http(s)
// URL, no user info, query or fragment; normalized to end in one '/'.
std::string validate_mirror(const std::string& val, const std::string& file) {
    const auto bad = [&](std::string_view why) {
        return Error(
            ErrorKind::kUsage,
            fmt::format("{}: invalid \"registry-mirrors\" entry \"{}\": {}", file, val, why));
    };
    std::string_view rest = val;
    if (starts_with_icase(rest, "https://"))
        rest.remove_prefix(8);
    else if (starts_with_icase(rest, "http://"))
        rest.remove_prefix(7);
    else
        throw bad("a mirror is an http:// or https:// URL");
    if (rest.find_first_of("?#") != std::string_view::npos)
        throw bad("a query or fragment is not allowed");
    const auto authority = rest.substr(0, rest.find('/'));
    if (authority.find('@') != std::string_view::npos)
        throw bad("a user name or password is not allowed in the URL");
    if (authority.empty()) throw bad("the URL has no host");
    if (auto problem = host_port_problem(authority); !problem.empty()) throw bad(problem);
    std::string out = val;
    while (out.ends_with('/'))
        out.pop_back();
    return out + "/";
}

}  // namespace

std::string canonical_domain(std::string_view domain) {
    if (domain == kHubDomain || domain == "index.docker.io") return std::string(kHubDomain);
    return std::string(domain);
}

TlsFiles read_certs_dir(const std::string& dir) {
    TlsFiles out;
    out.dir = dir;
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
        throw Error(ErrorKind::kSystem, fmt::format("read directory '{}': {}", dir, ec.message()));
    std::sort(names.begin(), names.end());
    const auto has = [&](const std::string& n) {
        return std::binary_search(names.begin(), names.end(), n);
    };
    for (const auto& name : names) {
        const std::string path = (fs::path(dir) / name).string();
        if (name.ends_with(".crt")) {
            out.ca_files.push_back(path);
        } else if (name.ends_with(".cert")) {
            const auto key = name.substr(0, name.size() - 5) + ".key";
            if (!has(key))
                throw Error(ErrorKind::kUsage,
                            fmt::format("{}: missing key {} for client certificate {}. CA "
                                        "certificates must use the extension .crt",
                                        dir, key, name));
            out.client_pairs.push_back({path, (fs::path(dir) / key).string()});
        } else if (name.ends_with(".key")) {
            const auto cert = name.substr(0, name.size() - 4) + ".cert";
            if (!has(cert))
                throw Error(
                    ErrorKind::kUsage,
                    fmt::format("{}: missing client certificate {} for key {}", dir, cert, name));
        }
    }
    return out;
}

RegistryHosts::RegistryHosts(HostsOptions options) : options_(std::move(options)) {
    if (!options_.resolve) options_.resolve = getaddrinfo_addresses;
    for (const auto& cidr : options_.default_insecure_cidrs)
        add_insecure(cidr, "default insecure CIDRs");

    const std::string& file = options_.daemon_json;
    std::ifstream in(file, std::ios::binary);
    if (!in && !file.empty()) {
        const int err = errno;
        if (err != ENOENT && err != ENOTDIR) throw system_error("open", file, err);
    }
    if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        if (text.find_first_not_of(" \t\r\n") != std::string::npos) {
            nlohmann::json doc;
            try {
                doc = nlohmann::json::parse(text);
            } catch (const nlohmann::json::parse_error& e) {
                throw Error(ErrorKind::kUsage,
                            fmt::format("{}: not valid JSON: {}; fix the file or move it away",
                                        file, e.what()));
            }
            if (!doc.is_object())
                throw Error(ErrorKind::kUsage,
                            fmt::format("{}: the file must hold a JSON object", file));
            const auto strings = [&](const char* key) {
                std::vector<std::string> out;
                auto it = doc.find(key);
                if (it == doc.end() || it->is_null()) return out;
                if (!it->is_array())
                    throw Error(ErrorKind::kUsage,
                                fmt::format("{}: \"{}\" must be a list of strings", file, key));
                for (const auto& v : *it) {
                    if (!v.is_string())
                        throw Error(ErrorKind::kUsage,
                                    fmt::format("{}: \"{}\" must be a list of strings, found {}",
                                                file, key, v.dump()));
                    out.push_back(v.get<std::string>());
                }
                return out;
            };
            for (const auto& entry : strings("insecure-registries"))
                add_insecure(entry, file + ": \"insecure-registries\"");
            for (const auto& m : strings("registry-mirrors")) {
                auto norm = validate_mirror(m, file);
                if (std::find(mirrors_.begin(), mirrors_.end(), norm) == mirrors_.end())
                    mirrors_.push_back(std::move(norm));
            }
        }
    }
    for (const auto& entry : options_.insecure_registries)
        add_insecure(entry, "--insecure-registry");
}

// Docker's loadInsecureRegistries: an http:// or https:// prefix is dropped
// (with a warning), another scheme is refused, a CIDR goes to the CIDR list,
// anything else must be host[:port].
void RegistryHosts::add_insecure(const std::string& entry, const std::string& source) {
    const auto bad = [&](std::string_view why) {
        return Error(ErrorKind::kUsage, fmt::format("{}: insecure registry \"{}\" is not valid: {}",
                                                    source, entry, why));
    };
    std::string r = entry;
    if (r.starts_with('-') || r.ends_with('-')) throw bad("it cannot begin or end with a hyphen");
    if (starts_with_icase(r, "http://") || starts_with_icase(r, "https://")) {
        const auto scheme_len = starts_with_icase(r, "http://") ? 7 : 8;
        warnings_.push_back(
            fmt::format("insecure registry {} should not contain '{}' and it has been removed",
                        entry, r.substr(0, scheme_len)));
        r = r.substr(scheme_len);
    } else if (r.find("://") != std::string::npos) {
        throw bad("it should not contain '://'");
    }
    if (r.empty()) throw bad("it names no host");
    if (const auto slash = r.find('/'); slash != std::string::npos) {
        // A CIDR: address/prefix-length.
        Cidr c{};
        const std::string addr = r.substr(0, slash), bits = r.substr(slash + 1);
        if (parse_ip(addr, c.addr, c.family) && !bits.empty() && bits.size() <= 3 &&
            std::all_of(bits.begin(), bits.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
            c.bits = std::stoi(bits);
            if (c.bits <= (c.family == AF_INET ? 32 : 128)) {
                insecure_cidrs_.push_back(c);
                return;
            }
        }
        throw bad("it is neither a CIDR (10.0.0.0/8) nor a host[:port]");
    }
    if (auto problem = host_port_problem(r); !problem.empty()) throw bad(problem);
    if (std::find(insecure_hosts_.begin(), insecure_hosts_.end(), r) == insecure_hosts_.end())
        insecure_hosts_.push_back(r);
}

// Docker's isSecureIndex: a host listed by name is insecure; docker.io is
// secure; otherwise insecure when an address of the host (without its port)
// lies in an insecure CIDR.
bool RegistryHosts::is_secure(std::string_view host) const {
    if (canonical_domain(host) == kHubDomain) return true;
    if (std::find(insecure_hosts_.begin(), insecure_hosts_.end(), host) != insecure_hosts_.end())
        return false;
    if (insecure_cidrs_.empty()) return true;
    const std::string name = host_only(host);
    std::vector<std::string> addrs = options_.resolve(name);
    if (addrs.empty()) addrs.push_back(name);  // an IP literal, or a name that does not resolve
    for (const auto& a : addrs) {
        unsigned char addr[16];
        int family = 0;
        if (!parse_ip(a, addr, family)) continue;
        for (const auto& c : insecure_cidrs_)
            if (c.family == family && cidr_contains(c.addr, c.bits, addr)) return false;
    }
    return true;
}

TlsFiles RegistryHosts::tls_files(const std::string& host) const {
    if (options_.certs_d.empty()) return {};
    return read_certs_dir((fs::path(options_.certs_d) / host).string());
}

// Docker's lookupV2Endpoints for the registry itself: Docker Hub with the
// system CAs only; another host with its certs.d directory when secure, or
// HTTPS without verification and then plain HTTP when insecure.
Endpoint RegistryHosts::registry_endpoint(std::string_view domain) const {
    Endpoint e;
    e.domain = canonical_domain(domain);
    if (e.domain == kHubDomain) {
        e.host = std::string(kHubRegistryHost);
        return e;
    }
    e.host = e.domain;
    if (is_secure(e.host)) {
        e.tls = tls_files(e.host);
    } else {
        e.skip_tls_verify = true;
        e.http_fallback = true;
    }
    return e;
}

std::vector<Endpoint> RegistryHosts::pull_endpoints(std::string_view domain) const {
    std::vector<Endpoint> out;
    if (canonical_domain(domain) == kHubDomain) {
        for (const auto& m : mirrors_) {
            Endpoint e;
            e.domain = std::string(kHubDomain);
            e.mirror = true;
            std::string_view rest = m;
            e.plain_http = starts_with_icase(rest, "http://");
            rest.remove_prefix(e.plain_http ? 7 : 8);
            const auto slash = rest.find('/');
            e.host = std::string(rest.substr(0, slash));
            std::string prefix(rest.substr(slash));
            while (prefix.ends_with('/'))
                prefix.pop_back();
            e.path_prefix = prefix;
            // A mirror's scheme is its URL's; an https:// mirror is verified
            // with its certs.d directory unless its host is insecure.
            if (!e.plain_http) {
                if (is_secure(e.host))
                    e.tls = tls_files(e.host);
                else
                    e.skip_tls_verify = true;
            }
            out.push_back(std::move(e));
        }
    }
    out.push_back(registry_endpoint(domain));
    return out;
}

Endpoint RegistryHosts::push_endpoint(std::string_view domain) const {
    return registry_endpoint(domain);
}

}  // namespace strata::registry
