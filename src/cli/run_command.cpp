// `strata run [OPTIONS] IMAGE [COMMAND [ARG...]]`, `strata create`,
// `strata start [-a] [-i] CTR...` and `strata exec [OPTIONS] CTR CMD...`:
// containers/run_options.hpp turns the flags into a ContainerSpec by Docker's
// rules, ContainerStore records it, and containers/container_runner.hpp runs
// it — in this process (foreground), or under the detached monitor (-d,
// start without -a: cli/container_detach.hpp).
//
// Exit codes as docker's: the container's; 125 when strata itself fails (a
// bad flag, no such image, a container that could not be set up); 126 and
// 127 when the command cannot be run or is not found.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <memory>
#include <system_error>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/container_detach.hpp"
#include "cli/image_commands_common.hpp"
#include "cli/pull_push.hpp"
#include "cli/rootless.hpp"
#include "containers/container_record.hpp"
#include "containers/container_runner.hpp"
#include "containers/mount_options.hpp"
#include "containers/run_options.hpp"
#include "containers/volume_mounts.hpp"
#include "planner/build_plan.hpp"
#include "sandbox/user_namespace.hpp"

namespace strata::cli {

namespace {

using containers::Container;
using containers::ContainerStore;

// Docker's documentation on --privileged (docker container run reference).
constexpr const char* kPrivilegedWarning =
    "WARNING: Use the --privileged flag with caution. A container with --privileged is not a "
    "securely sandboxed process. Containers in this mode can get a root shell on the host and "
    "take control over the system.";

struct RunCommandFlags {
    containers::RunFlags run;
    containers::MountFlags mounts;
    std::string entrypoint;  // given when count("--entrypoint")
    std::string workdir, user, name;
    bool detach = false, init = false;
    std::vector<std::string> args;  // IMAGE [COMMAND [ARG...]] (the rest of the line)
};

// A repeatable option taking one value per occurrence (-e A -e B), which
// never swallows the IMAGE that follows it.
CLI::Option* repeated(CLI::App* cmd, const std::string& names, std::vector<std::string>& into,
                      const std::string& help) {
    return cmd->add_option(names, into, help)
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_run_flags(CLI::App* cmd, RunCommandFlags& f, bool run) {
    cmd->set_help_flag("--help", "Print usage");  // -h is --hostname, as Docker's
    cmd->prefix_command();  // everything from IMAGE on is the image and its command
    cmd->allow_extras();
    containers::RunFlags& r = f.run;
    if (run)
        cmd->add_flag("-d,--detach", f.detach,
                      "Run container in background and print container ID");
    cmd->add_option("--entrypoint", f.entrypoint, "Overwrite the default ENTRYPOINT of the image");
    repeated(cmd, "-e,--env", r.env, "Set environment variables");
    repeated(cmd, "--env-file", r.env_files, "Read in a file of environment variables");
    repeated(cmd, "-l,--label", r.labels, "Set meta data on a container (KEY=VALUE, or KEY)");
    cmd->add_option("-w,--workdir", f.workdir, "Working directory inside the container");
    cmd->add_option("-u,--user", f.user, "Username or UID (format: <name|uid>[:<group|gid>])");
    cmd->add_option("-h,--hostname", r.hostname, "Container host name");
    cmd->add_option("--name", f.name, "Assign a name to the container");
    cmd->add_flag("--rm", r.auto_remove, "Automatically remove the container when it exits");
    cmd->add_flag("--read-only", r.read_only, "Mount the container's root filesystem as read only");
    repeated(cmd, "--tmpfs", f.mounts.tmpfs, "Mount a tmpfs directory");
    repeated(cmd, "-v,--volume", f.mounts.volumes, "Bind mount a volume");
    repeated(cmd, "--mount", f.mounts.mounts, "Attach a filesystem mount to the container");
    repeated(cmd, "--volumes-from", f.mounts.volumes_from,
             "Mount volumes from the specified container(s)");
    cmd->add_option("--network,--net", r.network,
                    "Connect a container to a network: default (private, through pasta), host, "
                    "none");
    repeated(cmd, "-p,--publish", r.publish, "Publish a container's port(s) to the host");
    repeated(cmd, "--cap-add", r.cap_add, "Add Linux capabilities");
    repeated(cmd, "--cap-drop", r.cap_drop, "Drop Linux capabilities");
    cmd->add_flag("--privileged", r.privileged, "Give extended privileges to this container");
    repeated(cmd, "--security-opt", r.security_opt, "Security Options");
    cmd->add_option("-m,--memory", r.memory, "Memory limit");
    cmd->add_option("--cpus", r.cpus, "Number of CPUs");
    cmd->add_option("--pids-limit", r.pids_limit,
                    "Tune container pids limit (set -1 for unlimited)");
    cmd->add_option("--stop-signal", r.stop_signal, "Signal to stop the container");
    cmd->add_option("--stop-timeout", r.stop_timeout, "Timeout (in seconds) to stop a container");
    cmd->add_flag("-i,--interactive", r.interactive, "Keep STDIN open even if not attached");
    cmd->add_flag("-t,--tty", r.tty, "Allocate a pseudo-TTY");
    cmd->add_flag("--init", f.init,
                  "Run an init inside the container (always: strata-init is PID 1)");
    cmd->add_option("--pull", r.pull,
                    "Pull image before running (\"always\", \"missing\", \"never\")");
}

// The terminal in raw mode while a -it container runs, restored however we leave.
class RawTerminal {
  public:
    void enter(int fd) {
        if (fd_ >= 0 || !::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
    }
    ~RawTerminal() {
        if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
    }

  private:
    int fd_ = -1;
    termios saved_{};
};

void write_out(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t w = ::write(fd, bytes.data(), bytes.size());
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;  // a closed pipe: the container goes on, as with docker
        bytes.remove_prefix(static_cast<size_t>(w));
    }
}

// The RunIo of a container attached to this process's stdio.
containers::RunIo attached_io(bool interactive, bool tty, RawTerminal& terminal) {
    containers::RunIo io;
    io.stdin_fd = interactive ? STDIN_FILENO : -1;
    io.output = [](std::string_view bytes, bool is_stderr) {
        write_out(is_stderr ? STDERR_FILENO : STDOUT_FILENO, bytes);
    };
    if (tty && interactive) io.on_terminal = [&terminal](int) { terminal.enter(STDIN_FILENO); };
    return io;
}

// The image to run: from the store, pulled first as FROM pulls a missing
// image (--pull missing), always (--pull always) or never.
store::ImageMatch find_image(const GlobalOptions& global, store::ImageStore& store,
                             const std::string& text, const std::string& pull) {
    if (pull != "missing" && pull != "always" && pull != "never")
        throw Error(ErrorKind::kUsage,
                    fmt::format("invalid pull option: '{}': must be one of \"always\", "
                                "\"missing\" or \"never\"",
                                pull));
    std::optional<store::ImageMatch> found;
    if (pull != "always") {
        try {
            found = store.lookup(text);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kNotFound || pull == "never") throw;
        }
        if (found) return *found;
    }
    const auto ref = store::Reference::try_parse(text);
    if (!ref) throw Error(ErrorKind::kNotFound, fmt::format("No such image: {}", text));
    const store::Reference named = ref->name_only() ? ref->with_default_tag() : *ref;
    if (pull == "missing")
        fmt::print(stderr, "Unable to find image '{}' locally\n", named.familiar());
    const executor::ImagePuller puller = make_image_puller(global, store);
    puller(named, planner::host_platform(),
           [](std::string_view line) { fmt::print(stderr, "{}\n", line); });
    return store.lookup(named.str());
}

// Makes the container of `run` / `create`.
Container create_container(const GlobalOptions& global, store::ImageStore& store,
                           ContainerStore& containers, RunCommandFlags& f) {
    if (!f.args.empty() && f.args.front().size() > 1 && f.args.front().front() == '-')
        throw Error(ErrorKind::kUsage, fmt::format("unknown flag: {}", f.args.front()));
    if (f.args.empty())
        throw Error(ErrorKind::kUsage, "\"strata run\" requires at least 1 argument: IMAGE");
    containers::RunFlags& r = f.run;
    r.command.assign(f.args.begin() + 1, f.args.end());
    if (!f.workdir.empty()) r.workdir = f.workdir;
    if (!f.user.empty()) r.user = f.user;
    if (r.privileged) {
        if (::geteuid() != 0 || sandbox::in_user_namespace())
            throw Error(ErrorKind::kUsage,
                        "--privileged is allowed only when strata runs as root: rootless strata "
                        "cannot give a container the host's devices and every capability");
        fmt::print(stderr, "{}\n", kPrivilegedWarning);
    }
    const std::string& image_text = f.args.front();
    // From finding the image until the container that uses it is recorded:
    // `rmi` and `prune` (which take the gc lock exclusively) wait, and then
    // see the container.
    LockFile lease = store.lease();
    const store::ImageMatch match = find_image(global, store, image_text, r.pull);
    const store::ImageConfig config = store.config(match.image);
    containers::ContainerSpec spec =
        containers::make_container_spec(r, config, containers::process_env_lookup());
    spec.image_name = image_text;
    spec.image_manifest = match.image.manifest.str();
    spec.image_id = match.image.id().str();
    if (spec.hostname.empty() && spec.network == "host") {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) == 0) spec.hostname = host;
    }
    spec.mounts = containers::resolve_mounts(f.mounts, config.config.volumes, &containers);
    Container c = containers.create(std::move(spec), f.name);
    containers::create_volumes(store.root(), c);
    return c;
}

