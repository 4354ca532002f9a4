// `strata inspect CONTAINER` / `strata container inspect`: Docker's container
// JSON (the fields strata has) from a container record.
#include <fmt/format.h>

#include <cmath>

#include "base/error.hpp"
#include "cli/container_commands.hpp"
#include "cli/docker_config_json.hpp"
#include "cli/image_commands_template.hpp"
#include "containers/container_paths.hpp"
#include "containers/run_options.hpp"
#include "store/store_root.hpp"

namespace strata::cli {
namespace {

using containers::Container;
using containers::MountSpec;
using containers::Status;
using nlohmann::ordered_json;

// Go's zero time, which Docker prints for a time that never happened.
constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

ordered_json strings_or_null(const std::vector<std::string>& v) {
    return v.empty() ? ordered_json(nullptr) : ordered_json(v);
}

// Docker's port maps: container port → [{HostIp, HostPort}]. HostConfig's
// has the -p values as given (HostPort "" for a free port); NetworkSettings'
// has what a running container got (HostIp 0.0.0.0 for every address) and
// null for a port the image exposes that is not published.
ordered_json port_bindings(const std::vector<std::string>& publish, bool running) {
    ordered_json out = ordered_json::object();
    for (const auto& p : publish)
        for (const auto& b : containers::port_bindings(containers::parse_publish(p))) {
            const std::string ip = b.host_ip.empty() && running ? "0.0.0.0" : b.host_ip;
            out[b.container_port].push_back(
                {{"HostIp", ip},
                 {"HostPort", b.host_port ? std::to_string(b.host_port) : std::string()}});
        }
    return out;
}

ordered_json mounts_json(const std::filesystem::path& store_root, const Container& c) {
    ordered_json out = ordered_json::array();
    for (const auto& m : c.spec.mounts) {
        ordered_json j;
        j["Type"] = std::string(containers::mount_type_name(m.type));
        if (m.type == MountSpec::Type::kVolume) {
            j["Name"] = m.source;
            j["Source"] = (containers::volumes_dir(store_root) / m.source / "_data").string();
        } else {
            j["Source"] = m.source;
        }
        j["Destination"] = m.target;
        if (m.type == MountSpec::Type::kVolume) j["Driver"] = "local";
        j["Mode"] = m.read_only ? "ro" : "";
        j["RW"] = !m.read_only;
        j["Propagation"] = m.type == MountSpec::Type::kBind ? "rprivate" : "";
        out.push_back(std::move(j));
    }
    return out;
}

// -v style entries: binds and named volumes ("SRC:DST[:ro]"), as Docker lists
// HostConfig.Binds.
ordered_json binds_json(const Container& c) {
    std::vector<std::string> binds;
    for (const auto& m : c.spec.mounts) {
        if (m.type == MountSpec::Type::kTmpfs || m.anonymous) continue;
        binds.push_back(m.source + ":" + m.target + (m.read_only ? ":ro" : ""));
    }
    return strings_or_null(binds);
}

ordered_json tmpfs_json(const Container& c) {
    ordered_json out = ordered_json::object();
    for (const auto& m : c.spec.mounts) {
        if (m.type != MountSpec::Type::kTmpfs) continue;
        std::string opts = m.read_only ? "ro" : "rw";
        if (m.tmpfs_size) opts += fmt::format(",size={}", *m.tmpfs_size);
        if (m.tmpfs_mode != 01777) opts += fmt::format(",mode={:o}", m.tmpfs_mode);
        out[m.target] = opts;
    }
    return out.empty() ? ordered_json(nullptr) : out;
}

ordered_json security_opt(const Container& c) {
    std::vector<std::string> opts;
    if (c.spec.no_new_privileges) opts.push_back("no-new-privileges");
    if (c.spec.seccomp == "unconfined")
        opts.push_back("seccomp=unconfined");
    else if (!c.spec.seccomp.empty())
        opts.push_back("seccomp=" + c.spec.seccomp);
    return strings_or_null(opts);
}

ordered_json state_json(const Container& c) {
    const auto& s = c.state;
    ordered_json j;
    j["Status"] = std::string(containers::status_name(s.status));
    j["Running"] = s.status == Status::kRunning;
    j["Paused"] = false;
    j["Restarting"] = false;
    j["OOMKilled"] = s.oom_killed;
    j["Dead"] = false;
    j["Pid"] = s.status == Status::kRunning ? s.pid : 0;
    // An exit nobody saw (the holder died) reads as Docker's after a daemon
    // crash: 255.
    j["ExitCode"] = s.status == Status::kExited ? s.exit_code.value_or(255) : 0;
    j["Error"] = s.error;
    j["StartedAt"] = s.started_at.empty() ? kZeroTime : s.started_at;
    j["FinishedAt"] = s.finished_at.empty() ? kZeroTime : s.finished_at;
    return j;
}

}  // namespace

std::string container_command(const Container& c) {
    // As Docker's container list: an argument with a space in single quotes.
    std::string out;
    for (size_t i = 0; i < c.spec.argv.size(); ++i) {
        const auto& a = c.spec.argv[i];
        if (i > 0) out += ' ';
        out += i > 0 && a.find(' ') != std::string::npos ? "'" + a + "'" : a;
    }
    return out;
}

ordered_json container_inspect_json(const Container& c) {
    const auto store_root = c.dir.parent_path().parent_path();
    const auto& s = c.spec;
    ordered_json j;
    j["Id"] = c.id;
    j["Created"] = c.created;
    j["Path"] = s.argv.empty() ? "" : s.argv.front();
    j["Args"] = s.argv.size() > 1
                    ? ordered_json(std::vector<std::string>(s.argv.begin() + 1, s.argv.end()))
                    : ordered_json::array();
    j["State"] = state_json(c);
    j["Image"] = s.image_id;
    j["LogPath"] = c.log_file().string();
    j["Name"] = "/" + c.name;
    j["RestartCount"] = 0;
    j["Driver"] = "overlay";
    j["Platform"] = "linux";

    ordered_json host;
    host["Binds"] = binds_json(c);
    host["LogConfig"] = {{"Type", "json-file"}, {"Config", ordered_json::object()}};
    host["NetworkMode"] = s.network;
    host["PortBindings"] = port_bindings(s.publish, false);
    host["RestartPolicy"] = {{"Name", "no"}, {"MaximumRetryCount", 0}};
    host["AutoRemove"] = s.auto_remove;
    host["CapAdd"] = strings_or_null(s.cap_add);
    host["CapDrop"] = strings_or_null(s.cap_drop);
    host["Privileged"] = s.privileged;
    host["ReadonlyRootfs"] = s.read_only;
    host["SecurityOpt"] = security_opt(c);
    host["Tmpfs"] = tmpfs_json(c);
    host["Memory"] = s.memory_bytes.value_or(0);
    host["NanoCpus"] = s.cpus ? static_cast<int64_t>(std::llround(*s.cpus * 1e9)) : 0;
    host["PidsLimit"] = s.pids_limit ? ordered_json(*s.pids_limit) : ordered_json(nullptr);
    j["HostConfig"] = std::move(host);

    j["GraphDriver"] = {
        {"Data", {{"UpperDir", c.upper().string()}, {"WorkDir", c.work().string()}}},
        {"Name", "overlay"}};
    j["Mounts"] = mounts_json(store_root, c);

    ordered_json config = docker_config(s.config);
    config["Hostname"] = s.hostname;
    config["AttachStdin"] = s.interactive;
    config["AttachStdout"] = true;
    config["AttachStderr"] = true;
    config["Tty"] = s.tty;
    config["OpenStdin"] = s.interactive;
    config["StdinOnce"] = s.interactive;
    config["Image"] = s.image_name;
    if (s.stop_timeout) config["StopTimeout"] = *s.stop_timeout;
    j["Config"] = std::move(config);
    // Docker's fields of a container on its default bridge while it runs
    // there (empty strings otherwise, as Docker leaves them; a holder killed
    // by -9 left them in state.json).
    containers::ContainerState st = c.state;
    if (st.status != Status::kRunning) st.ip_address = st.gateway = st.mac_address = "";
    if (st.ip_address.empty()) st.ip_prefix_len = 0;
    ordered_json ports = ordered_json::object();
    if (st.status == Status::kRunning) {
        ports = port_bindings(containers::running_ports(c), true);
        for (const auto& e : s.config.exposed_ports)
            if (!ports.contains(e)) ports[e] = nullptr;
    }
    ordered_json net = {{"Ports", std::move(ports)},
                        {"Gateway", st.gateway},
                        {"IPAddress", st.ip_address},
                        {"IPPrefixLen", st.ip_prefix_len},
                        {"MacAddress", st.mac_address}};
    if (!st.ip_address.empty())
        net["Networks"] = {{"bridge",
                            {{"Gateway", st.gateway},
                             {"IPAddress", st.ip_address},
                             {"IPPrefixLen", st.ip_prefix_len},
                             {"MacAddress", st.mac_address}}}};
    j["NetworkSettings"] = std::move(net);
    return j;
}

std::optional<ordered_json> inspect_container(const GlobalOptions& global,
                                              std::string_view id_or_name) {
    containers::ContainerStore store(store::resolve_store_root(global.root));
    auto c = store.find(id_or_name);
    if (!c) return std::nullopt;
    store.refresh(*c);
    return container_inspect_json(*c);
}

}  // namespace strata::cli
