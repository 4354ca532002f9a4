#include "containers/run_options.hpp"

#include "base/go/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "base/signal_names.hpp"
#include "containers/mount_options.hpp"
#include "sandbox/capabilities.hpp"

namespace strata::containers {

namespace {

// Docker's default PATH for a Linux container (oci.DefaultPathEnv).
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_key(std::string_view kv) {
    return std::string(kv.substr(0, kv.find('=')));
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& ch : out)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// A bare `K` of -e: K=value from strata's environment, or K alone (which
// then removes K, replace_or_append_env).
std::string resolve_env(const std::string& item, const EnvLookup& lookup) {
    if (item.find('=') != std::string::npos) return item;
    if (auto v = lookup(item)) return item + "=" + *v;
    return item;
}

// --security-opt, as docker/cli's parseSecurityOpts and the daemon read them.
void apply_security_opt(const std::string& opt, ContainerSpec& spec) {
    std::string key = opt, value;
    bool has_value = false;
    if (auto eq = opt.find('='); eq != std::string::npos) {
        key = opt.substr(0, eq);
        value = opt.substr(eq + 1);
        has_value = true;
    } else if (opt != "no-new-privileges") {
        if (auto colon = opt.find(':'); colon != std::string::npos) {
            key = opt.substr(0, colon);
            value = opt.substr(colon + 1);
            has_value = true;
        }
    }
    if ((!has_value || value.empty()) && key != "no-new-privileges")
        throw Error(ErrorKind::kUsage, fmt::format("Invalid --security-opt: \"{}\"", opt));
    if (key == "no-new-privileges") {
        if (!has_value || value == "true" || value == "1") {
            spec.no_new_privileges = true;
        } else if (value == "false" || value == "0") {
            spec.no_new_privileges = false;
        } else {
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid --security-opt 2: \"{}\": invalid value for "
                                    "no-new-privileges: {}",
                                    opt, value));
        }
    } else if (key == "seccomp") {
        if (value == "unconfined") {
            spec.seccomp = "unconfined";
        } else if (value == "builtin" || value == "default") {
            spec.seccomp.clear();
        } else {
            std::ifstream in(value, std::ios::binary);
            if (!in)
                throw Error(ErrorKind::kUsage,
                            fmt::format("opening seccomp profile ({}) failed: {}", value,
                                        std::strerror(errno)));
            std::stringstream text;
            text << in.rdbuf();
            spec.seccomp = text.str();
            if (spec.seccomp.empty() || spec.seccomp == "unconfined")
                throw Error(ErrorKind::kUsage,
                            fmt::format("compacting json for seccomp profile ({}) failed: "
                                        "unexpected end of JSON input",
                                        value));
        }
    } else if (key == "apparmor" || key == "label") {
        // No LSM profiles here: accepted and without effect (as Docker on a
        // host without AppArmor or SELinux).
    } else {
        throw Error(ErrorKind::kUsage, fmt::format("invalid --security-opt 2: \"{}\"", opt));
    }
}

uint16_t parse_port(std::string_view s, const char* what) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > 65535)
        throw Error(ErrorKind::kUsage, fmt::format("invalid {}: {}", what, s));
    return static_cast<uint16_t>(v);
}

// "80" or "8000-8010".
std::pair<uint16_t, uint16_t> parse_range(std::string_view s, const char* what) {
    const auto dash = s.find('-');
    if (dash == std::string_view::npos) {
        const uint16_t p = parse_port(s, what);
        return {p, p};
    }
    const uint16_t a = parse_port(s.substr(0, dash), what),
                   b = parse_port(s.substr(dash + 1), what);
    if (b < a) throw Error(ErrorKind::kUsage, fmt::format("invalid {}: {}", what, s));
    return {a, b};
}

}  // namespace

EnvLookup process_env_lookup() {
    return [](const std::string& name) -> std::optional<std::string> {
        if (const char* v = std::getenv(name.c_str())) return std::string(v);
        return std::nullopt;
    };
}

