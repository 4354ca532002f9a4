// `strata volume create|ls|inspect|rm|prune`: Docker's volume commands over
// the store's volumes/ (containers/volume_store.hpp), with Docker's output.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/go/strconv.hpp"
#include "cli/commands.hpp"
#include "cli/container_commands.hpp"
#include "cli/filter_args.hpp"
#include "cli/human_size.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/image_commands_template.hpp"
#include "containers/volume_store.hpp"
#include "store/store_root.hpp"

namespace strata::cli {
namespace {

namespace fs = std::filesystem;
using containers::Volume;
using containers::VolumeStore;
using nlohmann::ordered_json;

fs::path store_root(const GlobalOptions& global) {
    return store::resolve_store_root(global.root);
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
    std::string out;
    for (const auto& [k, v] : labels)
        out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
}

// Docker's volume inspect object (its keys in Docker's order).
ordered_json inspect_json(const Volume& v) {
    ordered_json labels = ordered_json::object(), options = ordered_json::object();
    for (const auto& [k, val] : v.labels)
        labels[k] = val;
    for (const auto& [k, val] : v.options)
        options[k] = val;
    return ordered_json{{"CreatedAt", v.created}, {"Driver", v.driver},
                        {"Labels", labels},       {"Mountpoint", v.mountpoint().string()},
                        {"Name", v.name},         {"Options", options},
                        {"Scope", "local"}};
}

// --- create -----------------------------------------------------------------

struct CreateOptions {
    std::string name, name_flag;
    std::string driver = "local";
    std::vector<std::string> labels, opts;
};

void run_create(const GlobalOptions& global, const CreateOptions& o) {
    if (!o.name.empty() && !o.name_flag.empty() && o.name != o.name_flag)
        throw Error(ErrorKind::kUsage,
                    "conflicting options: either specify --name or provide positional arg, not "
                    "both");
    if (o.driver != "local")
        throw Error(ErrorKind::kUsage,
                    fmt::format("create: volume driver \"{}\" not found: strata has only the "
                                "\"local\" driver",
                                o.driver));
    if (!o.opts.empty())
        throw Error(ErrorKind::kUsage,
                    "--opt: driver options are not supported by strata's local volumes");
    std::map<std::string, std::string> labels;
    for (const auto& l : o.labels) {
        const size_t eq = l.find('=');
        labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    VolumeStore volumes(store_root(global));
    Volume v = volumes.create(o.name.empty() ? o.name_flag : o.name, labels);
    fmt::print("{}\n", v.name);
}

// --- ls ---------------------------------------------------------------------

struct ListOptions {
    bool quiet = false;
    std::string format = "table";
    std::vector<std::string> filters;
};

struct Filters {
    std::optional<bool> dangling;
    std::vector<std::string> names, labels, drivers;
};

Filters parse_filters(const std::vector<std::string>& raw) {
    Filters f;
    for (const auto& item : raw) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos)
            throw Error(ErrorKind::kUsage,
                        fmt::format("bad format of filter (expected name=value)"));
        const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
        if (key == "dangling") {
            if (value == "true" || value == "1")
                f.dangling = true;
            else if (value == "false" || value == "0")
                f.dangling = false;
            else
                throw Error(ErrorKind::kUsage, fmt::format("invalid filter 'dangling={}'", value));
        } else if (key == "name") {
            f.names.push_back(value);
        } else if (key == "label") {
            f.labels.push_back(value);
        } else if (key == "driver") {
            f.drivers.push_back(value);
        } else {
            throw Error(ErrorKind::kUsage, fmt::format("invalid filter '{}'", key));
        }
    }
    return f;
}

bool matches(const Filters& f, const Volume& v, const std::set<std::string>& used) {
    if (f.dangling && *f.dangling == (used.count(v.name) != 0)) return false;
    if (!f.names.empty()) {
        bool any = false;
        for (const auto& n : f.names)
            any = any || v.name.find(n) != std::string::npos;
        if (!any) return false;
    }
    for (const auto& l : f.labels) {
        const size_t eq = l.find('=');
        auto it = v.labels.find(l.substr(0, eq));
        if (it == v.labels.end()) return false;
        if (eq != std::string::npos && it->second != l.substr(eq + 1)) return false;
    }
    if (!f.drivers.empty()) {
        bool any = false;
        for (const auto& d : f.drivers)
            any = any || d == v.driver;
        if (!any) return false;
    }
    return true;
}

void run_ls(const GlobalOptions& global, const ListOptions& o) {
    if (o.format != "table" && o.format != "json")
        throw Error(ErrorKind::kUsage,
                    fmt::format("--format: expected table or json, got \"{}\"", o.format));
    const Filters filters = parse_filters(o.filters);
    VolumeStore volumes(store_root(global));
    std::set<std::string> used;
    if (filters.dangling)
        for (const Volume& v : volumes.list())
            if (!volumes.users(v.name).empty()) used.insert(v.name);
    std::vector<Volume> shown;
    for (Volume& v : volumes.list())
        if (matches(filters, v, used)) shown.push_back(std::move(v));
    if (o.quiet) {
        for (const auto& v : shown)
            fmt::print("{}\n", v.name);
        return;
    }
    if (o.format == "json") {
        for (const auto& v : shown) {
            // The fields of docker's volume formatter, keys sorted as Go
            // marshals a map.
            nlohmann::json j{{"Availability", "N/A"}, {"Driver", v.driver},
                             {"Group", "N/A"},        {"Labels", labels_text(v.labels)},
                             {"Links", "N/A"},        {"Mountpoint", v.mountpoint().string()},
                             {"Name", v.name},        {"Scope", "local"},
                             {"Size", "N/A"},         {"Status", "N/A"}};
            fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }
        return;
    }
    Table table({"DRIVER", "VOLUME NAME"});
    for (const auto& v : shown)
        table.add({v.driver, v.name});
    fmt::print("{}", table.render());
}

// --- inspect ----------------------------------------------------------------

struct InspectOptions {
    std::vector<std::string> names;
    std::string format;
};

void run_inspect(const GlobalOptions& global, const InspectOptions& o) {
    VolumeStore volumes(store_root(global));
    ordered_json out = ordered_json::array();
    std::vector<std::string> errors;
    for (const auto& name : o.names) {
        try {
            out.push_back(inspect_json(volumes.get(name)));
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kNotFound) throw;
            errors.push_back(e.what());
        }
    }
    if (o.format.empty()) {
        fmt::print("{}\n", out.dump(4, ' ', false, ordered_json::error_handler_t::replace));
    } else {
        for (const auto& item : out)
            fmt::print("{}\n", render_template(o.format, item));
    }
    std::fflush(stdout);
    for (const auto& e : errors)
        print_error(e);
    if (!errors.empty()) throw ExitCode{1};
}

