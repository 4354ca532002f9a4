#include "containers/container_runner.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/error.hpp"
#include "base/pipe.hpp"
#include "base/process_ref.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "containers/container_log.hpp"
#include "containers/image_layers.hpp"
#include "containers/run_options.hpp"
#include "containers/volume_mounts.hpp"
#include "containers/volume_store.hpp"
#include "sandbox/bridge_network.hpp"
#include "sandbox/private_network.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/user_namespace.hpp"
#include "store/image_config_time.hpp"

namespace strata::containers {

namespace fs = std::filesystem;

namespace {

// Docker's /etc/hosts of a container without the host's network; the
// hostname resolves to a loopback address of its own (as Debian's
// 127.0.1.1 convention).
std::string container_hosts(const std::string& hostname) {
    return fmt::format(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        "127.0.1.1\t{}\n",
        hostname);
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string now() {
    return store::format_timestamp(store::now_timestamp());
}

// A free port on the host for `-p CTR` without a host port, as Docker's
// port allocator gives one (bound and released: pasta binds it next).
uint16_t free_port(const std::string& ip, bool udp) {
    UniqueFd s(::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!s) throw system_error("socket", "for a free port");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!ip.empty() && ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1)
        a.sin_addr.s_addr = htonl(INADDR_ANY);
    socklen_t len = sizeof a;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw system_error("bind", "a free host port");
    return ntohs(a.sin_port);
}

// The -p mappings with a host port each (a free one where none was given).
std::vector<PortMapping> resolved_ports(const ContainerSpec& spec) {
    std::vector<PortMapping> out;
    for (const auto& p : spec.publish) {
        PortMapping m = parse_publish(p);
        if (m.host_port == 0) {
            m.host_port = free_port(m.host_ip, m.protocol == "udp");
            m.host_end = static_cast<uint16_t>(m.host_port + (m.container_end - m.container_port));
        }
        out.push_back(std::move(m));
    }
    return out;
}

// init's message for a command it could not start, in runc's words as
// Docker prints them: `exec: "nosuch": executable file not found in $PATH`,
// `exec: "/etc/passwd": permission denied`.
std::string start_error(const std::string& setup_error, const std::string& argv0) {
    std::string e = setup_error;
    if (e.rfind("exec ", 0) == 0) {
        // "exec /path: No such file or directory" (strerror) → runc's form.
        const auto colon = e.find(": ", 5);
        std::string why = colon == std::string::npos ? "" : e.substr(colon + 2);
        for (auto& ch : why)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const std::string path = e.substr(5, colon == std::string::npos ? e.npos : colon - 5);
        e = why == "no such file or directory"
                ? fmt::format("exec: \"{}\": stat {}: {}", argv0, path, why)
                : fmt::format("exec: \"{}\": {}", argv0, why);
    }
    return "unable to start container process: " + e;
}

// Signals to strata while the container runs go to the container (Docker's
// --sig-proxy), through a self-pipe the run loop reads; SIGWINCH resizes
// the pseudo-terminal.
int g_signal_pipe = -1;

void on_signal(int sig) {
    const int saved = errno;
    const unsigned char b = static_cast<unsigned char>(sig);
    if (g_signal_pipe >= 0 && ::write(g_signal_pipe, &b, 1) < 0) {
    }
    errno = saved;
}

class SignalProxy {
  public:
    SignalProxy() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw system_error("pipe", "signals");
        read_.reset(fds[0]);
        write_.reset(fds[1]);
        g_signal_pipe = write_.get();
        for (size_t i = 0; i < std::size(kSignals); ++i) {
            struct sigaction sa {};
            sa.sa_handler = on_signal;
            sa.sa_flags = SA_RESTART;
            sigemptyset(&sa.sa_mask);
            ::sigaction(kSignals[i], &sa, &old_[i]);
        }
    }
    ~SignalProxy() {
        for (size_t i = 0; i < std::size(kSignals); ++i)
            ::sigaction(kSignals[i], &old_[i], nullptr);
        g_signal_pipe = -1;
    }
    SignalProxy(const SignalProxy&) = delete;
    SignalProxy& operator=(const SignalProxy&) = delete;
    int fd() const { return read_.get(); }

  private:
    static constexpr int kSignals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                       SIGUSR1, SIGUSR2, SIGWINCH};
    struct sigaction old_[std::size(kSignals)]{};
    UniqueFd read_, write_;
};