void replace_or_append_env(std::vector<std::string>& env, const std::vector<std::string>& with) {
    for (const auto& kv : with) {
        const std::string key = env_key(kv);
        const bool unset = kv.find('=') == std::string::npos;
        auto it = std::find_if(env.begin(), env.end(),
                               [&](const std::string& e) { return env_key(e) == key; });
        if (unset) {
            if (it != env.end()) env.erase(it);
        } else if (it != env.end()) {
            *it = kv;
        } else {
            env.push_back(kv);
        }
    }
}

std::vector<std::string> read_env_file(const std::string& path, const EnvLookup& lookup) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::kUsage, fmt::format("open {}: {}", path, std::strerror(errno)));
    std::vector<std::string> out;
    bool first = true;
    for (std::string line; std::getline(in, line);) {
        if (first && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 BOM
        first = false;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') continue;
        const std::string trimmed = line.substr(start);
        const auto eq = trimmed.find('=');
        const std::string name = trimmed.substr(0, eq);
        if (name.empty())
            throw Error(ErrorKind::kUsage, fmt::format("no variable name on line '{}'", line));
        if (name.find_first_of(" \t") != std::string::npos)
            throw Error(ErrorKind::kUsage, fmt::format("variable '{}' contains whitespaces", name));
        if (eq != std::string::npos) {
            out.push_back(trimmed);
        } else if (auto v = lookup(name)) {
            out.push_back(name + "=" + *v);
        }
    }
    return out;
}

std::string normalize_capability(std::string_view name) {
    std::string n = upper(name);
    if (n == "ALL") return n;
    if (n.rfind("CAP_", 0) != 0) n = "CAP_" + n;
    if (!sandbox::capability_number(n))
        throw Error(ErrorKind::kUsage, fmt::format("unknown capability: \"{}\"", n));
    return n;
}

std::vector<std::string> effective_capabilities(const ContainerSpec& spec) {
    const auto& all = sandbox::all_capability_names();
    if (spec.privileged) return all;
    std::vector<std::string> adds, drops;
    for (const auto& c : spec.cap_add)
        adds.push_back(normalize_capability(c));
    for (const auto& c : spec.cap_drop)
        drops.push_back(normalize_capability(c));
    std::vector<std::string> caps;
    if (contains(adds, "ALL")) {
        for (const auto& c : all)
            if (!contains(drops, c)) caps.push_back(c);
    } else if (contains(drops, "ALL")) {
        caps = adds;
    } else {
        for (const auto& c : sandbox::default_capabilities())
            if (!contains(drops, c)) caps.push_back(c);
        for (const auto& c : adds)
            if (!contains(caps, c)) caps.push_back(c);
    }
    return caps;
}

