#include "store/image_config.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"
#include "store/image_config_time.hpp"

namespace strata::store {

using nlohmann::json;

namespace {

// Field readers: null or missing means "not set"; a wrong type is an error
// that names the document and the field.
struct Reader {
    std::string_view what;

    [[noreturn]] void bad(std::string_view field, std::string_view expected) const {
        throw Error(ErrorKind::kParse,
                    fmt::format("{}: field \"{}\" must be {}", what, field, expected));
    }

    std::string str(const json& obj, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return {};
        if (!it->is_string()) bad(key, "a string");
        return it->get<std::string>();
    }

    std::optional<std::string> opt_str(const json& obj, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return std::nullopt;
        if (!it->is_string()) bad(key, "a string");
        return it->get<std::string>();
    }

    std::optional<std::vector<std::string>> opt_strings(const json& obj, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return std::nullopt;
        if (!it->is_array()) bad(key, "an array of strings");
        std::vector<std::string> out;
        for (const auto& v : *it) {
            if (!v.is_string()) bad(key, "an array of strings");
            out.push_back(v.get<std::string>());
        }
        return out;
    }

    // A time, as Go's encoding/json reads a time.Time (what Docker and
    // BuildKit decode "created" with): a bad one is an error naming the
    // field, history[N].KEY when `history` is an entry's index.
    std::optional<std::string> opt_time(const json& obj, const char* key,
                                        std::optional<size_t> history = {}) const {
        auto text = opt_str(obj, key);
        if (!text) return text;
        auto parsed = parse_timestamp_checked(*text);
        if (!parsed.time) {
            const std::string field =
                history ? fmt::format("history[{}].{}", *history, key) : std::string(key);
            throw Error(ErrorKind::kParse,
                        fmt::format("{}: field \"{}\": {}", what, field, parsed.error));
        }
        return text;
    }

    std::vector<std::string> strings(const json& obj, const char* key) const {
        return opt_strings(obj, key).value_or(std::vector<std::string>{});
    }

    // {"80/tcp": {}, ...} → the key set.
    std::set<std::string> key_set(const json& obj, const char* key) const {
        std::set<std::string> out;
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return out;
        if (!it->is_object()) bad(key, "an object");
        for (const auto& [k, v] : it->items())
            out.insert(k);
        return out;
    }

    std::map<std::string, std::string> string_map(const json& obj, const char* key) const {
        std::map<std::string, std::string> out;
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return out;
        if (!it->is_object()) bad(key, "an object of strings");
        for (const auto& [k, v] : it->items()) {
            if (!v.is_string()) bad(key, "an object of strings");
            out[k] = v.get<std::string>();
        }
        return out;
    }

    int64_t integer(const json& obj, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return 0;
        if (!it->is_number_integer()) bad(key, "an integer");
        return it->get<int64_t>();
    }