// The caller's terminal, whose window size the container's follows.
int caller_terminal(const RunIo& io) {
    for (int fd : {io.stdin_fd, STDOUT_FILENO, STDERR_FILENO, STDIN_FILENO})
        if (fd >= 0 && ::isatty(fd)) return fd;
    return -1;
}

void copy_window_size(int from, int master) {
    winsize ws{};
    if (from >= 0 && master >= 0 && ::ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        ::ioctl(master, TIOCSWINSZ, &ws);
}

bool write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            pollfd pfd{fd, POLLOUT, 0};
            ::poll(&pfd, 1, -1);
            continue;
        }
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// What the sandbox needs of a container's private network, whichever kind
// holds it (a BridgeNetwork or a PrivateNetwork through pasta).
struct NetworkNamespace {
    int fd = -1;
    std::string resolv_conf;
};

// The network of a container with --network default, and what holds it
// while it runs. As root (not in a user namespace) and without -p: a
// BridgeNetwork on strata0, as Docker's default bridge (~1 ms to set up);
// otherwise pasta, as rootless Podman (-p: pasta forwards the ports; a
// container with -p is not on the bridge). A bridge that cannot be set up
// (no nft, no veth in the kernel, no free subnet) falls back to pasta with
// one warning. STRATA_NETWORK_BACKEND=bridge|pasta forces one (bridge: a
// failure is an error then).
class ContainerNetwork {
  public:
    ContainerNetwork(const Container& c) {
        const char* forced = std::getenv("STRATA_NETWORK_BACKEND");
        const std::string backend = forced ? forced : "";
        if (!backend.empty() && backend != "bridge" && backend != "pasta")
            throw Error(
                ErrorKind::kUsage,
                fmt::format("STRATA_NETWORK_BACKEND is '{}': give bridge or pasta", backend));
        const bool bridge_possible = ::geteuid() == 0 && !sandbox::in_user_namespace();
        if (backend == "bridge" && !bridge_possible)
            throw Error(ErrorKind::kUsage,
                        "STRATA_NETWORK_BACKEND=bridge needs strata to run as root (rootless "
                        "containers use pasta)");
        if (backend == "bridge" || (backend.empty() && bridge_possible && c.spec.publish.empty())) {
            try {
                bridge_.emplace(sandbox::BridgeNetwork::attach(c.id));
                ns_ = {bridge_->netns_fd(), bridge_->resolv_conf()};
                return;
            } catch (const Error& e) {
                if (backend == "bridge") throw;
                fmt::print(stderr,
                           "strata: warning: the bridge network is not available ({}); "
                           "using pasta\n",
                           e.what());
            }
        }
        sandbox::PrivateNetworkOptions opts;
        for (const PortMapping& m : resolved_ports(c.spec)) {
            for (auto& arg : pasta_port_args(m))
                opts.port_forwards.push_back(std::move(arg));
            ports_.push_back(format_publish(m));
        }
        pasta_.emplace(sandbox::PrivateNetwork::start(opts));
        ns_ = {pasta_->netns_fd(), pasta_->resolv_conf()};
    }

    const NetworkNamespace& ns() const { return ns_; }
    const sandbox::BridgeNetwork* bridge() const { return bridge_ ? &*bridge_ : nullptr; }
    // The published ports with their host ports (format_publish's form).
    const std::vector<std::string>& ports() const { return ports_; }

  private:
    std::vector<std::string> ports_;
    std::optional<sandbox::BridgeNetwork> bridge_;
    std::optional<sandbox::PrivateNetwork> pasta_;
    NetworkNamespace ns_;
};