PortMapping parse_publish(std::string_view text) {
    PortMapping m;
    std::string_view rest = text;
    if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
        m.protocol = std::string(rest.substr(slash + 1));
        rest = rest.substr(0, slash);
        if (m.protocol != "tcp" && m.protocol != "udp")
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid proto: {} (strata forwards tcp and udp)", m.protocol));
    }
    // [IP:][HOST:]CTR; an IPv6 address is written in brackets.
    std::string_view ip, host, ctr;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find("]:");
        if (close == std::string_view::npos)
            throw Error(ErrorKind::kUsage, fmt::format("invalid publish: {}", text));
        ip = rest.substr(1, close - 1);
        rest = rest.substr(close + 2);
        const auto colon = rest.find(':');
        if (colon == std::string_view::npos)
            throw Error(ErrorKind::kUsage, fmt::format("invalid publish: {}", text));
        host = rest.substr(0, colon);
        ctr = rest.substr(colon + 1);
    } else {
        std::vector<std::string_view> parts;
        for (size_t start = 0;;) {
            const auto colon = rest.find(':', start);
            parts.push_back(
                rest.substr(start, colon == std::string_view::npos ? rest.npos : colon - start));
            if (colon == std::string_view::npos) break;
            start = colon + 1;
        }
        if (parts.size() == 1) {
            ctr = parts[0];
        } else if (parts.size() == 2) {
            host = parts[0];
            ctr = parts[1];
        } else if (parts.size() == 3) {
            ip = parts[0];
            host = parts[1];
            ctr = parts[2];
        } else {
            throw Error(ErrorKind::kUsage, fmt::format("invalid publish: {}", text));
        }
    }
    m.host_ip = std::string(ip);
    if (ctr.empty())
        throw Error(ErrorKind::kUsage, fmt::format("no port specified: {}<empty>", text));
    std::tie(m.container_port, m.container_end) = parse_range(ctr, "containerPort");
    if (!host.empty()) {
        std::tie(m.host_port, m.host_end) = parse_range(host, "hostPort");
        if (m.host_end - m.host_port != m.container_end - m.container_port &&
            m.host_port != m.host_end)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid ranges specified for container and host Ports: {} "
                                    "and {}",
                                    ctr, host));
        if (m.host_port == m.host_end)
            m.host_end = static_cast<uint16_t>(m.host_port + (m.container_end - m.container_port));
    }
    return m;
}

std::string format_publish(const PortMapping& m) {
    const auto range = [](uint16_t from, uint16_t to) {
        return to > from ? fmt::format("{}-{}", from, to) : std::to_string(from);
    };
    std::string out;
    if (!m.host_ip.empty())
        out = (m.host_ip.find(':') != std::string::npos ? "[" + m.host_ip + "]" : m.host_ip) + ":";
    if (m.host_port != 0)
        out += range(m.host_port, m.host_end) + ":";
    else if (!out.empty())
        out += ":";
    return out + range(m.container_port, m.container_end) + "/" + m.protocol;
}

std::vector<PortBinding> port_bindings(const PortMapping& m) {
    std::vector<PortBinding> out;
    for (uint32_t p = m.container_port; p <= m.container_end; ++p) {
        PortBinding b;
        b.container_port = fmt::format("{}/{}", p, m.protocol);
        b.host_ip = m.host_ip;
        if (m.host_port != 0)
            b.host_port = static_cast<uint16_t>(m.host_port + (p - m.container_port));
        out.push_back(std::move(b));
    }
    return out;
}

const std::vector<std::string>& running_ports(const Container& c) {
    return c.state.ports.empty() ? c.spec.publish : c.state.ports;
}

std::vector<std::string> pasta_port_args(const PortMapping& m) {
    const std::string addr = m.host_ip.empty() ? "" : m.host_ip + "/";
    return {m.protocol == "udp" ? "-u" : "-t",
            fmt::format("{}{}-{}:{}-{}", addr, m.host_port, m.host_end, m.container_port,
                        m.container_end)};
}

std::vector<std::string> process_env(const ContainerSpec& spec) {
    std::vector<std::string> env = {std::string("PATH=") + kDefaultPath,
                                    "HOSTNAME=" + spec.hostname};
    if (spec.tty) env.push_back("TERM=xterm");
    replace_or_append_env(env, spec.config.env);
    return env;
}

