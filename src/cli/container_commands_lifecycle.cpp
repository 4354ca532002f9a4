// The commands that follow a container after it was started:
//   strata logs [-f] [--tail N] [-t] CTR
//   strata stop [-t SECS] CTR...       the image's StopSignal, then SIGKILL
//   strata kill [-s SIG] CTR...
//   strata wait CTR...
//   strata restart [-t SECS] CTR...
// and the hidden `strata container-monitor`, the holder of a detached
// container (containers/container_monitor.hpp).
#include <fmt/format.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "base/error.hpp"
#include "base/process_ref.hpp"
#include "base/signal_names.hpp"
#include "cli/commands.hpp"
#include "cli/container_detach.hpp"
#include "cli/image_commands_common.hpp"
#include "containers/container_log.hpp"
#include "containers/container_monitor.hpp"
#include "containers/container_record.hpp"
#include "containers/container_runner.hpp"

namespace strata::cli {

namespace fs = std::filesystem;
using containers::Container;
using containers::ContainerStore;
using containers::Status;

namespace {

// Wakes when something in the container's directory changes (the log
// grows, state.json is replaced), or after `timeout`.
class DirWatch {
  public:
    explicit DirWatch(const fs::path& dir) : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
        if (fd_) ::inotify_add_watch(fd_.get(), dir.c_str(), IN_MODIFY | IN_MOVED_TO | IN_CREATE);
    }
    void wait(std::chrono::milliseconds timeout) {
        if (!fd_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return;
        }
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) > 0) {
            char buf[4096];
            while (::read(fd_.get(), buf, sizeof buf) > 0) {
            }
        }
    }

  private:
    UniqueFd fd_;
};

bool is_running(ContainerStore& containers, Container& c) {
    containers.reload_state(c);
    containers.refresh(c);
    return c.state.status == Status::kRunning;
}

// Waits until a running container has ended and its holder has recorded
// how (or is found dead: "Exited (unknown)").
void wait_stopped(ContainerStore& containers, Container& c,
                  std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                  : std::chrono::steady_clock::time_point::max();
    DirWatch watch(c.dir);
    while (is_running(containers, c)) {
        if (std::chrono::steady_clock::now() >= deadline) return;
        const ProcessRef init(c.state.pid, c.state.pid_start);
        if (init.alive()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            init.wait_gone(timeout ? std::optional(left) : std::nullopt);
        } else {
            // The holder is recording the exit code.
            watch.wait(std::chrono::milliseconds(100));
        }
    }
}

int signal_or_usage(const std::string& name, const std::string& what) {
    if (auto n = signal_number(name)) return *n;
    throw Error(ErrorKind::kUsage, fmt::format("invalid signal: {} ({})", name, what));
}

// Docker's stop: the StopSignal (--stop-signal, the image's STOPSIGNAL,
// else SIGTERM), `timeout` seconds (-t, --stop-timeout, else 10), SIGKILL.
void stop_container(ContainerStore& containers, Container& c, std::optional<int> timeout_flag) {
    if (!is_running(containers, c)) return;
    const std::string& sig_name = c.spec.config.stop_signal;
    const int sig = sig_name.empty() ? SIGTERM : signal_or_usage(sig_name, "the stop signal");
    const int timeout = timeout_flag.value_or(c.spec.stop_timeout.value_or(10));
    const ProcessRef init(c.state.pid, c.state.pid_start);
    if (timeout != 0) init.signal(sig);
    if (timeout < 0) {
        init.wait_gone(std::nullopt);
    } else if (!init.wait_gone(std::chrono::seconds(timeout))) {
        init.signal(SIGKILL);
        init.wait_gone(std::nullopt);
    }
    wait_stopped(containers, c, std::chrono::seconds(10));
}

struct LogsOptions {
    bool follow = false, timestamps = false;
    std::string tail = "all";
    std::string container;
};

void print_entry(const containers::LogEntry& e, bool timestamps) {
    FILE* out = e.is_stderr ? stderr : stdout;
    if (timestamps) fmt::print(out, "{} ", e.time);
    std::fwrite(e.log.data(), 1, e.log.size(), out);
    std::fflush(out);
}

