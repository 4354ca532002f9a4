// `strata inspect [-f FORMAT] IMAGE...`: JSON in the shape of `docker image
// inspect`, for the fields an image has.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/error.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/image_commands_template.hpp"

namespace strata::cli {
namespace {

using nlohmann::ordered_json;

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

// Docker's container.Config, from the image config's "config".
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

ordered_json inspect_json(const store::ImageStore& store, const store::ImageRecord& img,
                          const store::NameIndex& names) {
    store::ImageConfig config = store.config(img);
    auto extra_str = [&](const char* key) {
        auto it = config.extra.find(key);
        return it != config.extra.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    ordered_json repo_tags = ordered_json::array();
    ordered_json repo_digests = ordered_json::array();
    std::set<std::string> repos;
    std::string last_tag = "0001-01-01T00:00:00Z";
    for (const auto& [name, entry] : names.all()) {
        if (entry.manifest != img.manifest) continue;
        repo_tags.push_back(name.familiar());
        if (repos.insert(name.familiar_repository()).second)
            repo_digests.push_back(name.familiar_repository() + "@" + img.manifest.str());
        auto t = store::parse_timestamp(entry.tagged_at);
        auto best = store::parse_timestamp(last_tag);
        if (t && best && *t > *best) last_tag = entry.tagged_at;
    }
    ordered_json j;
    j["Id"] = img.config.str();
    j["RepoTags"] = repo_tags;
    j["RepoDigests"] = repo_digests;
    j["Parent"] = "";
    j["Comment"] = extra_str("comment");
    j["Created"] = config.created.value_or("");
    if (config.extra.contains("container")) j["Container"] = extra_str("container");
    if (auto it = config.extra.find("container_config");
        it != config.extra.end() && it->is_object())
        j["ContainerConfig"] = docker_config(
            store::ImageConfig::from_json({{"config", *it}}, "container_config").config);
    j["DockerVersion"] = extra_str("docker_version");
    j["Author"] = config.author;
    j["Config"] = docker_config(config.config);
    j["Architecture"] = config.architecture;
    if (!config.variant.empty()) j["Variant"] = config.variant;
    j["Os"] = config.os;
    if (!config.os_version.empty()) j["OsVersion"] = config.os_version;
    j["Size"] = img.unpacked_size();
    j["VirtualSize"] = img.unpacked_size();
    j["GraphDriver"] = {{"Data", nullptr}, {"Name", "strata"}};
    ordered_json layers = ordered_json::array();
    for (const auto& d : config.diff_ids)
        layers.push_back(d.str());
    j["RootFS"] = {{"Type", "layers"}, {"Layers", layers}};
    j["Metadata"] = {{"LastTagTime", last_tag}};
    j["Descriptor"] = {{"mediaType", img.manifest_media_type},
                       {"digest", img.manifest.str()},
                       {"size", img.manifest_size}};
    return j;
}

struct InspectOptions {
    std::vector<std::string> images;
    std::string format;
};

void run_inspect(const GlobalOptions& global, const InspectOptions& opts) {
    auto store = open_store(global);
    auto names = store->names();
    auto images = store->images();
    ordered_json out = ordered_json::array();
    std::vector<std::string> errors;
    for (const auto& arg : opts.images) {
        try {
            auto match = store->lookup(arg, names, images);
            out.push_back(inspect_json(*store, match.image, names));
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kNotFound) throw;
            errors.push_back(e.what());
        }
    }
    if (opts.format.empty()) {
        fmt::print("{}\n", out.dump(4, ' ', false, ordered_json::error_handler_t::replace));
    } else {
        for (const auto& item : out)
            fmt::print("{}\n", render_template(opts.format, item));
    }
    std::fflush(stdout);
    for (const auto& e : errors)
        print_error(e);
    if (!errors.empty()) throw ExitCode{1};
}

}  // namespace

void add_inspect_command(CLI::App& app, const GlobalOptions& global) {
    auto opts = std::make_shared<InspectOptions>();
    CLI::App* cmd = app.add_subcommand("inspect", "Display detailed information on images");
    cmd->add_option("-f,--format", opts->format,
                    "Format with a Go-template subset: {{.Field}}, {{json .Field}}");
    cmd->add_option("images", opts->images, "IMAGE (name or ID)")->required();
    cmd->callback([opts, &global] { run_inspect(global, *opts); });
}

}  // namespace strata::cli