// The sandbox spec of a container.
sandbox::Spec sandbox_spec(const Container& c, const std::vector<fs::path>& layers,
                           std::vector<sandbox::Mount> mounts, const NetworkNamespace* net) {
    const ContainerSpec& cs = c.spec;
    sandbox::Spec spec;
    spec.description = "container " + c.short_id();
    spec.scratch_parent = c.dir;
    spec.root.lower = layers;
    spec.root.upper = c.upper();
    spec.root.work = c.work();
    spec.root.read_only = cs.read_only;
    spec.mounts = std::move(mounts);

    sandbox::Isolation& iso = spec.isolation;
    iso.mode = sandbox::IsolationMode::kSandbox;
    iso.privileged = cs.privileged;
    iso.capabilities = effective_capabilities(cs);
    iso.exact_capabilities = true;
    if (cs.seccomp == "unconfined") {
        iso.seccomp = false;
    } else if (!cs.seccomp.empty()) {
        iso.seccomp_profile = cs.seccomp;
        iso.seccomp_profile_origin = "--security-opt seccomp";
    }
    iso.no_new_privileges = cs.no_new_privileges;
    if (cs.memory_bytes) iso.limits.memory_bytes = static_cast<int64_t>(*cs.memory_bytes);
    iso.limits.cpus = cs.cpus;
    if (cs.pids_limit) iso.limits.pids = cs.pids_limit;

    sandbox::Process& p = spec.process;
    p.argv = cs.argv;
    p.env = process_env(cs);
    p.user = cs.config.user;
    p.cwd = cs.config.working_dir.empty() ? std::string("/") : cs.config.working_dir;
    p.hostname = cs.hostname.empty() ? c.short_id() : cs.hostname;
    if (cs.network == "host") {
        iso.network = sandbox::Network::kHost;
        p.hosts = read_text("/etc/hosts");
        p.resolv_conf = read_text("/etc/resolv.conf");
    } else if (cs.network == "none") {
        iso.network = sandbox::Network::kNone;
        p.hosts = container_hosts(p.hostname);
        p.resolv_conf = read_text("/etc/resolv.conf");
    } else {
        iso.network = sandbox::Network::kPrivate;
        iso.netns_fd = net->fd;
        p.hosts = container_hosts(p.hostname);
        p.resolv_conf = net->resolv_conf;
    }
    return spec;
}

// Moves the container's output to the caller and the log until the
// process's descriptors close; forwards stdin to a pseudo-terminal and
// signals to the container meanwhile.
class OutputPump {
  public:
    OutputPump(const RunIo& io, LogWriter* log) : io_(io), log_(log) {}

    void run(sandbox::SandboxProcess& proc, int out_fd, int err_fd, int master,
             const SignalProxy& signals) {
        const int terminal = master >= 0 ? caller_terminal(io_) : -1;
        copy_window_size(terminal, master);
        int in_fd = master >= 0 ? io_.stdin_fd : -1;
        int fds[2] = {master >= 0 ? master : out_fd, err_fd};
        char buf[65536];
        while (fds[0] >= 0 || fds[1] >= 0) {
            pollfd p[4];
            int n = 0;
            const int sig_at = n;
            p[n++] = {signals.fd(), POLLIN, 0};
            int stream_at[2] = {-1, -1};
            for (int i = 0; i < 2; ++i)
                if (fds[i] >= 0) {
                    stream_at[i] = n;
                    p[n++] = {fds[i], POLLIN, 0};
                }
            int in_at = -1;
            if (in_fd >= 0) {
                in_at = n;
                p[n++] = {in_fd, POLLIN, 0};
            }
            if (::poll(p, static_cast<nfds_t>(n), -1) < 0) {
                if (errno == EINTR) continue;
                throw system_error("poll", "the container's output");
            }
            if (p[sig_at].revents & POLLIN) {
                unsigned char sigs[64];
                const ssize_t got = ::read(signals.fd(), sigs, sizeof sigs);
                for (ssize_t i = 0; i < got; ++i) {
                    if (sigs[i] == SIGWINCH) {
                        copy_window_size(terminal, master);
                    } else {
                        try {
                            proc.signal(sigs[i]);
                        } catch (const Error&) {
                            // Gone already: its end is on the way.
                        }
                    }
                }
            }
            for (int i = 0; i < 2; ++i) {
                if (stream_at[i] < 0 || !p[stream_at[i]].revents) continue;
                const ssize_t r = ::read(fds[i], buf, sizeof buf);
                if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (r <= 0) {  // EOF, or EIO from a master whose terminal closed
                    fds[i] = -1;
                    continue;
                }
                const std::string_view bytes(buf, static_cast<size_t>(r));
                const bool is_stderr = i == 1;
                if (log_) log_->write(bytes, is_stderr);
                if (io_.output) io_.output(bytes, is_stderr);
            }
            if (in_at >= 0 && p[in_at].revents) {
                const ssize_t r = ::read(in_fd, buf, sizeof buf);
                if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (r <= 0 || !write_all(master, buf, static_cast<size_t>(r))) in_fd = -1;
            }
        }
    }