void run_logs(const GlobalOptions& global, const LogsOptions& o) {
    auto store = open_store(global);
    ContainerStore containers(store->root());
    Container c = containers.get(o.container);
    std::optional<size_t> tail;
    if (o.tail != "all") {
        try {
            size_t used = 0;
            const long n = std::stol(o.tail, &used);
            if (used != o.tail.size()) throw std::invalid_argument("trailing");
            if (n >= 0) tail = static_cast<size_t>(n);
        } catch (const std::logic_error&) {
            throw Error(
                ErrorKind::kUsage,
                fmt::format("invalid value for \"tail\": {} (a number or \"all\")", o.tail));
        }
    }
    uint64_t offset = 0;
    for (const auto& e : containers::tail_log(c.log_file(), tail, &offset))
        print_entry(e, o.timestamps);
    if (!o.follow) return;
    DirWatch watch(c.dir);
    for (;;) {
        const bool running = is_running(containers, c);
        offset = containers::read_log(c.log_file(), offset, [&](const containers::LogEntry& e) {
            print_entry(e, o.timestamps);
        });
        if (!running) return;
        watch.wait(std::chrono::milliseconds(1000));
    }
}

struct StopOptions {
    std::optional<int> timeout;
    std::vector<std::string> containers;
};

// Runs `each` for every named container; a failure is printed and the rest
// still done, and the command then exits 1 (as docker does).
template <typename F>
void for_each_container(const GlobalOptions& global, const std::vector<std::string>& names,
                        F each) {
    auto store = open_store(global);
    ContainerStore containers(store->root());
    bool failed = false;
    for (const std::string& name : names) {
        try {
            Container c = containers.get(name);
            each(*store, containers, c, name);
        } catch (const Error& e) {
            print_error(e.what());
            failed = true;
        }
    }
    if (failed) throw ExitCode{1};
}

struct MonitorOptions {
    int ready_fd = -1;
    std::string container;
};

// The hidden monitor command: runs the container to its end. Its stdio is
// /dev/null; what goes wrong goes to the spawner through ready_fd, or into
// state.json.
void run_monitor(const GlobalOptions& global, MonitorOptions o) {
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    try {
        auto store = open_store(global);
        ContainerStore containers(store->root());
        Container c = containers.get(o.container);
        containers::RunIo io;
        io.output = [](std::string_view, bool) {};  // the runner writes the log
        io.on_started = [&] { containers::report_to_spawner(o.ready_fd, ""); };
        const int code = containers::run_container(*store, containers, c, io);
        if (o.ready_fd >= 0) {
            // Never ran: tell the spawner why (Docker's `run -d nosuch` fails too).
            const std::string why = c.state.error.empty()
                                        ? fmt::format("the container exited with code {}", code)
                                        : c.state.error;
            containers::report_to_spawner(o.ready_fd, why);
        }
    } catch (const std::exception& e) {
        containers::report_to_spawner(o.ready_fd, e.what());
        throw ExitCode{125};
    }
}

}  // namespace

void start_detached(const GlobalOptions& global, const fs::path& store_root, const Container& c) {
    std::vector<std::string> args = {"--root", fs::absolute(store_root).string()};
    for (const auto& r : global.registry.insecure_registries) {
        args.push_back("--insecure-registry");
        args.push_back(r);
    }
    args.push_back("container-monitor");
    args.push_back(c.id);
    const containers::MonitorReport r =
        containers::spawn_monitor(containers::self_executable(), args);
    if (!r.started) throw Error(ErrorKind::kSystem, r.error);
}

