#include "executor/config_effect.hpp"

#include <nlohmann/json.hpp>

#include "store/image_config_time.hpp"

namespace strata::executor {

store::ImageConfig scratch_config(const planner::Platform& platform) {
    store::ImageConfig c;
    c.os = platform.os;
    c.architecture = platform.architecture;
    c.variant = platform.variant;
    c.config.working_dir.assign(1, '/');  // = "/" trips GCC 12's -Wrestrict at -O3
    return c;
}

store::ImageConfig base_config(const store::ImageConfig& image) {
    store::ImageConfig c = image;
    c.extra = nlohmann::json::object();
    c.config.extra = nlohmann::json::object();
    c.created.reset();
    return c;
}

void apply_effect(store::ImageConfig& config, const planner::ConfigEffect& e) {
    store::ContainerConfig& c = config.config;
    if (e.clear_onbuild) c.on_build.clear();
    for (const auto& [k, v] : e.env)
        c.set_env(k, v);
    for (const auto& [k, v] : e.labels)
        c.labels[k] = v;
    for (const auto& p : e.exposed_ports)
        c.exposed_ports.insert(p);
    for (const auto& v : e.volumes)
        c.volumes.insert(v);
    for (const auto& t : e.onbuild)
        c.on_build.push_back(t);
    if (e.user) c.user = *e.user;
    if (e.working_dir) c.working_dir = *e.working_dir;
    if (e.stop_signal) c.stop_signal = *e.stop_signal;
    if (e.author) config.author = *e.author;
    if (e.entrypoint) c.entrypoint = *e.entrypoint;
    if (e.clear_cmd) c.cmd.reset();
    if (e.cmd) c.cmd = *e.cmd;
    if (e.args_escaped) c.args_escaped = true;
    if (e.shell) c.shell = *e.shell;
    if (e.healthcheck) {
        const planner::Healthcheck& h = *e.healthcheck;
        store::HealthConfig hc;
        hc.test = h.test;
        hc.interval = h.interval_ns;
        hc.timeout = h.timeout_ns;
        hc.start_period = h.start_period_ns;
        hc.start_interval = h.start_interval_ns;
        hc.retries = h.retries;
        c.healthcheck = hc;
    }
}

void add_history(store::ImageConfig& config, const planner::ConfigEffect& effect,
                 std::optional<std::string> created) {
    if (!effect.history) return;
    store::HistoryEntry h;
    h.created = std::move(created);
    h.created_by = effect.history->created_by;
    h.comment = kHistoryComment;
    h.empty_layer = effect.history->empty_layer;
    config.history.push_back(std::move(h));
}

void fill_history_times(std::vector<store::HistoryEntry>& history) {
    // The time metadata entries before the first new layer get: the first
    // time that follows an entry without one (else the last time there is).
    std::optional<std::string> created;
    bool missing = false;
    for (const auto& h : history) {
        if (h.created) {
            created = h.created;
            if (missing) break;
        } else {
            missing = true;
        }
    }
    missing = false;
    for (auto& h : history) {
        if (h.created) {
            if (missing) created = h.created;
        } else {
            missing = true;
            h.created = created;
        }
    }
}

void apply_source_date_epoch(store::ImageConfig& config, size_t first_new, int64_t epoch) {
    const std::string at = store::format_timestamp(store::Timestamp{epoch, 0});
    for (size_t i = first_new; i < config.history.size(); ++i) {
        auto& h = config.history[i];
        const auto t = h.created ? store::parse_timestamp(*h.created) : std::nullopt;
        if (!t || t->seconds > epoch || (t->seconds == epoch && t->nanos > 0)) h.created = at;
    }
    config.created = at;
}

std::optional<std::string> last_history_time(const std::vector<store::HistoryEntry>& history) {
    std::optional<std::string> out;
    for (const auto& h : history)
        if (h.created) out = h.created;
    return out;
}

}  // namespace strata::executor