    bool boolean(const json& obj, const char* key) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return false;
        if (!it->is_boolean()) bad(key, "a boolean");
        return it->get<bool>();
    }
};

json key_set_json(const std::set<std::string>& keys) {
    json out = json::object();
    for (const auto& k : keys)
        out[k] = json::object();
    return out;
}

const char* const kConfigKeys[] = {
    "User",   "ExposedPorts", "Env",   "Entrypoint",  "Cmd",     "Volumes",    "WorkingDir",
    "Labels", "StopSignal",   "Shell", "Healthcheck", "OnBuild", "ArgsEscaped"};
const char* const kTopKeys[] = {"created",    "author",      "architecture", "os",     "variant",
                                "os.version", "os.features", "config",       "rootfs", "history"};

ContainerConfig config_from_json(const json& c, const Reader& r) {
    ContainerConfig cfg;
    if (c.is_null()) return cfg;
    if (!c.is_object()) r.bad("config", "an object");
    cfg.user = r.str(c, "User");
    cfg.exposed_ports = r.key_set(c, "ExposedPorts");
    cfg.env = r.strings(c, "Env");
    cfg.entrypoint = r.opt_strings(c, "Entrypoint");
    cfg.cmd = r.opt_strings(c, "Cmd");
    cfg.volumes = r.key_set(c, "Volumes");
    cfg.working_dir = r.str(c, "WorkingDir");
    cfg.labels = r.string_map(c, "Labels");
    cfg.stop_signal = r.str(c, "StopSignal");
    cfg.shell = r.opt_strings(c, "Shell");
    cfg.on_build = r.strings(c, "OnBuild");
    cfg.args_escaped = r.boolean(c, "ArgsEscaped");
    if (auto it = c.find("Healthcheck"); it != c.end() && !it->is_null()) {
        if (!it->is_object()) r.bad("Healthcheck", "an object");
        HealthConfig h;
        h.test = r.strings(*it, "Test");
        h.interval = r.integer(*it, "Interval");
        h.timeout = r.integer(*it, "Timeout");
        h.start_period = r.integer(*it, "StartPeriod");
        h.start_interval = r.integer(*it, "StartInterval");
        h.retries = static_cast<int>(r.integer(*it, "Retries"));
        cfg.healthcheck = h;
    }
    cfg.extra = c;
    for (const char* k : kConfigKeys)
        cfg.extra.erase(k);
    return cfg;
}

json config_to_json(const ContainerConfig& cfg) {
    json c = cfg.extra.is_object() ? cfg.extra : json::object();
    if (!cfg.user.empty()) c["User"] = cfg.user;
    if (!cfg.exposed_ports.empty()) c["ExposedPorts"] = key_set_json(cfg.exposed_ports);
    if (!cfg.env.empty()) c["Env"] = cfg.env;
    if (cfg.entrypoint) c["Entrypoint"] = *cfg.entrypoint;
    if (cfg.cmd) c["Cmd"] = *cfg.cmd;
    if (!cfg.volumes.empty()) c["Volumes"] = key_set_json(cfg.volumes);
    if (!cfg.working_dir.empty()) c["WorkingDir"] = cfg.working_dir;
    if (!cfg.labels.empty()) c["Labels"] = cfg.labels;
    if (!cfg.stop_signal.empty()) c["StopSignal"] = cfg.stop_signal;
    if (cfg.shell) c["Shell"] = *cfg.shell;
    if (!cfg.on_build.empty()) c["OnBuild"] = cfg.on_build;
    if (cfg.args_escaped) c["ArgsEscaped"] = true;
    if (cfg.healthcheck) {
        const auto& h = *cfg.healthcheck;
        json hj = json::object();
        if (!h.test.empty()) hj["Test"] = h.test;
        if (h.interval) hj["Interval"] = h.interval;
        if (h.timeout) hj["Timeout"] = h.timeout;
        if (h.start_period) hj["StartPeriod"] = h.start_period;
        if (h.start_interval) hj["StartInterval"] = h.start_interval;
        if (h.retries) hj["Retries"] = h.retries;
        c["Healthcheck"] = hj;
    }
    return c;
}

}  // namespace

std::optional<std::string> ContainerConfig::env_value(std::string_view key) const {
    for (const auto& e : env) {
        auto eq = e.find('=');
        std::string_view k =
            eq == std::string::npos ? std::string_view(e) : std::string_view(e).substr(0, eq);
        if (k == key) return eq == std::string::npos ? std::string() : e.substr(eq + 1);
    }
    return std::nullopt;
}

void ContainerConfig::set_env(std::string_view key, std::string_view value) {
    std::string entry = fmt::format("{}={}", key, value);
    for (auto& e : env) {
        auto eq = e.find('=');
        if (std::string_view(e).substr(0, eq) == key) {
            e = entry;
            return;
        }
    }
    env.push_back(std::move(entry));
}

ImageConfig ImageConfig::parse(std::string_view text, std::string_view what) {
    return from_json(parse_json(text, what), what);
}

