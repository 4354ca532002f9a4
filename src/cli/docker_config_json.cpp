#include "cli/docker_config_json.hpp"

#include <set>
#include <string>
#include <vector>

namespace strata::cli {

using nlohmann::ordered_json;

namespace {

ordered_json strings_or_null(const std::optional<std::vector<std::string>>& v) {
    return v ? ordered_json(*v) : ordered_json(nullptr);
}

ordered_json key_set(const std::set<std::string>& keys) {
    if (keys.empty()) return nullptr;
    ordered_json j = ordered_json::object();
    for (const auto& k : keys)
        j[k] = ordered_json::object();
    return j;
}

}  // namespace

ordered_json docker_config(const store::ContainerConfig& c) {
    auto extra_str = [&](const char* key) {
        auto it = c.extra.find(key);
        return it != c.extra.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto extra_bool = [&](const char* key) {
        auto it = c.extra.find(key);
        return it != c.extra.end() && it->is_boolean() && it->get<bool>();
    };
    ordered_json j;
    j["Hostname"] = extra_str("Hostname");
    j["Domainname"] = extra_str("Domainname");
    j["User"] = c.user;
    j["AttachStdin"] = extra_bool("AttachStdin");
    j["AttachStdout"] = extra_bool("AttachStdout");
    j["AttachStderr"] = extra_bool("AttachStderr");
    if (!c.exposed_ports.empty()) j["ExposedPorts"] = key_set(c.exposed_ports);
    j["Tty"] = extra_bool("Tty");
    j["OpenStdin"] = extra_bool("OpenStdin");
    j["StdinOnce"] = extra_bool("StdinOnce");
    j["Env"] = c.env.empty() ? ordered_json(nullptr) : ordered_json(c.env);
    j["Cmd"] = strings_or_null(c.cmd);
    if (c.healthcheck) {
        ordered_json h;
        h["Test"] = c.healthcheck->test;
        if (c.healthcheck->interval) h["Interval"] = c.healthcheck->interval;
        if (c.healthcheck->timeout) h["Timeout"] = c.healthcheck->timeout;
        if (c.healthcheck->start_period) h["StartPeriod"] = c.healthcheck->start_period;
        if (c.healthcheck->start_interval) h["StartInterval"] = c.healthcheck->start_interval;
        if (c.healthcheck->retries) h["Retries"] = c.healthcheck->retries;
        j["Healthcheck"] = h;
    }
    if (c.args_escaped) j["ArgsEscaped"] = true;
    j["Image"] = extra_str("Image");
    j["Volumes"] = key_set(c.volumes);
    j["WorkingDir"] = c.working_dir;
    j["Entrypoint"] = strings_or_null(c.entrypoint);
    j["OnBuild"] = c.on_build.empty() ? ordered_json(nullptr) : ordered_json(c.on_build);
    j["Labels"] = c.labels.empty() ? ordered_json(nullptr) : ordered_json(c.labels);
    if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
    if (c.shell) j["Shell"] = *c.shell;
    return j;
}

}  // namespace strata::cli
