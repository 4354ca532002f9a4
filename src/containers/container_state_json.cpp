#include "containers/container_state_json.hpp"

#include <fmt/format.h>

#include "base/error.hpp"

namespace strata::containers {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(std::string_view what, std::string_view detail) {
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: {}", what, detail));
}

// Reads j[key] as T, `fallback` when absent or null; a wrong type is corrupt.
template <typename T>
T get_or(const json& j, const char* key, T fallback, std::string_view what) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception& e) {
        bad(what, fmt::format("field \"{}\": {}", key, e.what()));
    }
}

template <typename T>
std::optional<T> get_opt(const json& j, const char* key, std::string_view what) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    try {
        return it->get<T>();
    } catch (const json::exception& e) {
        bad(what, fmt::format("field \"{}\": {}", key, e.what()));
    }
}

template <typename T>
void put_opt(json& j, const char* key, const std::optional<T>& v) {
    j[key] = v ? json(*v) : json(nullptr);
}

json mount_to_json(const MountSpec& m) {
    json j = {{"type", std::string(mount_type_name(m.type))},
              {"source", m.source},
              {"target", m.target},
              {"read_only", m.read_only},
              {"anonymous", m.anonymous},
              {"no_copy", m.no_copy},
              {"tmpfs_mode", m.tmpfs_mode}};
    put_opt(j, "tmpfs_size", m.tmpfs_size);
    return j;
}

MountSpec mount_from_json(const json& j, std::string_view what) {
    if (!j.is_object()) bad(what, "a mount is not an object");
    MountSpec m;
    auto type = get_or<std::string>(j, "type", "bind", what);
    if (type == "bind")
        m.type = MountSpec::Type::kBind;
    else if (type == "volume")
        m.type = MountSpec::Type::kVolume;
    else if (type == "tmpfs")
        m.type = MountSpec::Type::kTmpfs;
    else
        bad(what, fmt::format("unknown mount type \"{}\"", type));
    m.source = get_or<std::string>(j, "source", "", what);
    m.target = get_or<std::string>(j, "target", "", what);
    m.read_only = get_or(j, "read_only", false, what);
    m.anonymous = get_or(j, "anonymous", false, what);
    m.no_copy = get_or(j, "no_copy", false, what);
    m.tmpfs_size = get_opt<uint64_t>(j, "tmpfs_size", what);
    m.tmpfs_mode = get_or<uint32_t>(j, "tmpfs_mode", 01777, what);
    return m;
}

using Strings = std::vector<std::string>;

}  // namespace

json spec_to_json(const ContainerSpec& s) {
    store::ImageConfig wrapper;  // its to_json() is the one writer of Docker's config object
    wrapper.config = s.config;
    json mounts = json::array();
    for (const auto& m : s.mounts)
        mounts.push_back(mount_to_json(m));
    json j = {{"image_name", s.image_name},
              {"image_manifest", s.image_manifest},
              {"image_id", s.image_id},
              {"config", wrapper.to_json()["config"]},
              {"argv", s.argv},
              {"hostname", s.hostname},
              {"tty", s.tty},
              {"interactive", s.interactive},
              {"read_only", s.read_only},
              {"privileged", s.privileged},
              {"auto_remove", s.auto_remove},
              {"network", s.network},
              {"publish", s.publish},
              {"cap_add", s.cap_add},
              {"cap_drop", s.cap_drop},
              {"no_new_privileges", s.no_new_privileges},
              {"seccomp", s.seccomp},
              {"mounts", mounts}};
    put_opt(j, "memory_bytes", s.memory_bytes);
    put_opt(j, "cpus", s.cpus);
    put_opt(j, "pids_limit", s.pids_limit);
    put_opt(j, "stop_timeout", s.stop_timeout);
    return j;
}