// Runs `c` attached to this process; the container's exit code.
int run_attached(store::ImageStore& store, ContainerStore& containers, Container& c,
                 bool interactive) {
    RawTerminal terminal;
    const containers::RunIo io = attached_io(interactive, c.spec.tty, terminal);
    const int code = containers::run_container(store, containers, c, io);
    if (!c.state.error.empty()) print_error(c.state.error);
    return code;
}

// strata's own failures exit 125, as docker's.
template <typename F>
void exit_125_on_error(F&& body) {
    try {
        body();
    } catch (const Error& e) {
        print_error(e.what());
        throw ExitCode{125};
    } catch (const std::system_error& e) {  // std::filesystem's, from the store
        print_error(e.what());
        throw ExitCode{125};
    }
}

void run_run(const GlobalOptions& global, RunCommandFlags& f, bool create_only) {
    std::signal(SIGPIPE, SIG_IGN);
    int code = 0;
    exit_125_on_error([&] {
        auto store = open_store(global);
        ContainerStore containers(store->root());
        Container c = create_container(global, *store, containers, f);
        if (create_only) {
            fmt::print("{}\n", c.id);
            return;
        }
        if (f.detach) {
            try {
                start_detached(global, store->root(), c);
            } catch (const Error& e) {
                // The command could not be executed: Docker's 126/127.
                containers.reload_state(c);
                const int why = c.state.exit_code.value_or(125);
                if (why != 126 && why != 127) throw;
                print_error(e.what());
                code = why;
                return;
            }
            fmt::print("{}\n", c.id);
            return;
        }
        code = run_attached(*store, containers, c, f.run.interactive);
    });
    std::fflush(stdout);
    if (code != 0) throw ExitCode{code};
}

