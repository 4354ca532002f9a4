#include "sandbox/bridge_host.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/find_program.hpp"
#include "base/lock_file.hpp"
#include "base/sigpipe_block.hpp"
#include "base/unique_fd.hpp"
#include "sandbox/address_lease.hpp"
#include "sandbox/nft_generation.hpp"

extern char** environ;

namespace strata::sandbox {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";

fs::path find_nft(const BridgeConfig& config) {
    if (!config.nft.empty()) {
        if (::access(config.nft.c_str(), X_OK) == 0) return config.nft;
        throw Error(ErrorKind::kNotFound, fmt::format("nft '{}' is not an executable: {}",
                                                      config.nft.string(), std::strerror(errno)));
    }
    if (auto nft = find_program("nft")) return *nft;
    throw Error(ErrorKind::kNotFound,
                "nft not found on $PATH nor in /usr/sbin (the bridge network's NAT needs it): "
                "install Debian's nftables package");
}

struct Ran {
    int status = -1;     // the exit code; -1 when killed by a signal
    std::string output;  // stdout and stderr
};

// Runs `argv` with `input` on its stdin (small: it fits the pipe) and
// collects its output.
Ran run_tool(const std::vector<std::string>& argv, const std::string& input) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) throw system_error("pipe2", argv.front());
    UniqueFd in_read(in[0]), in_write(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) throw system_error("pipe2", argv.front());
    UniqueFd out_read(out[0]), out_write(out[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 2);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int err = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) throw system_error("posix_spawn", argv.front(), err);
    in_read.reset();
    out_write.reset();
    {
        SigpipeBlock sigpipe;  // an early exit is EPIPE here, never our death
        for (size_t done = 0; done < input.size();) {
            const ssize_t w = ::write(in_write.get(), input.data() + done, input.size() - done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno == EPIPE) sigpipe.saw_epipe();
            if (w <= 0) break;  // it exited early: its status tells
            done += static_cast<size_t>(w);
        }
    }
    in_write.reset();
    Ran ran;
    char buf[4096];
    for (;;) {
        const ssize_t r = ::read(out_read.get(), buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        ran.output.append(buf, static_cast<size_t>(r));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return ran;
}

void enable_ip_forward() {
    std::ifstream in(kIpForward);
    std::string value;
    in >> value;
    if (value == "1") return;
    UniqueFd fd(::open(kIpForward, O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), "1\n", 2) != 2)
        throw system_error("enable forwarding", kIpForward);
}

void set_up_nat(const BridgeConfig& config, const Ipv4Subnet& subnet) {
    const fs::path nft = find_nft(config);
    const std::string script = bridge_nft_script(config.nft_table, config.name, subnet);
    const Ran ran = run_tool({nft.string(), "-f", "-"}, script);
    if (ran.status != 0)
        throw Error(ErrorKind::kSystem,
                    fmt::format("nft -f - (the bridge's NAT rules) failed: {}\nthe script:\n{}",
                                ran.output, script));
}

// iptables' FORWARD chain, when something uses it (Docker sets its policy
// to drop; netavark jumps to its own chain from it): the bridge's two
// accepts go in there too, through iptables itself — iptables-nft refuses
// a table holding rules it did not write ("incompatible"), which would
// break Docker and Podman.
void accept_in_iptables_forward(const std::string& bridge) {
    const auto found = find_program("iptables");
    if (!found) return;  // no iptables: nobody's FORWARD policy to pass
    const fs::path& iptables = *found;
    const Ran chain = run_tool({iptables.string(), "-w", "-S", "FORWARD"}, "");
    if (chain.status != 0 || chain.output == "-P FORWARD ACCEPT\n") return;  // unused
    for (const auto& rule : iptables_forward_rules(bridge)) {
        std::vector<std::string> check = {iptables.string(), "-w", "-C", "FORWARD"};
        check.insert(check.end(), rule.begin(), rule.end());
        if (run_tool(check, "").status == 0) continue;  // there from an earlier bridge
        std::vector<std::string> insert = {iptables.string(), "-w", "-I", "FORWARD"};
        insert.insert(insert.end(), rule.begin(), rule.end());
        if (const Ran ran = run_tool(insert, ""); ran.status != 0)
            throw Error(ErrorKind::kSystem,
                        fmt::format("iptables -I FORWARD (the bridge's accept rules) failed: {}",
                                    ran.output));
    }
}