namespace {

// logs, stop, restart, kill, wait, rename: on the top level and under `container`.
void add_lifecycle_commands_to(CLI::App& app, const GlobalOptions& global) {
    {
        auto names = std::make_shared<std::pair<std::string, std::string>>();
        CLI::App* cmd = app.add_subcommand("rename", "Rename a container");
        cmd->add_option("container", names->first, "CONTAINER (name, ID or ID prefix)")->required();
        cmd->add_option("new_name", names->second, "NEW_NAME")->required();
        cmd->callback([&global, names] {
            auto store = open_store(global);
            ContainerStore containers(store->root());
            Container c = containers.get(names->first);
            containers.rename(c, names->second);
        });
    }
    {
        auto o = std::make_shared<LogsOptions>();
        CLI::App* cmd = app.add_subcommand("logs", "Fetch the logs of a container");
        cmd->add_flag("-f,--follow", o->follow, "Follow log output");
        cmd->add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
        cmd->add_option("-n,--tail", o->tail, "Number of lines to show from the end of the logs")
            ->default_str("all");
        cmd->add_option("container", o->container, "Container")->required();
        cmd->callback([&global, o] { run_logs(global, *o); });
    }
    {
        auto o = std::make_shared<StopOptions>();
        CLI::App* cmd = app.add_subcommand("stop", "Stop one or more running containers");
        cmd->add_option("-t,--time", o->timeout, "Seconds to wait before killing the container");
        cmd->add_option("containers", o->containers, "Containers")->required();
        cmd->callback([&global, o] {
            for_each_container(
                global, o->containers,
                [&](store::ImageStore&, ContainerStore& cs, Container& c, const std::string& name) {
                    stop_container(cs, c, o->timeout);
                    fmt::print("{}\n", name);
                });
        });
    }
    {
        auto o = std::make_shared<StopOptions>();
        CLI::App* cmd = app.add_subcommand("restart", "Restart one or more containers");
        cmd->add_option("-t,--time", o->timeout, "Seconds to wait before killing the container");
        cmd->add_option("containers", o->containers, "Containers")->required();
        cmd->callback([&global, o] {
            for_each_container(global, o->containers,
                               [&](store::ImageStore& store, ContainerStore& cs, Container& c,
                                   const std::string& name) {
                                   stop_container(cs, c, o->timeout);
                                   start_detached(global, store.root(), c);
                                   fmt::print("{}\n", name);
                               });
        });
    }
    {
        auto signal = std::make_shared<std::string>("KILL");
        auto names = std::make_shared<std::vector<std::string>>();
        CLI::App* cmd = app.add_subcommand("kill", "Kill one or more running containers");
        cmd->add_option("-s,--signal", *signal, "Signal to send to the container")
            ->default_str("KILL");
        cmd->add_option("containers", *names, "Containers")->required();
        cmd->callback([&global, signal, names] {
            const int sig = signal_or_usage(*signal, "--signal");
            for_each_container(
                global, *names,
                [&](store::ImageStore&, ContainerStore& cs, Container& c, const std::string& name) {
                    const ProcessRef init(c.state.pid, c.state.pid_start);
                    if (!is_running(cs, c) || !init.signal(sig))
                        throw Error(ErrorKind::kConflict,
                                    fmt::format("Cannot kill container: {}: Container {} is not "
                                                "running",
                                                name, c.id));
                    fmt::print("{}\n", name);
                });
        });
    }
    {
        auto names = std::make_shared<std::vector<std::string>>();
        CLI::App* cmd = app.add_subcommand(
            "wait", "Block until one or more containers stop, then print their exit codes");
        cmd->add_option("containers", *names, "Containers")->required();
        cmd->callback([&global, names] {
            for_each_container(
                global, *names,
                [&](store::ImageStore&, ContainerStore& cs, Container& c, const std::string&) {
                    cs.reload_state(c);
                    DirWatch watch(c.dir);
                    // A created container: its next exit, as Docker waits.
                    while (c.state.status == Status::kCreated) {
                        watch.wait(std::chrono::milliseconds(1000));
                        cs.reload_state(c);
                    }
                    wait_stopped(cs, c);
                    if (c.state.exit_code) {
                        fmt::print("{}\n", *c.state.exit_code);
                    } else {
                        std::fflush(stdout);
                        fmt::print(stderr,
                                   "strata: warning: the exit code of {} is unknown "
                                   "(its monitor ended first)\n",
                                   c.short_id());
                        fmt::print(
                            "255\n");  // inspect's State.ExitCode for it, as Docker after a crash
                    }
                    std::fflush(stdout);
                });
        });
    }
}

}  // namespace

void add_container_lifecycle_commands(CLI::App& app, const GlobalOptions& global) {
    add_lifecycle_commands_to(app, global);
    add_lifecycle_commands_to(container_command_group(app), global);
    {
        auto o = std::make_shared<MonitorOptions>();
        CLI::App* cmd = app.add_subcommand("container-monitor", "");
        cmd->group("");  // hidden: started by run -d, start, restart
        cmd->add_option("--ready-fd", o->ready_fd);
        cmd->add_option("container", o->container)->required();
        cmd->callback([&global, o] { run_monitor(global, *o); });
    }
}

}  // namespace strata::cli