struct StartFlags {
    bool attach = false, interactive = false;
    std::vector<std::string> containers;
};

void run_start(const GlobalOptions& global, const StartFlags& f) {
    std::signal(SIGPIPE, SIG_IGN);
    if ((f.attach || f.interactive) && f.containers.size() > 1) {
        print_error("you cannot start and attach multiple containers at once");
        throw ExitCode{1};
    }
    int code = 0;
    bool failed = false;
    for (const auto& name : f.containers) {
        try {
            auto store = open_store(global);
            ContainerStore containers(store->root());
            Container c = containers.get(name);
            containers.refresh(c);
            if (c.state.status == containers::Status::kRunning) {
                // Docker: starting a running container is no error.
                if (!f.attach && !f.interactive) fmt::print("{}\n", name);
                continue;
            }
            if (f.attach || f.interactive) {
                code = run_attached(*store, containers, c, f.interactive);
            } else {
                start_detached(global, store->root(), c);
                fmt::print("{}\n", name);
            }
        } catch (const Error& e) {
            print_error(e.what());
            failed = true;
        }
    }
    std::fflush(stdout);
    if (failed) throw ExitCode{1};
    if (code != 0) throw ExitCode{code};
}

struct ExecFlags {
    bool detach = false, interactive = false, tty = false, privileged = false;
    std::vector<std::string> env, env_files;
    std::string user, workdir;
    std::vector<std::string> args;  // CTR CMD [ARG...]
};