// --- rm ---------------------------------------------------------------------

struct RemoveOptions {
    std::vector<std::string> names;
    bool force = false;
};

void run_rm(const GlobalOptions& global, const RemoveOptions& o) {
    VolumeStore volumes(store_root(global));
    bool failed = false;
    for (const auto& name : o.names) {
        try {
            volumes.remove(name, o.force);
            fmt::print("{}\n", name);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kNotFound && e.kind() != ErrorKind::kConflict) throw;
            std::fflush(stdout);
            print_error(e.what());
            failed = true;
        }
    }
    if (failed) throw ExitCode{1};
}

// --- prune ------------------------------------------------------------------

struct PruneOptions {
    bool force = false, all = false;
    std::vector<std::string> filters;
};

void run_prune(const GlobalOptions& global, const PruneOptions& o) {
    const FilterArgs filters = FilterArgs::parse(o.filters, {"label", "label!", "all"});
    bool all = o.all;  // all=true is -a (moby's volume prune filter)
    for (const std::string& v : filters.values("all")) {
        const std::optional<bool> b = go::strconv::parse_bool(v);
        if (!b) throw Error(ErrorKind::kUsage, fmt::format("invalid filter 'all={}'", v));
        all = all || *b;
    }
    const std::string warning =
        all ? "WARNING! This will remove all local volumes not used by at least one container."
            : "WARNING! This will remove anonymous local volumes not used by at least one "
              "container.";
    if (!o.force && !confirm(warning))
        throw Error(ErrorKind::kUsage, "volume prune has been cancelled");
    VolumeStore volumes(store_root(global));
    const auto report = volumes.prune(
        all, [&](const containers::Volume& v) { return filters.prune_labels_match(v.labels); });
    print_deleted_volumes(report);
    fmt::print("Total reclaimed space: {}\n", human_size(report.reclaimed, 4));
}

}  // namespace