ContainerSpec spec_from_json(const json& j, std::string_view what) {
    if (!j.is_object()) bad(what, "\"spec\" is not an object");
    ContainerSpec s;
    s.image_name = get_or<std::string>(j, "image_name", "", what);
    s.image_manifest = get_or<std::string>(j, "image_manifest", "", what);
    s.image_id = get_or<std::string>(j, "image_id", "", what);
    if (auto it = j.find("config"); it != j.end() && !it->is_null()) {
        try {
            s.config = store::ImageConfig::from_json(json{{"config", *it}}, what).config;
        } catch (const Error& e) {
            throw Error(ErrorKind::kCorrupt, e.what());
        }
    }
    s.argv = get_or<Strings>(j, "argv", {}, what);
    s.hostname = get_or<std::string>(j, "hostname", "", what);
    s.tty = get_or(j, "tty", false, what);
    s.interactive = get_or(j, "interactive", false, what);
    s.read_only = get_or(j, "read_only", false, what);
    s.privileged = get_or(j, "privileged", false, what);
    s.auto_remove = get_or(j, "auto_remove", false, what);
    s.network = get_or<std::string>(j, "network", "default", what);
    s.publish = get_or<Strings>(j, "publish", {}, what);
    s.cap_add = get_or<Strings>(j, "cap_add", {}, what);
    s.cap_drop = get_or<Strings>(j, "cap_drop", {}, what);
    s.no_new_privileges = get_or(j, "no_new_privileges", false, what);
    s.seccomp = get_or<std::string>(j, "seccomp", "", what);
    s.memory_bytes = get_opt<uint64_t>(j, "memory_bytes", what);
    s.cpus = get_opt<double>(j, "cpus", what);
    s.pids_limit = get_opt<int64_t>(j, "pids_limit", what);
    s.stop_timeout = get_opt<int>(j, "stop_timeout", what);
    if (auto it = j.find("mounts"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) bad(what, "\"mounts\" is not an array");
        for (const auto& m : *it)
            s.mounts.push_back(mount_from_json(m, what));
    }
    return s;
}

json state_to_json(const ContainerState& s) {
    json j = {{"status", status_name(s.status)},
              {"pid", s.pid},
              {"pid_start", s.pid_start},
              {"monitor_pid", s.monitor_pid},
              {"monitor_start", s.monitor_start},
              {"started_at", s.started_at},
              {"finished_at", s.finished_at},
              {"oom_killed", s.oom_killed},
              {"error", s.error}};
    put_opt(j, "exit_code", s.exit_code);
    if (!s.ip_address.empty())
        j["network"] = {{"ip_address", s.ip_address},
                        {"ip_prefix_len", s.ip_prefix_len},
                        {"gateway", s.gateway},
                        {"mac_address", s.mac_address}};
    if (!s.ports.empty()) j["ports"] = s.ports;
    return j;
}

ContainerState state_from_json(const json& j, std::string_view what) {
    if (!j.is_object()) bad(what, "not a JSON object");
    ContainerState s;
    auto word = get_or<std::string>(j, "status", "created", what);
    auto status = parse_status(word);
    if (!status) bad(what, fmt::format("unknown status \"{}\"", word));
    s.status = *status;
    s.pid = get_or(j, "pid", 0, what);
    s.pid_start = get_or<uint64_t>(j, "pid_start", 0, what);
    s.monitor_pid = get_or(j, "monitor_pid", 0, what);
    s.monitor_start = get_or<uint64_t>(j, "monitor_start", 0, what);
    s.exit_code = get_opt<int>(j, "exit_code", what);
    s.started_at = get_or<std::string>(j, "started_at", "", what);
    s.finished_at = get_or<std::string>(j, "finished_at", "", what);
    s.oom_killed = get_or(j, "oom_killed", false, what);
    s.error = get_or<std::string>(j, "error", "", what);
    if (auto it = j.find("network"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) bad(what, "\"network\" is not an object");
        s.ip_address = get_or<std::string>(*it, "ip_address", "", what);
        s.ip_prefix_len = get_or(*it, "ip_prefix_len", 0, what);
        s.gateway = get_or<std::string>(*it, "gateway", "", what);
        s.mac_address = get_or<std::string>(*it, "mac_address", "", what);
    }
    if (auto it = j.find("ports"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) bad(what, "\"ports\" is not an array");
        for (const auto& p : *it) {
            if (!p.is_string()) bad(what, "\"ports\" holds a non-string");
            s.ports.push_back(p.get<std::string>());
        }
    }
    return s;
}

json config_document(const Container& c) {
    return {{"id", c.id}, {"name", c.name}, {"created", c.created}, {"spec", spec_to_json(c.spec)}};
}

Container container_from_config_document(const json& j, std::string_view what) {
    if (!j.is_object()) bad(what, "not a JSON object");
    Container c;
    c.id = get_or<std::string>(j, "id", "", what);
    c.name = get_or<std::string>(j, "name", "", what);
    c.created = get_or<std::string>(j, "created", "", what);
    if (c.id.empty()) bad(what, "no \"id\"");
    auto it = j.find("spec");
    if (it == j.end()) bad(what, "no \"spec\"");
    c.spec = spec_from_json(*it, what);
    return c;
}

}  // namespace strata::containers