ImageConfig ImageConfig::from_json(const json& j, std::string_view what) {
    Reader r{what};
    if (!j.is_object()) throw Error(ErrorKind::kParse, fmt::format("{}: not a JSON object", what));
    ImageConfig img;
    img.created = r.opt_time(j, "created");
    img.author = r.str(j, "author");
    img.architecture = r.str(j, "architecture");
    img.os = r.str(j, "os");
    img.variant = r.str(j, "variant");
    img.os_version = r.str(j, "os.version");
    img.os_features = r.strings(j, "os.features");
    if (auto it = j.find("config"); it != j.end()) img.config = config_from_json(*it, r);
    if (auto it = j.find("rootfs"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) r.bad("rootfs", "an object");
        std::string type = r.str(*it, "type");
        if (!type.empty() && type != "layers")
            throw Error(ErrorKind::kParse,
                        fmt::format("{}: rootfs.type is \"{}\", expected \"layers\"", what, type));
        for (const auto& d : r.strings(*it, "diff_ids")) {
            auto digest = Digest::try_parse(d);
            if (!digest)
                throw Error(ErrorKind::kParse,
                            fmt::format("{}: rootfs.diff_ids: invalid digest \"{}\"", what, d));
            img.diff_ids.push_back(*digest);
        }
    }
    if (auto it = j.find("history"); it != j.end() && !it->is_null()) {
        if (!it->is_array()) r.bad("history", "an array");
        for (const auto& h : *it) {
            if (!h.is_object()) r.bad("history", "an array of objects");
            HistoryEntry e;
            e.created = r.opt_time(h, "created", img.history.size());
            e.created_by = r.str(h, "created_by");
            e.author = r.str(h, "author");
            e.comment = r.str(h, "comment");
            e.empty_layer = r.boolean(h, "empty_layer");
            img.history.push_back(std::move(e));
        }
    }
    img.extra = j;
    for (const char* k : kTopKeys)
        img.extra.erase(k);
    return img;
}

json ImageConfig::to_json() const {
    json j = extra.is_object() ? extra : json::object();
    if (created) j["created"] = *created;
    if (!author.empty()) j["author"] = author;
    j["architecture"] = architecture;
    j["os"] = os;
    if (!variant.empty()) j["variant"] = variant;
    if (!os_version.empty()) j["os.version"] = os_version;
    if (!os_features.empty()) j["os.features"] = os_features;
    j["config"] = config_to_json(config);
    json ids = json::array();
    for (const auto& d : diff_ids)
        ids.push_back(d.str());
    j["rootfs"] = {{"type", "layers"}, {"diff_ids", ids}};
    if (!history.empty()) {
        json hs = json::array();
        for (const auto& h : history) {
            json e = json::object();
            if (h.created) e["created"] = *h.created;
            if (!h.created_by.empty()) e["created_by"] = h.created_by;
            if (!h.author.empty()) e["author"] = h.author;
            if (!h.comment.empty()) e["comment"] = h.comment;
            if (h.empty_layer) e["empty_layer"] = true;
            hs.push_back(std::move(e));
        }
        j["history"] = std::move(hs);
    }
    return j;
}

std::string ImageConfig::canonical() const {
    return canonical_json(to_json());
}

size_t ImageConfig::non_empty_history() const {
    size_t n = 0;
    for (const auto& h : history)
        n += h.empty_layer ? 0 : 1;
    return n;
}

HostPlatform platform_from_machine(std::string_view m) {
    HostPlatform p;
    if (m == "x86_64" || m == "amd64") {
        p.architecture = "amd64";
    } else if (m == "aarch64" || m == "arm64") {
        p.architecture = "arm64";
    } else if (m == "armv7l" || m == "armv7") {
        p.architecture = "arm";
        p.variant = "v7";
    } else if (m == "armv6l") {
        p.architecture = "arm";
        p.variant = "v6";
    } else if (m == "i386" || m == "i486" || m == "i586" || m == "i686") {
        p.architecture = "386";
    } else if (m == "ppc64le" || m == "s390x" || m == "riscv64" || m == "mips64") {
        p.architecture = std::string(m);
    } else if (m == "loongarch64") {
        p.architecture = "loong64";
    } else {
        p.architecture = std::string(m);
    }
    return p;
}

HostPlatform host_platform() {
    struct utsname u {};
    if (::uname(&u) != 0) return platform_from_machine("x86_64");
    return platform_from_machine(u.machine);
}

}  // namespace strata::store