void print_deleted_volumes(const containers::VolumePruneReport& report) {
    if (report.removed.empty()) return;
    fmt::print("Deleted Volumes:\n");
    for (const auto& name : report.removed)
        fmt::print("{}\n", name);
    fmt::print("\n");
}

void add_volume_commands(CLI::App& app, const GlobalOptions& global) {
    CLI::App* group = app.add_subcommand("volume", "Manage volumes");
    group->require_subcommand(1);

    auto create = std::make_shared<CreateOptions>();
    CLI::App* c = group->add_subcommand("create", "Create a volume");
    c->add_option("NAME", create->name, "Volume name (default: a random anonymous name)");
    c->add_option("--name", create->name_flag, "Volume name")->group("");
    c->add_option("-d,--driver", create->driver, "Volume driver (only \"local\")");
    c->add_option("--label", create->labels, "Set metadata for a volume (KEY=VALUE)")
        ->allow_extra_args(false);
    c->add_option("-o,--opt", create->opts, "Driver options (not supported)")
        ->allow_extra_args(false);
    c->callback([create, &global] { run_create(global, *create); });

    auto list = std::make_shared<ListOptions>();
    CLI::App* ls = group->add_subcommand("ls", "List volumes");
    ls->alias("list");
    ls->add_flag("-q,--quiet", list->quiet, "Only display volume names");
    ls->add_option("--format", list->format, "Output format: table (default) or json");
    ls->add_option("-f,--filter", list->filters,
                   "Filter output: dangling=true|false, name=…, label=KEY[=VALUE], driver=local")
        ->allow_extra_args(false);
    ls->callback([list, &global] { run_ls(global, *list); });

    auto inspect = std::make_shared<InspectOptions>();
    CLI::App* in = group->add_subcommand("inspect", "Display detailed information on volumes");
    in->add_option("VOLUME", inspect->names, "Volume names")->required();
    in->add_option("-f,--format", inspect->format, "Format the output using a Go template");
    in->callback([inspect, &global] { run_inspect(global, *inspect); });

    auto remove = std::make_shared<RemoveOptions>();
    CLI::App* rm = group->add_subcommand("rm", "Remove one or more volumes");
    rm->alias("remove");
    rm->add_option("VOLUME", remove->names, "Volume names")->required();
    rm->add_flag("-f,--force", remove->force, "Do not fail on volumes that do not exist");
    rm->callback([remove, &global] { run_rm(global, *remove); });

    auto prune = std::make_shared<PruneOptions>();
    CLI::App* pr = group->add_subcommand("prune", "Remove unused local volumes");
    pr->add_flag("-f,--force", prune->force, "Do not prompt for confirmation");
    pr->add_flag("-a,--all", prune->all, "Remove all unused volumes, not just anonymous ones");
    pr->add_option("--filter", prune->filters,
                   "Provide filter values (label=KEY[=VALUE], label!=KEY[=VALUE])");
    pr->callback([prune, &global] { run_prune(global, *prune); });
}

}  // namespace strata::cli