ContainerSpec make_container_spec(const RunFlags& f, const store::ImageConfig& image,
                                  const EnvLookup& lookup) {
    ContainerSpec s;
    s.config = image.config;
    store::ContainerConfig& c = s.config;

    if (f.entrypoint) {
        // docker/cli: --entrypoint "" resets it; any --entrypoint clears
        // the image's Cmd.
        if (f.entrypoint->empty())
            c.entrypoint = std::vector<std::string>{};
        else
            c.entrypoint = std::vector<std::string>{*f.entrypoint};
        c.cmd.reset();
    }
    if (!f.command.empty()) c.cmd = f.command;

    std::vector<std::string> env;
    for (const auto& file : f.env_files)
        for (auto& kv : read_env_file(file, lookup))
            env.push_back(std::move(kv));
    for (const auto& item : f.env)
        env.push_back(resolve_env(item, lookup));
    for (const auto& kv : env)
        if (env_key(kv).empty())
            throw Error(ErrorKind::kUsage, fmt::format("invalid environment variable: {}", kv));
    replace_or_append_env(c.env, env);
    for (const std::string& l : f.labels) {
        const size_t eq = l.find('=');
        if (l.empty() || eq == 0)
            throw Error(ErrorKind::kUsage, fmt::format("invalid label '{}': empty name", l));
        c.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }

    if (f.workdir) {
        if (!f.workdir->empty() && f.workdir->front() != '/')
            throw Error(ErrorKind::kUsage,
                        fmt::format("the working directory '{}' is invalid, it needs to be an "
                                    "absolute path",
                                    *f.workdir));
        c.working_dir = *f.workdir;
    }
    if (f.user) c.user = *f.user;
    if (!f.stop_signal.empty()) {
        if (!signal_number(f.stop_signal))
            throw Error(ErrorKind::kUsage, fmt::format("Invalid signal: {}", f.stop_signal));
        c.stop_signal = f.stop_signal;
    }

    if (c.entrypoint) s.argv = *c.entrypoint;
    if (c.cmd) s.argv.insert(s.argv.end(), c.cmd->begin(), c.cmd->end());
    if (s.argv.empty()) throw Error(ErrorKind::kUsage, "No command specified");

    s.hostname = f.hostname;
    s.tty = f.tty;
    s.interactive = f.interactive;
    s.read_only = f.read_only;
    s.privileged = f.privileged;
    s.auto_remove = f.auto_remove;

    if (f.network == "default" || f.network == "bridge" || f.network.empty())
        s.network = "default";
    else if (f.network == "host" || f.network == "none")
        s.network = f.network;
    else
        throw Error(ErrorKind::kUsage,
                    fmt::format("network {} not found (strata has the networks default, host "
                                "and none)",
                                f.network));
    if (!f.publish.empty() && s.network == "host")
        throw Error(ErrorKind::kUsage,
                    "-p/--publish is not needed with --network host: the container uses the "
                    "host's network, so a port it listens on is already the host's port");
    if (!f.publish.empty() && s.network == "none")
        throw Error(ErrorKind::kUsage,
                    "-p/--publish cannot be used with --network none: the container has no "
                    "network to forward to");
    for (const auto& p : f.publish) {
        const PortMapping m = parse_publish(p);
        for (uint32_t port = m.container_port; port <= m.container_end; ++port)
            c.exposed_ports.insert(fmt::format("{}/{}", port, m.protocol));
        s.publish.push_back(p);
    }

    for (const auto& cap : f.cap_add)
        s.cap_add.push_back(normalize_capability(cap));
    for (const auto& cap : f.cap_drop)
        s.cap_drop.push_back(normalize_capability(cap));
    for (const auto& opt : f.security_opt)
        apply_security_opt(opt, s);

    if (!f.memory.empty()) {
        const auto bytes = go::units::ram_in_bytes(f.memory);
        if (!bytes)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid argument \"{}\" for \"-m, --memory\" flag: invalid "
                                    "size: '{}'",
                                    f.memory, f.memory));
        if (*bytes > 0 && *bytes < 6 * 1024 * 1024)
            throw Error(ErrorKind::kUsage, "Minimum memory limit allowed is 6MB");
        if (*bytes > 0) s.memory_bytes = *bytes;
    }
    if (f.cpus) {
        if (*f.cpus < 0) throw Error(ErrorKind::kUsage, "invalid argument for --cpus: negative");
        if (*f.cpus > 0) s.cpus = f.cpus;
    }
    if (f.pids_limit && *f.pids_limit > 0) s.pids_limit = f.pids_limit;
    s.stop_timeout = f.stop_timeout;
    return s;
}

}  // namespace strata::containers