// The ruleset generation the rules were last put in place at, in the
// bridge's state directory (a tmpfs: gone at reboot, as the rules are).
fs::path generation_file(const BridgeConfig& config) {
    return config.state_dir / "rules.generation";
}

// Whether nothing in the firewall changed since the bridge's rules were put
// in place: a flush or reload of the ruleset (nftables.service, firewalld)
// or a daemon that set iptables' FORWARD policy to drop after the bridge was
// made would cut its containers off, as it would Docker's until dockerd
// restarts. One netlink request per run; nft and iptables run only when the
// generation moved. Unknown (no answer from the kernel) counts as unchanged.
bool rules_current(const BridgeConfig& config) {
    const auto now = nftables_generation();
    if (!now) return true;
    std::ifstream in(generation_file(config));
    uint32_t then = 0;
    return static_cast<bool>(in >> then) && then == *now;
}

// Steps 3 and 4, which are idempotent, then the generation they left.
void put_rules_in_place(const BridgeConfig& config, const Ipv4Subnet& subnet) {
    enable_ip_forward();
    set_up_nat(config, subnet);
    accept_in_iptables_forward(config.name);
    // Read after the changes made here (they move it too); a change by
    // someone else between them and this read goes unnoticed until the next.
    if (const auto now = nftables_generation())
        write_file_atomic_unsynced(generation_file(config), std::to_string(*now) + "\n", 0600);
}

std::optional<BridgeHost> complete_bridge(RouteSocket& host, const BridgeConfig& config) {
    const auto link = host.link(config.name);
    if (!link || !link->up || link->kind != "bridge") return std::nullopt;
    const auto addresses = host.ipv4_addresses(link->index);
    if (addresses.empty()) return std::nullopt;
    BridgeHost b;
    b.index = link->index;
    b.gateway = addresses.front().address;
    b.subnet = Ipv4Subnet::of(b.gateway, addresses.front().prefix);
    if (config.subnet && *config.subnet != b.subnet)
        throw Error(ErrorKind::kConflict,
                    fmt::format("the bridge {} exists with the subnet {}, and "
                                "STRATA_BRIDGE_SUBNET asks for {}: remove the bridge (ip link del "
                                "{}) for strata to make it anew, or unset STRATA_BRIDGE_SUBNET",
                                config.name, b.subnet.to_string(), config.subnet->to_string(),
                                config.name));
    return b;
}

Ipv4Subnet choose_subnet(RouteSocket& host, const BridgeConfig& config) {
    std::vector<Ipv4Subnet> in_use = host.ipv4_route_destinations();
    for (const auto& a : host.ipv4_addresses())
        in_use.push_back(Ipv4Subnet::of(a.address, a.prefix));
    if (config.subnet) {
        if (config.subnet->prefix > 30)
            throw Error(ErrorKind::kUsage,
                        fmt::format("the bridge subnet {} is too small: give a prefix of /30 or "
                                    "shorter",
                                    config.subnet->to_string()));
        if (!first_free_subnet({*config.subnet}, in_use))
            throw Error(ErrorKind::kConflict,
                        fmt::format("the bridge subnet {} (STRATA_BRIDGE_SUBNET) overlaps a "
                                    "route or an address of the host: choose another",
                                    config.subnet->to_string()));
        return *config.subnet;
    }
    if (auto free = first_free_subnet(default_bridge_subnets(), in_use)) return *free;
    throw Error(ErrorKind::kConflict,
                "every candidate subnet of the bridge (10.89.0.0/16 ... 10.99.0.0/16) overlaps a "
                "route or an address of the host: set STRATA_BRIDGE_SUBNET to a free one");
}

}  // namespace

