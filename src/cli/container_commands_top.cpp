// `strata top CONTAINER [ps OPTIONS]`: the processes of a running container
// as Docker's daemon lists them — the host's `ps` (default `-ef`), its rows
// kept for the pids in the container's pid namespace, the PID column found
// by its title, everything seen from the host.
#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "base/error.hpp"
#include "base/run_program.hpp"
#include "cli/container_commands.hpp"
#include "cli/image_commands_common.hpp"
#include "containers/container_record.hpp"
#include "store/store_root.hpp"

namespace strata::cli {
namespace {

namespace fs = std::filesystem;

std::string pid_namespace(const std::string& pid) {
    std::error_code ec;
    const fs::path link = fs::read_symlink(fs::path("/proc") / pid / "ns/pid", ec);
    return ec ? std::string() : link.string();
}

// The host pids of every process in the namespace of `init`.
std::set<std::string> namespace_pids(int init) {
    std::set<std::string> out;
    const std::string ns = pid_namespace(std::to_string(init));
    if (ns.empty()) return out;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (pid_namespace(name) == ns) out.insert(name);
    }
    return out;
}

// Splits on ASCII blanks only (moby's fieldsASCII: a command's Unicode
// spaces stay in it).
std::vector<std::string> fields(std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        const size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start) out.emplace_back(line.substr(start, i - start));
    }
    return out;
}

struct TopOptions {
    std::string container;
    std::vector<std::string> ps_args;
};

void run_top(const GlobalOptions& global, const TopOptions& o) {
    containers::ContainerStore store(store::resolve_store_root(global.root));
    containers::Container c = store.get(o.container);
    store.refresh(c);
    if (c.state.status != containers::Status::kRunning || c.state.pid <= 0)
        throw Error(ErrorKind::kConflict, fmt::format("Container {} is not running", c.id));
    const std::set<std::string> pids = namespace_pids(c.state.pid);
    ProgramRun ps;
    ps.program = "ps";
    ps.args = o.ps_args.empty() ? std::vector<std::string>{"-ef"} : o.ps_args;
    const ProgramResult r = run_program(ps);
    if (!r.succeeded())
        throw Error(ErrorKind::kSystem,
                    fmt::format("Error running ps: {}: {}", r.how(), r.err.substr(0, 500)));
    std::vector<std::string> lines;
    for (size_t start = 0; start < r.out.size();) {
        const size_t nl = r.out.find('\n', start);
        lines.push_back(r.out.substr(start, nl == std::string::npos ? nl : nl - start));
        start = nl == std::string::npos ? r.out.size() : nl + 1;
    }
    if (lines.empty()) throw Error(ErrorKind::kSystem, "ps printed nothing");
    const std::vector<std::string> titles = fields(lines[0]);
    size_t pid_col = titles.size();
    for (size_t i = 0; i < titles.size(); ++i)
        if (titles[i] == "PID") pid_col = i;
    if (pid_col == titles.size())
        throw Error(ErrorKind::kSystem, "Couldn't find PID field in ps output");
    Table table(titles, 20);
    for (size_t l = 1; l < lines.size(); ++l) {
        std::vector<std::string> f = fields(lines[l]);
        if (f.size() <= pid_col || !pids.count(f[pid_col])) continue;
        if (f.size() > titles.size()) {  // the last column (a command) keeps its blanks
            std::string last = f[titles.size() - 1];
            for (size_t i = titles.size(); i < f.size(); ++i)
                last += " " + f[i];
            f.resize(titles.size());
            f.back() = last;
        }
        table.add(std::move(f));
    }
    fmt::print("{}", table.render());
}

}  // namespace

void add_top(CLI::App* cmd, const GlobalOptions& global) {
    auto o = std::make_shared<TopOptions>();
    cmd->prefix_command();  // ps options after the container are ps's
    cmd->add_option("container", o->container, "CONTAINER (name, ID or ID prefix)")->required();
    cmd->callback([o, cmd, &global] {
        o->ps_args = cmd->remaining();
        run_top(global, *o);
    });
}

}  // namespace strata::cli