  private:
    const RunIo& io_;
    LogWriter* log_;
};

// The process's stdio: a pseudo-terminal (-t), or the caller's stdin and
// two pipes the pump reads, stdout and stderr apart.
struct ProcessStdio {
    sandbox::Stdio stdio;
    std::optional<Pipe> out, err;

    ProcessStdio(const RunIo& io, bool tty) {
        if (tty) {
            stdio.tty = true;
            winsize ws{};
            if (const int t = caller_terminal(io); t >= 0 && ::ioctl(t, TIOCGWINSZ, &ws) == 0) {
                stdio.rows = ws.ws_row;
                stdio.cols = ws.ws_col;
            }
        } else {
            out = make_pipe("the container's output");
            err = make_pipe("the container's output");
            stdio.in = io.stdin_fd;
            stdio.out = out->write.get();
            stdio.err = err->write.get();
        }
    }
    // The process has its copies: ours go, so that its end is our EOF.
    void started() {
        if (out) out->write.reset();
        if (err) err->write.reset();
    }
    int out_fd() const { return out ? out->read.get() : -1; }
    int err_fd() const { return err ? err->read.get() : -1; }
};

// The address of a container on the bridge and its published ports, for
// inspect, ps and port; cleared without a network.
void set_network_state(ContainerState& s, const ContainerNetwork* net) {
    const sandbox::BridgeNetwork* bridge = net ? net->bridge() : nullptr;
    s.ports = net ? net->ports() : std::vector<std::string>{};
    s.ip_address = bridge ? bridge->ip_address() : "";
    s.ip_prefix_len = bridge ? bridge->prefix_length() : 0;
    s.gateway = bridge ? bridge->gateway() : "";
    s.mac_address = bridge ? bridge->mac_address() : "";
}

void save_exited(ContainerStore& containers, Container& c, std::optional<int> code, bool oom,
                 const std::string& error) {
    auto lock = containers.lock(c);
    containers.reload_state(c);
    c.state.status = Status::kExited;
    c.state.exit_code = code;
    c.state.finished_at = now();
    c.state.oom_killed = oom;
    c.state.error = error;
    c.state.pid = 0;
    c.state.pid_start = 0;
    c.state.monitor_pid = 0;
    c.state.monitor_start = 0;
    set_network_state(c.state, nullptr);
    containers.save_state(c);
}

// --rm: the container and its anonymous volumes (those no other container
// uses), as `rm -v`.
void auto_remove(ContainerStore& containers, const Container& c) {
    containers.remove(c);
    remove_anonymous_volumes(containers.store_root(), c);
}

int run_prepared(store::ImageStore& store, ContainerStore& containers, Container& c,
                 const RunIo& io) {
    const auto record = store.image(store::Digest::parse(c.spec.image_manifest));
    if (!record)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("No such image: {} (it was removed after the container was "
                                "created)",
                                c.spec.image_name));
    const std::vector<fs::path> layers = image_layer_dirs(store, *record);
    std::vector<sandbox::Mount> mounts = sandbox_mounts(containers.store_root(), c, layers);

    std::optional<ContainerNetwork> net;
    if (c.spec.network == "default") net.emplace(c);
    const sandbox::Spec spec =
        sandbox_spec(c, layers, std::move(mounts), net ? &net->ns() : nullptr);

    const auto init = sandbox::find_init();
    if (!init)
        throw Error(ErrorKind::kNotFound,
                    "strata-init was not found next to the strata binary (set STRATA_INIT to its "
                    "path)");
    sandbox::Sandbox sandbox(*init);
    LogWriter log(c.log_file());
    SignalProxy signals;

    ProcessStdio stdio(io, c.spec.tty);
    sandbox::SandboxProcess proc = sandbox.start(spec, stdio.stdio);
    stdio.started();
    UniqueFd master;
    if (c.spec.tty) master = proc.take_pty_master();

    {
        auto lock = containers.lock(c);
        containers.reload_state(c);
        c.state.status = Status::kRunning;
        c.state.pid = proc.pid();
        c.state.pid_start = proc.start_time();
        const ProcessRef self = ProcessRef::self();
        c.state.monitor_pid = self.pid();
        c.state.monitor_start = self.start_time();
        c.state.started_at = now();
        c.state.finished_at.clear();
        c.state.exit_code.reset();
        c.state.oom_killed = false;
        c.state.error.clear();
        set_network_state(c.state, net ? &*net : nullptr);
        containers.save_state(c);
    }
    // A command that could not be executed never started (`run -d` then
    // fails with its 126/127, as Docker's does).
    if (io.on_started && !proc.failed_to_start()) io.on_started();
    if (master && io.on_terminal) io.on_terminal(master.get());

    OutputPump pump(io, &log);
    pump.run(proc, stdio.out_fd(), stdio.err_fd(), master ? master.get() : -1, signals);
    const sandbox::Result res = proc.wait();
    log.flush();

    std::string error;
    if (!res.setup_error.empty())
        error = res.exit_code == 126 || res.exit_code == 127
                    ? start_error(res.setup_error, c.spec.argv.at(0))
                    : res.setup_error;
    save_exited(containers, c, res.exit_code, res.oom_killed, error);
    return res.exit_code;
}

