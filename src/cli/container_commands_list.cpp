// `strata ps`, `strata rm`, `strata container prune` and the `strata
// container ls|rm|inspect|prune` forms, as Docker has them.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <thread>

#include "base/error.hpp"
#include "base/go/strconv.hpp"
#include "cli/container_commands.hpp"
#include "cli/filter_args.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/image_commands_template.hpp"
#include "containers/container_record.hpp"
#include "containers/run_options.hpp"
#include "containers/volume_store.hpp"
#include "store/prune.hpp"
#include "store/store_root.hpp"

namespace strata::cli {
namespace {

using containers::Container;
using containers::ContainerStore;
using containers::Status;
using nlohmann::ordered_json;
namespace fs = std::filesystem;

ContainerStore open_containers(const GlobalOptions& global) {
    return ContainerStore(store::resolve_store_root(global.root));
}

// ---- ps -----------------------------------------------------------------

struct PsOptions {
    bool all = false;
    bool quiet = false;
    bool no_trunc = false;
    std::string format;
    std::vector<std::string> filters;
};

// ps's -f: Docker's keys; status= values checked as Docker checks them.
struct PsFilter {
    FilterArgs args;

    static PsFilter parse(const std::vector<std::string>& given) {
        PsFilter f;
        f.args = FilterArgs::parse(given, {"status", "name", "id", "exited", "label", "ancestor"});
        for (const std::string& value : f.args.values("status"))
            if (value != "created" && value != "running" && value != "exited" &&
                value != "paused" && value != "restarting" && value != "removing" &&
                value != "dead")
                throw Error(ErrorKind::kUsage, fmt::format("invalid filter 'status={}'", value));
        return f;
    }

    bool has(std::string_view key) const { return args.has(key); }

    bool match(const Container& c) const {
        return args.match(
            [&](const std::string& key, const std::string& v) { return match_one(key, v, c); },
            c.spec.config.labels);
    }

  private:
    // name and id are regular expressions searched in the value, as Docker's.
    static bool search(const std::string& pattern, const std::string& text) {
        try {
            return std::regex_search(text, std::regex(pattern, std::regex::extended));
        } catch (const std::regex_error&) {
            return text.find(pattern) != std::string::npos;
        }
    }

