// `strata inspect [-f FORMAT] IMAGE...`: JSON in the shape of `docker image
// inspect`, for the fields an image has.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/error.hpp"
#include "cli/container_commands.hpp"
#include "cli/docker_config_json.hpp"
#include "cli/image_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/image_commands_template.hpp"

namespace strata::cli {
namespace {

using nlohmann::ordered_json;

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
    std::string type;  // "", "container" or "image": Docker tries a container first
};

void run_inspect(const GlobalOptions& global, const InspectOptions& opts) {
    auto store = open_store(global);
    auto names = store->names();
    auto images = store->images();
    ordered_json out = ordered_json::array();
    std::vector<std::string> errors;
    for (const auto& arg : opts.images) {
        try {
            if (opts.type != "image") {
                if (auto c = inspect_container(global, arg)) {
                    out.push_back(std::move(*c));
                    continue;
                }
                if (opts.type == "container")
                    throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", arg));
            }
            auto match = [&] {
                if (!opts.type.empty()) return store->lookup(arg, names, images);
                try {
                    return store->lookup(arg, names, images);
                } catch (const Error& e) {  // neither a container nor an image: Docker's words
                    if (e.kind() != ErrorKind::kNotFound) throw;
                    throw Error(ErrorKind::kNotFound, fmt::format("No such object: {}", arg));
                }
            }();
            out.push_back(inspect_json(*store, measured(*store, match.image), names));
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
    CLI::App* cmd =
        app.add_subcommand("inspect", "Display detailed information on containers and images");
    cmd->add_option("-f,--format", opts->format,
                    "Format with a Go-template subset: {{.Field}}, {{json .Field}}");
    cmd->add_option("--type", opts->type, "Only look for a container or an image")
        ->check(CLI::IsMember({"container", "image"}));
    cmd->add_option("images", opts->images, "CONTAINER or IMAGE (name or ID)")->required();
    cmd->callback([opts, &global] { run_inspect(global, *opts); });
}

}  // namespace strata::cli