std::string not_running(const Container& c) {
    return fmt::format("Container {} is not running", c.id);
}

}  // namespace

int exec_in_container(const Container& c, const ExecOptions& o, const RunIo& io,
                      std::string& error) {
    if (c.state.status != Status::kRunning || !ProcessRef(c.state.pid, c.state.pid_start).alive())
        throw Error(ErrorKind::kConflict, not_running(c));
    const auto init = sandbox::find_init();
    if (!init)
        throw Error(ErrorKind::kNotFound,
                    "strata-init was not found next to the strata binary (set STRATA_INIT to its "
                    "path)");
    sandbox::ExecSpec spec;
    spec.pid = c.state.pid;
    spec.pid_start = c.state.pid_start;
    spec.description = "exec " + (o.argv.empty() ? std::string() : o.argv.front());
    ContainerSpec cs = c.spec;
    cs.tty = o.tty;
    if (cs.hostname.empty()) cs.hostname = c.short_id();
    spec.process.argv = o.argv;
    spec.process.env = process_env(cs);
    replace_or_append_env(spec.process.env, o.env);
    spec.process.user = o.user.empty() ? cs.config.user : o.user;
    spec.process.cwd = !o.workdir.empty()              ? o.workdir
                       : cs.config.working_dir.empty() ? std::string("/")
                                                       : cs.config.working_dir;
    spec.isolation.privileged = cs.privileged || o.privileged;
    spec.isolation.capabilities = effective_capabilities(cs);
    spec.isolation.exact_capabilities = true;
    if (cs.seccomp == "unconfined") {
        spec.isolation.seccomp = false;
    } else if (!cs.seccomp.empty()) {
        spec.isolation.seccomp_profile = cs.seccomp;
        spec.isolation.seccomp_profile_origin = "--security-opt seccomp";
    }
    spec.isolation.no_new_privileges = cs.no_new_privileges;

    sandbox::Sandbox sandbox(*init);
    SignalProxy signals;
    ProcessStdio stdio(io, o.tty);
    std::optional<sandbox::SandboxProcess> proc;
    try {
        proc.emplace(sandbox.exec(spec, stdio.stdio));
    } catch (const Error& e) {
        // The container ended between the check and the exec.
        if (!ProcessRef(c.state.pid, c.state.pid_start).alive())
            throw Error(ErrorKind::kConflict, not_running(c));
        throw;
    }
    stdio.started();
    UniqueFd master;
    if (o.tty) master = proc->take_pty_master();
    if (io.on_started) io.on_started();
    if (master && io.on_terminal) io.on_terminal(master.get());
    OutputPump pump(io, nullptr);
    pump.run(*proc, stdio.out_fd(), stdio.err_fd(), master ? master.get() : -1, signals);
    const sandbox::Result res = proc->wait();
    if (!res.setup_error.empty())
        error = res.exit_code == 126 || res.exit_code == 127
                    ? start_error(res.setup_error, o.argv.at(0))
                    : res.setup_error;
    return res.exit_code;
}

int run_container(store::ImageStore& store, ContainerStore& containers, Container& c,
                  const RunIo& io) {
    int code = 125;
    try {
        code = run_prepared(store, containers, c, io);
    } catch (const std::exception& e) {
        // What strata could not do (the image gone, pasta missing, a mount
        // refused): recorded as Docker records a failed start.
        save_exited(containers, c, 125, false, e.what());
        code = 125;
    }
    if (c.spec.auto_remove) auto_remove(containers, c);
    return code;
}

}  // namespace strata::containers