void run_exec(const GlobalOptions& global, ExecFlags& f) {
    std::signal(SIGPIPE, SIG_IGN);
    if (!f.args.empty() && f.args.front().size() > 1 && f.args.front().front() == '-') {
        print_error(fmt::format("unknown flag: {}", f.args.front()));
        throw ExitCode{125};
    }
    if (f.args.size() < 2) {
        print_error("\"strata exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]");
        throw ExitCode{1};
    }
    containers::ExecOptions o;
    o.argv.assign(f.args.begin() + 1, f.args.end());
    o.user = f.user;
    o.workdir = f.workdir;
    o.tty = f.tty;
    o.privileged = f.privileged;
    int code = 0;
    try {
        if (f.privileged && (::geteuid() != 0 || sandbox::in_user_namespace()))
            throw Error(ErrorKind::kUsage, "--privileged is allowed only when strata runs as root");
        if (!o.workdir.empty() && o.workdir.front() != '/')
            throw Error(ErrorKind::kUsage,
                        fmt::format("the working directory '{}' is invalid, it needs to be an "
                                    "absolute path",
                                    o.workdir));
        const auto lookup = containers::process_env_lookup();
        for (const auto& file : f.env_files)
            for (auto& kv : containers::read_env_file(file, lookup))
                o.env.push_back(std::move(kv));
        for (const auto& kv : f.env)
            if (kv.find('=') != std::string::npos)
                o.env.push_back(kv);
            else if (auto v = lookup(kv))
                o.env.push_back(kv + "=" + *v);
        auto store = open_store(global);
        ContainerStore containers(store->root());
        Container c = containers.get(f.args.front());
        containers.refresh(c);
        // Rootless: into the user namespace its namespaces belong to, first.
        if (c.state.status == containers::Status::kRunning)
            join_user_namespace_of(c.state.pid, c.state.pid_start);
        if (f.detach) {
            // Docker's exec -d: the process runs on after this command; a
            // child of ours in a session of its own holds it.
            const pid_t child = ::fork();
            if (child < 0) throw system_error("fork", "exec -d");
            if (child == 0) {
                ::setsid();
                int code_in_child = 0;
                try {
                    containers::RunIo quiet;
                    quiet.output = [](std::string_view, bool) {};
                    std::string ignored;
                    code_in_child = containers::exec_in_container(c, o, quiet, ignored);
                } catch (...) {
                    code_in_child = 126;
                }
                std::_Exit(code_in_child);
            }
            return;
        }
        RawTerminal terminal;
        const containers::RunIo io = attached_io(f.interactive, f.tty, terminal);
        std::string error;
        code = containers::exec_in_container(c, o, io, error);
        if (!error.empty()) print_error(error);
    } catch (const Error& e) {
        print_error(e.what());
        throw ExitCode{e.kind() == ErrorKind::kUsage ? 125 : 1};
    }
    std::fflush(stdout);
    if (code != 0) throw ExitCode{code};
}

// run, create, start and exec under `app` (the top level, and `strata
// container`, as `docker container run` is `docker run`).
void add_run_commands_to(CLI::App& app, const GlobalOptions& global) {
    {
        auto f = std::make_shared<RunCommandFlags>();
        CLI::App* cmd = app.add_subcommand("run", "Create and run a new container from an image");
        add_run_flags(cmd, *f, true);
        cmd->callback([&global, f, cmd] {
            f->args = cmd->remaining();
            if (cmd->count("--entrypoint") > 0) f->run.entrypoint = f->entrypoint;
            run_run(global, *f, false);
        });
    }
    {
        auto f = std::make_shared<RunCommandFlags>();
        CLI::App* cmd = app.add_subcommand("create", "Create a new container");
        add_run_flags(cmd, *f, false);
        cmd->callback([&global, f, cmd] {
            f->args = cmd->remaining();
            if (cmd->count("--entrypoint") > 0) f->run.entrypoint = f->entrypoint;
            run_run(global, *f, true);
        });
    }
    {
        auto f = std::make_shared<StartFlags>();
        CLI::App* cmd = app.add_subcommand("start", "Start one or more stopped containers");
        cmd->add_flag("-a,--attach", f->attach, "Attach STDOUT/STDERR and forward signals");
        cmd->add_flag("-i,--interactive", f->interactive, "Attach container's STDIN");
        cmd->add_option("containers", f->containers, "Containers")->required();
        cmd->callback([&global, f] { run_start(global, *f); });
    }
    {
        auto f = std::make_shared<ExecFlags>();
        CLI::App* cmd = app.add_subcommand("exec", "Execute a command in a running container");
        cmd->prefix_command();
        cmd->allow_extras();
        cmd->add_flag("-d,--detach", f->detach, "Detached mode: run command in the background");
        cmd->add_flag("-i,--interactive", f->interactive, "Keep STDIN open even if not attached");
        cmd->add_flag("-t,--tty", f->tty, "Allocate a pseudo-TTY");
        cmd->add_flag("--privileged", f->privileged, "Give extended privileges to the command");
        repeated(cmd, "-e,--env", f->env, "Set environment variables");
        repeated(cmd, "--env-file", f->env_files, "Read in a file of environment variables");
        cmd->add_option("-u,--user", f->user, "Username or UID (format: <name|uid>[:<group|gid>])");
        cmd->add_option("-w,--workdir", f->workdir, "Working directory inside the container");
        cmd->callback([&global, f, cmd] {
            f->args = cmd->remaining();
            run_exec(global, *f);
        });
    }
}

}  // namespace

void add_run_commands(CLI::App& app, const GlobalOptions& global) {
    add_run_commands_to(app, global);
    add_run_commands_to(container_command_group(app), global);
}

}  // namespace strata::cli