BridgeConfig BridgeConfig::from_environment() {
    BridgeConfig config;
    if (const char* subnet = std::getenv("STRATA_BRIDGE_SUBNET"); subnet && *subnet) {
        config.subnet = Ipv4Subnet::parse(subnet);
        if (!config.subnet)
            throw Error(ErrorKind::kUsage,
                        fmt::format("STRATA_BRIDGE_SUBNET '{}' is not an IPv4 subnet such as "
                                    "10.123.0.0/16 (host bits zero)",
                                    subnet));
    }
    return config;
}

std::vector<Ipv4Subnet> default_bridge_subnets() {
    std::vector<Ipv4Subnet> out;
    for (uint32_t second = 89; second <= 99; ++second)
        out.push_back(Ipv4Subnet{(10u << 24) | (second << 16), 16});
    return out;
}

std::optional<Ipv4Subnet> first_free_subnet(const std::vector<Ipv4Subnet>& candidates,
                                            const std::vector<Ipv4Subnet>& in_use) {
    for (const auto& c : candidates) {
        bool taken = false;
        for (const auto& u : in_use)
            if (u.prefix > 0 && c.overlaps(u)) taken = true;
        if (!taken) return c;
    }
    return std::nullopt;
}

std::string bridge_nft_script(const std::string& table, const std::string& bridge,
                              const Ipv4Subnet& subnet) {
    // "table {}" then "delete table": the table is replaced whole, in the one
    // transaction nft -f makes, whether it existed or not.
    return fmt::format(
        "table ip {table} {{}}\n"
        "delete table ip {table}\n"
        "table ip {table} {{\n"
        "  chain postrouting {{\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    ip saddr {subnet} oifname != \"{bridge}\" masquerade\n"
        "  }}\n"
        "  chain forward {{\n"
        "    type filter hook forward priority filter; policy accept;\n"
        "    iifname \"{bridge}\" accept\n"
        "    oifname \"{bridge}\" ct state established,related accept\n"
        "    oifname \"{bridge}\" drop\n"
        "  }}\n"
        "}}\n",
        fmt::arg("table", table), fmt::arg("subnet", subnet.to_string()),
        fmt::arg("bridge", bridge));
}

std::vector<std::vector<std::string>> iptables_forward_rules(const std::string& bridge) {
    return {{"-i", bridge, "-j", "ACCEPT"},
            {"-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"}};
}

BridgeHost ensure_bridge(RouteSocket& host, const BridgeConfig& config) {
    if (auto done = complete_bridge(host, config); done && rules_current(config)) return *done;

    make_private_dirs(config.state_dir);
    const LockFile lock = LockFile::exclusive(config.state_dir / "bridge.lock");
    if (auto done = complete_bridge(host, config)) {
        // Made meanwhile, or made before and the firewall changed since.
        if (!rules_current(config)) put_rules_in_place(config, done->subnet);
        return *done;
    }

    // Missing, or left half made by a strata that died midway: made again
    // from where it is.
    auto link = host.link(config.name);
    if (link && link->kind != "bridge")
        throw Error(ErrorKind::kConflict,
                    fmt::format("a network interface named {} exists and is not a bridge: "
                                "remove it (ip link del {})",
                                config.name, config.name));
    const bool created = !link;
    if (created) {
        host.add_bridge(config.name);
        link = host.link(config.name);
        if (!link)
            throw Error(ErrorKind::kSystem,
                        fmt::format("the bridge {} vanished after it was made", config.name));
    }
    try {
        const auto existing = host.ipv4_addresses(link->index);
        const Ipv4Subnet subnet =
            existing.empty() ? choose_subnet(host, config)
                             : Ipv4Subnet::of(existing.front().address, existing.front().prefix);
        put_rules_in_place(config, subnet);
        host.add_ipv4_address(link->index, subnet.gateway(), subnet.prefix);
        host.set_up(link->index);
    } catch (...) {
        // A bridge made here that cannot be completed goes again; nothing
        // else needs undoing (the nft script is one transaction, ip_forward
        // stays as Docker leaves it).
        if (created) {
            try {
                host.delete_link(config.name);
            } catch (const Error&) {
            }
        }
        throw;
    }
    if (auto done = complete_bridge(host, config)) return *done;
    throw Error(
        ErrorKind::kSystem,
        fmt::format("the bridge {} is not up with an address after being set up", config.name));
}

}  // namespace strata::sandbox