    static bool match_one(const std::string& key, const std::string& v, const Container& c) {
        if (key == "status") return v == containers::status_name(c.state.status);
        if (key == "name") return search(v, "/" + c.name) || search(v, c.name);
        if (key == "id") return search(v, c.id);
        if (key == "ancestor")
            return v == c.spec.image_name || v == c.spec.image_id ||
                   (v.size() >= 4 && c.spec.image_id.substr(7).starts_with(v));
        if (key == "exited")
            return c.state.status == Status::kExited && c.state.exit_code &&
                   std::to_string(*c.state.exit_code) == v;
        return false;
    }
};

// docker ps' PORTS: "0.0.0.0:49153->80/tcp" for each running mapping (with
// the host port it got), then the exposed ports not published.
std::string ports_text(const Container& c) {
    if (c.state.status != Status::kRunning) return "";
    std::vector<std::string> parts;
    std::set<std::string> published;
    for (const auto& p : containers::running_ports(c)) {
        const containers::PortMapping m = containers::parse_publish(p);
        for (const auto& b : containers::port_bindings(m))
            published.insert(b.container_port);
        const auto range = [](uint16_t from, uint16_t to) {
            return to > from ? fmt::format("{}-{}", from, to) : std::to_string(from);
        };
        if (m.host_port == 0)  // not known (running_ports)
            parts.push_back(range(m.container_port, m.container_end) + "/" + m.protocol);
        else
            parts.push_back(fmt::format("{}:{}->{}/{}", m.host_ip.empty() ? "0.0.0.0" : m.host_ip,
                                        range(m.host_port, m.host_end),
                                        range(m.container_port, m.container_end), m.protocol));
    }
    for (const auto& e : c.spec.config.exposed_ports)
        if (!published.count(e)) parts.push_back(e);
    std::string out;
    for (const auto& p : parts)
        out += (out.empty() ? "" : ", ") + p;
    return out;
}

std::string image_text(const Container& c) {
    if (!c.spec.image_name.empty()) return c.spec.image_name;
    return c.spec.image_id.substr(c.spec.image_id.find(':') + 1, 12);
}

// The fields of `docker ps --format`, as strings (what its templates see).
ordered_json ps_fields(const Container& c, bool trunc, std::chrono::system_clock::time_point now) {
    std::string command = container_command(c);
    if (trunc) command = ellipsis(command, 20);
    std::string labels;
    for (const auto& [k, v] : c.spec.config.labels)
        labels += (labels.empty() ? "" : ",") + k + "=" + v;
    std::string mounts;
    int local_volumes = 0;
    for (const auto& m : c.spec.mounts) {
        if (m.type != containers::MountSpec::Type::kVolume) continue;
        ++local_volumes;
        mounts += (mounts.empty() ? "" : ",") + (trunc ? ellipsis(m.source, 15) : m.source);
    }
    ordered_json j;
    j["Command"] = go::strconv::quote(command);
    j["CreatedAt"] = created_at(c.created);
    j["ID"] = trunc ? c.short_id() : c.id;
    j["Image"] = image_text(c);
    j["Labels"] = labels;
    j["LocalVolumes"] = std::to_string(local_volumes);
    j["Mounts"] = mounts;
    j["Names"] = c.name;
    j["Networks"] = c.spec.network;
    j["Ports"] = ports_text(c);
    j["RunningFor"] = created_since(c.created);
    j["Size"] = "0B";
    j["State"] = std::string(containers::status_name(c.state.status));
    j["Status"] = containers::status_text(c.state, now);
    return j;
}

// docker/cli's header names for the table form of --format.
const std::map<std::string, std::string>& ps_headers() {
    static const std::map<std::string, std::string> h = {
        {"Command", "COMMAND"}, {"CreatedAt", "CREATED AT"}, {"ID", "CONTAINER ID"},
        {"Image", "IMAGE"},     {"Labels", "LABELS"},        {"LocalVolumes", "LOCAL VOLUMES"},
        {"Mounts", "MOUNTS"},   {"Names", "NAMES"},          {"Networks", "NETWORKS"},
        {"Ports", "PORTS"},     {"RunningFor", "CREATED"},   {"Size", "SIZE"},
        {"State", "STATE"},     {"Status", "STATUS"}};
    return h;
}

// docker/cli turns the two-character sequences \t and \n of a format into
// the characters (users pass them in single quotes).
std::string unescape_format(std::string_view f) {
    std::string out;
    for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
            out += f[i + 1] == 't' ? '\t' : '\n';
            ++i;
        } else {
            out += f[i];
        }
    }
    return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> cells;
    size_t start = 0;
    for (;;) {
        auto tab = line.find('\t', start);
        cells.push_back(line.substr(start, tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
    }
    return cells;
}

void run_ps(const GlobalOptions& global, const PsOptions& opts) {
    auto filter = PsFilter::parse(opts.filters);
    auto store = open_containers(global);
    const auto now = std::chrono::system_clock::now();
    // A status filter looks at every container, as Docker's does.
    const bool all = opts.all || filter.has("status") || filter.has("exited");
    std::vector<Container> shown;
    for (auto& c : store.list()) {
        store.refresh(c);
        if (!all && c.state.status != Status::kRunning) continue;
        if (!filter.match(c)) continue;
        shown.push_back(std::move(c));
    }
    const bool trunc = !opts.no_trunc;
    if (opts.quiet) {
        for (const auto& c : shown)
            fmt::print("{}\n", trunc ? c.short_id() : c.id);
        return;
    }
    if (opts.format == "json") {
        for (const auto& c : shown)
            fmt::print("{}\n", ps_fields(c, trunc, now).dump());
        return;
    }
    if (!opts.format.empty() && opts.format != "table") {
        std::string tmpl = unescape_format(opts.format);
        const bool table = tmpl.starts_with("table ") || tmpl == "table";
        if (!table) {
            for (const auto& c : shown)
                fmt::print("{}\n", render_template(tmpl, ps_fields(c, trunc, now)));
            return;
        }
        tmpl = tmpl.substr(std::min<size_t>(tmpl.size(), 6));
        ordered_json header;
        for (const auto& [field, name] : ps_headers())
            header[field] = name;
        Table out(split_tabs(render_template(tmpl, header)));
        for (const auto& c : shown)
            out.add(split_tabs(render_template(tmpl, ps_fields(c, trunc, now))));
        fmt::print("{}", out.render());
        return;
    }
    Table out({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
    for (const auto& c : shown) {
        auto f = ps_fields(c, trunc, now);
        out.add({f["ID"], f["Image"], f["Command"], f["RunningFor"], f["Status"], f["Ports"],
                 f["Names"]});
    }
    fmt::print("{}", out.render());
}

// ---- rm -----------------------------------------------------------------

struct RmOptions {
    std::vector<std::string> containers;
    bool force = false;
    bool volumes = false;
};

// SIGKILL to the container's init (only if it is still the process we
// started), then wait until it is gone.
void kill_and_wait(const Container& c) {
    const auto& s = c.state;
    if (!containers::process_alive(s.pid, s.pid_start)) return;
    if (::kill(s.pid, SIGKILL) != 0 && errno != ESRCH)
        throw system_error("kill", fmt::format("pid {} of container {}", s.pid, c.short_id()));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (containers::process_alive(s.pid, s.pid_start)) {
        if (std::chrono::steady_clock::now() > deadline)
            throw Error(ErrorKind::kSystem,
                        fmt::format("container {}: its init (pid {}) did not die 30 s after "
                                    "SIGKILL; is it stuck in the kernel (state D)?",
                                    c.short_id(), s.pid));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void remove_one(ContainerStore& store, const std::string& arg, const RmOptions& opts) {
    Container c = store.get(arg);
    store.refresh(c);
    const bool killed = opts.force && c.state.status == Status::kRunning;
    if (killed) kill_and_wait(c);
    try {
        auto lock = store.lock(c);
        store.reload_state(c);
        if (c.state.status == Status::kRunning &&
            containers::process_alive(c.state.pid, c.state.pid_start)) {
            if (!opts.force) containers::check_removable(c);
            // Started again between our kill and the lock: once more.
            kill_and_wait(c);
        }
        store.remove(c);
    } catch (const Error& e) {
        // The holder of a --rm container removes it once its init died.
        if (!(killed && e.kind() == ErrorKind::kNotFound)) throw;
    }
    // After the record is gone, so that `c` no longer counts as a user; a
    // volume another container shares (--volumes-from) stays.
    if (opts.volumes) containers::remove_anonymous_volumes(store.store_root(), c);
}

void run_rm(const GlobalOptions& global, const RmOptions& opts) {
    auto store = open_containers(global);
    bool failed = false;
    for (const auto& arg : opts.containers) {
        try {
            remove_one(store, arg, opts);
            fmt::print("{}\n", arg);
            std::fflush(stdout);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::kInternal) throw;
            print_error(e.what());
            failed = true;
        }
    }
    if (failed) throw ExitCode{1};
}

// ---- prune --------------------------------------------------------------

struct PruneOptions {
    bool force = false;
    std::vector<std::string> filters;
};

void run_prune(const GlobalOptions& global, const PruneOptions& opts) {
    const FilterArgs filters = FilterArgs::parse(opts.filters, {"label", "label!", "until"});
    filters.prune_until();  // a bad time is refused before the question
    if (!opts.force && !confirm("WARNING! This will remove all stopped containers.")) return;
    const ContainerPruneResult r = prune_stopped_containers(global, filters);
    print_deleted_containers(r);
    fmt::print("Total reclaimed space: {}\n", human_size(r.reclaimed));
}

// ---- container inspect --------------------------------------------------

struct InspectOptions {
    std::vector<std::string> containers;
    std::string format;
};

void run_container_inspect(const GlobalOptions& global, const InspectOptions& opts) {
    auto store = open_containers(global);
    ordered_json out = ordered_json::array();
    std::vector<std::string> errors;
    for (const auto& arg : opts.containers) {
        auto c = store.find(arg);
        if (!c) {
            errors.push_back(fmt::format("No such container: {}", arg));
            continue;
        }
        store.refresh(*c);
        out.push_back(container_inspect_json(*c));
    }
    if (opts.format.empty()) {
        fmt::print("{}\n", out.dump(4, ' ', false, ordered_json::error_handler_t::replace));
    } else {
        for (const auto& item : out)
            fmt::print("{}\n", render_template(unescape_format(opts.format), item));
    }
    std::fflush(stdout);
    for (const auto& e : errors)
        print_error(e);
    if (!errors.empty()) throw ExitCode{1};
}

// ---- registration -------------------------------------------------------

void add_ps(CLI::App* cmd, const GlobalOptions& global) {
    auto opts = std::make_shared<PsOptions>();
    cmd->add_flag("-a,--all", opts->all, "Show all containers (default shows just running)");
    cmd->add_flag("-q,--quiet", opts->quiet, "Only display container IDs");
    cmd->add_flag("--no-trunc", opts->no_trunc, "Don't truncate output");
    cmd->add_option("--format", opts->format,
                    "table, json, or a Go-template subset: '{{.ID}}\\t{{.Names}}', "
                    "'table {{.ID}}\\t{{.Status}}'");
    cmd->add_option("-f,--filter", opts->filters,
                    "Filter output: status=created|running|exited, name=, id=, exited=CODE, "
                    "label=KEY[=VALUE], ancestor=IMAGE");
    cmd->callback([opts, &global] { run_ps(global, *opts); });
}

void add_rm(CLI::App* cmd, const GlobalOptions& global) {
    auto opts = std::make_shared<RmOptions>();
    cmd->add_flag("-f,--force", opts->force, "Force the removal of a running container (SIGKILL)");
    cmd->add_flag("-v,--volumes", opts->volumes,
                  "Remove anonymous volumes associated with the container");
    cmd->add_option("containers", opts->containers, "CONTAINER (name, ID or ID prefix)")
        ->required();
    cmd->callback([opts, &global] { run_rm(global, *opts); });
}

void add_prune(CLI::App* cmd, const GlobalOptions& global) {
    auto opts = std::make_shared<PruneOptions>();
    cmd->add_option("--filter", opts->filters,
                    "Provide filter values (until=24h, label=KEY[=VALUE], label!=KEY[=VALUE])");
    cmd->add_flag("-f,--force", opts->force, "Do not prompt for confirmation");
    cmd->callback([opts, &global] { run_prune(global, *opts); });
}

void add_container_inspect(CLI::App* cmd, const GlobalOptions& global) {
    auto opts = std::make_shared<InspectOptions>();
    cmd->add_option("-f,--format", opts->format,
                    "Format with a Go-template subset: {{.State.Status}}, {{json .Config}}");
    cmd->add_option("containers", opts->containers, "CONTAINER (name, ID or ID prefix)")
        ->required();
    cmd->callback([opts, &global] { run_container_inspect(global, *opts); });
}

}  // namespace

ContainerPruneResult prune_stopped_containers(const GlobalOptions& global,
                                              const FilterArgs& filters) {
    auto store = open_containers(global);
    ContainerPruneResult r;
    const std::optional<store::Timestamp> until = filters.prune_until();
    for (auto& c : store.list()) {
        store.refresh(c);
        if (c.state.status == Status::kRunning) continue;
        if (!filters.prune_labels_match(c.spec.config.labels)) continue;
        if (until) {
            const auto created = store::parse_timestamp(c.created);
            if (created && *until < *created) continue;
        }
        try {
            auto lock = store.lock(c);
            store.reload_state(c);
            if (c.state.status == Status::kRunning) continue;  // started meanwhile
            const uint64_t size = store::tree_size(c.upper());
            store.remove(c);
            r.reclaimed += size;
            r.deleted.push_back(c.id);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kNotFound) throw;  // removed meanwhile
        }
    }
    return r;
}

void print_deleted_containers(const ContainerPruneResult& r) {
    if (r.deleted.empty()) return;
    fmt::print("Deleted Containers:\n");
    for (const auto& id : r.deleted)
        fmt::print("{}\n", id);
    fmt::print("\n");
}

namespace {

// `port CONTAINER [PRIVATE_PORT[/PROTO]]`: where a running container's
// published ports are on the host, as docker port prints them.
struct PortOptions {
    std::string container;
    std::string private_port;
};

void run_port(const GlobalOptions& global, const PortOptions& o) {
    auto store = open_containers(global);
    auto c = store.find(o.container);
    if (!c) throw Error(ErrorKind::kNotFound, fmt::format("No such container: {}", o.container));
    store.refresh(*c);
    std::vector<std::pair<std::pair<uint32_t, std::string>, std::string>> rows;  // port, line
    std::string want = o.private_port;
    if (!want.empty() && want.find('/') == std::string::npos) want += "/tcp";
    if (c->state.status == Status::kRunning)
        for (const auto& p : containers::running_ports(*c))
            for (const auto& b : containers::port_bindings(containers::parse_publish(p))) {
                if (b.host_port == 0 || (!want.empty() && b.container_port != want)) continue;
                const std::string ip = b.host_ip.empty() ? "0.0.0.0"
                                       : b.host_ip.find(':') != std::string::npos
                                           ? "[" + b.host_ip + "]"
                                           : b.host_ip;
                const std::string host = fmt::format("{}:{}", ip, b.host_port);
                const auto slash = b.container_port.find('/');
                rows.push_back(
                    {{static_cast<uint32_t>(std::stoul(b.container_port.substr(0, slash))),
                      b.container_port.substr(slash + 1)},
                     want.empty() ? b.container_port + " -> " + host : host});
            }
    if (!want.empty() && rows.empty())
        throw Error(ErrorKind::kNotFound,
                    fmt::format("No public port '{}' published for {}", want, o.container));
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& r : rows)
        fmt::print("{}\n", r.second);
}

void add_port(CLI::App* cmd, const GlobalOptions& global) {
    auto o = std::make_shared<PortOptions>();
    cmd->add_option("container", o->container, "CONTAINER (name, ID or ID prefix)")->required();
    cmd->add_option("private_port", o->private_port, "PRIVATE_PORT[/PROTO]");
    cmd->callback([o, &global] { run_port(global, *o); });
}

}  // namespace

CLI::App& container_command_group(CLI::App& app) {
    for (CLI::App* sub :
         app.get_subcommands([](CLI::App* a) { return a->get_name() == "container"; }))
        return *sub;
    CLI::App* group = app.add_subcommand("container", "Manage containers");
    group->require_subcommand(1);
    return *group;
}

void add_container_list_commands(CLI::App& app, const GlobalOptions& global) {
    add_ps(app.add_subcommand("ps", "List containers"), global);
    add_rm(app.add_subcommand("rm", "Remove one or more containers"), global);
    add_port(
        app.add_subcommand("port", "List port mappings or a specific mapping for the container"),
        global);
    add_top(app.add_subcommand("top", "Display the running processes of a container"), global);

    CLI::App& group = container_command_group(app);
    add_ps(group.add_subcommand("ls", "List containers")->alias("list")->alias("ps"), global);
    add_rm(group.add_subcommand("rm", "Remove one or more containers")->alias("remove"), global);
    add_prune(group.add_subcommand("prune", "Remove all stopped containers"), global);
    add_port(
        group.add_subcommand("port", "List port mappings or a specific mapping for the container"),
        global);
    add_top(group.add_subcommand("top", "Display the running processes of a container"), global);
    add_container_inspect(
        group.add_subcommand("inspect", "Display detailed information on one or more containers"),
        global);
}

}  // namespace strata::cli
