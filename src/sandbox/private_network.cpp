#include "sandbox/private_network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/find_program.hpp"
#include "base/pipe.hpp"
#include "sandbox/user_namespace.hpp"

extern char** environ;

namespace strata::sandbox {

namespace fs = std::filesystem;

namespace {

constexpr const char* kInstallHint = "install Debian's passt package or use --network=host";

// The keeper's descriptors, by number: pasta finds the namespace and the
// readiness pipe at fixed numbers, named on its command line.
constexpr int kKeeperLifeline = 3;  // read end: EOF = stop pasta
constexpr int kKeeperNetns = 4;     // --netns /proc/self/fd/4
constexpr int kKeeperReady = 5;     // --pid /proc/self/fd/5: pasta writes its PID when configured

fs::path find_pasta(const PrivateNetworkOptions& options) {
    if (!options.pasta.empty()) {
        if (::access(options.pasta.c_str(), X_OK) == 0) return options.pasta;
        throw Error(ErrorKind::kNotFound,
                    fmt::format("pasta '{}' is not an executable ({}): {}", options.pasta.string(),
                                std::strerror(errno), kInstallHint));
    }
    if (auto found = find_program("pasta")) return *found;
    throw Error(
        ErrorKind::kNotFound,
        fmt::format("pasta not found on $PATH nor in /usr/bin or /usr/sbin: {}", kInstallHint));
}

// Rootless (a user namespace of strata's own): pasta makes its tap device
// through /dev/net/tun, which the kernel lets it open only when the file's
// mode lets the invoking user (most distributions ship it 0666; some 0600).
void check_tun_for_rootless() {
    if (!in_user_namespace()) return;
    UniqueFd tun(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (tun) return;
    const int err = errno;
    throw Error(ErrorKind::kUsage,
                fmt::format("the private network (pasta) needs /dev/net/tun, which rootless "
                            "strata cannot open ({}): use --network=host or --network=none (in "
                            "a Dockerfile also RUN --network=none), or have the administrator "
                            "make /dev/net/tun mode 0666 (a udev rule: KERNEL==\"tun\", "
                            "MODE=\"0666\")",
                            std::strerror(err)));
}

// A new network namespace, made in a thread of its own: the namespace of
// the calling thread (and of strata) stays as it was, whatever happens.
UniqueFd new_network_namespace() {
    int fd = -1;
    int unshare_errno = 0;
    int open_errno = 0;
    std::thread([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            unshare_errno = errno;
            return;
        }
        fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0) open_errno = errno;
    }).join();
    if (unshare_errno != 0)
        throw system_error("unshare(CLONE_NEWNET) for the build's network", "", unshare_errno);
    if (fd < 0)
        throw system_error("open new network namespace", "/proc/thread-self/ns/net", open_errno);
    return UniqueFd(fd);
}

std::string read_file_or_empty(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// What pasta wrote, without the noise of a missing syslog socket, cut to
// its last lines.
std::string pasta_log_excerpt(int log) {
    std::string text;
    char buf[4096];
    for (off_t at = 0;;) {
        const ssize_t n = ::pread(log, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
        at += n;
    }
    std::stringstream in(text);
    std::string excerpt;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line.find("bytes to syslog") != std::string::npos) continue;
        excerpt += line;
        excerpt += '\n';
    }
    constexpr size_t kMax = 2000;
    if (excerpt.size() > kMax) excerpt = "..." + excerpt.substr(excerpt.size() - kMax);
    while (!excerpt.empty() && excerpt.back() == '\n')
        excerpt.pop_back();
    return excerpt.empty() ? "(pasta printed nothing)" : excerpt;
}

// Only async-signal-safe calls below: the keeper is forked from a process
// that may have other threads.
void write_str(int fd, const char* s) {
    size_t n = 0;
    while (s[n])
        ++n;
    [[maybe_unused]] ssize_t ignored = ::write(fd, s, n);
}

void sleep_ms(long ms) {
    timespec ts{ms / 1000, (ms % 1000) * 1'000'000};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// Set by SIGTERM in the keeper (its only signal handler).
volatile sig_atomic_t keeper_stop_requested = 0;
void keeper_on_sigterm(int) {
    keeper_stop_requested = 1;
}

struct KeeperInput {
    int devnull, log, lifeline, netns, ready;
    char* const* argv;
    char* const* envp;
};

[[noreturn]] void exec_pasta(const KeeperInput& in, pid_t keeper) {
    // SIGKILL when the keeper goes, however it goes. Survives pasta's exec
    // of its AVX2 build and `--runas 0` (no credential change); --runas to
    // another user would clear it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != keeper) ::_exit(1);
    ::close(kKeeperLifeline);
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(in.argv[0], in.argv, in.envp);
    write_str(2, "strata: cannot execute pasta\n");
    ::_exit(127);
}

// The keeper: starts pasta, then waits for the lifeline to close (strata
// is gone, or the destructor) or for SIGTERM (the destructor: it does not
// depend on every copy of the lifeline being closed), and stops pasta.
// SIGTERM arrives blocked (start() blocks it around the fork) and is only
// let through inside ppoll, so a request is never lost between the check
// and the wait.
[[noreturn]] void keeper_main(const KeeperInput& in) {
    // Its own process group: a ^C at the terminal is for strata, which
    // decides when the build's network goes.
    ::setpgid(0, 0);
    ::prctl(PR_SET_NAME, "strata-pasta");
    struct sigaction on_term = {};
    on_term.sa_handler = keeper_on_sigterm;
    ::sigaction(SIGTERM, &on_term, nullptr);
    sigset_t only_term_blocked;
    sigemptyset(&only_term_blocked);
    sigaddset(&only_term_blocked, SIGTERM);
    ::sigprocmask(SIG_SETMASK, &only_term_blocked, nullptr);

    // Move every descriptor it keeps above the target numbers first, so that
    // no dup2 overwrites a source, then close everything else: the lifeline
    // write ends of other builds' networks must not stay open here.
    const int sources[] = {in.devnull, in.log, in.lifeline, in.netns, in.ready};
    int moved[5];
    for (int i = 0; i < 5; ++i) {
        moved[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, 10);
        if (moved[i] < 0) ::_exit(1);
    }
    if (::dup2(moved[0], 0) < 0 || ::dup2(moved[1], 1) < 0 || ::dup2(moved[1], 2) < 0 ||
        ::dup2(moved[2], kKeeperLifeline) < 0 || ::dup2(moved[3], kKeeperNetns) < 0 ||
        ::dup2(moved[4], kKeeperReady) < 0)
        ::_exit(1);
    ::syscall(SYS_close_range, kKeeperReady + 1, ~0U, 0);

    const pid_t keeper = ::getpid();
    const pid_t pasta = ::fork();
    if (pasta == 0) exec_pasta(in, keeper);
    // Only pasta keeps these: the readiness pipe reaches EOF when pasta
    // exits without writing its PID.
    ::close(kKeeperNetns);
    ::close(kKeeperReady);
    if (pasta < 0) {
        write_str(2, "strata: fork for pasta failed\n");
        ::_exit(1);
    }

    sigset_t none;
    sigemptyset(&none);
    while (!keeper_stop_requested) {
        pollfd lifeline{kKeeperLifeline, POLLIN, 0};
        const int r = ::ppoll(&lifeline, 1, nullptr, &none);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        char byte;
        const ssize_t n = ::read(kKeeperLifeline, &byte, 1);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
    // pasta exits on SIGTERM; a pasta that does not within a second is
    // killed. Its exit is waited for on a pidfd, so the build that waits
    // for the keeper waits for pasta's exit, not for the next poll of it
    // (sleeping 10 ms between polls cost every build ~20 ms at its end).
    ::kill(pasta, SIGTERM);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pasta, 0));
    if (pidfd >= 0) {
        pollfd exited{pidfd, POLLIN, 0};
        int r;
        do {
            r = ::poll(&exited, 1, 1000);
        } while (r < 0 && errno == EINTR);
        if (r > 0) {
            while (::waitpid(pasta, nullptr, 0) < 0 && errno == EINTR) {
            }
            ::_exit(0);
        }
    } else {  // no pidfd_open (Linux < 5.3): poll the exit, every millisecond
        for (int i = 0; i < 1000; ++i) {
            const pid_t r = ::waitpid(pasta, nullptr, WNOHANG);
            if (r == pasta || (r < 0 && errno != EINTR)) ::_exit(0);
            sleep_ms(1);
        }
    }
    ::kill(pasta, SIGKILL);
    while (::waitpid(pasta, nullptr, 0) < 0 && errno == EINTR) {
    }
    ::_exit(0);
}

// Reads pasta's PID from the readiness pipe; 0 on EOF (pasta exited), -1
// on timeout.
pid_t wait_until_configured(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string text;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return -1;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw system_error("poll (waiting for pasta)", "");
        if (r == 0) return -1;
        char buf[32];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw system_error("read (waiting for pasta)", "");
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.find('\n') != std::string::npos) break;
    }
    const long pid = std::strtol(text.c_str(), nullptr, 10);
    return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

std::string default_ipv4_gateway() {
    // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...,
    // addresses as the hex of the in-memory (network order) 32-bit value.
    std::ifstream routes("/proc/thread-self/net/route");
    std::string line;
    std::getline(routes, line);
    std::string best;
    unsigned long best_metric = ~0UL;
    while (std::getline(routes, line)) {
        std::stringstream f(line);
        std::string iface, dest, gateway;
        unsigned long flags = 0, refcnt = 0, use = 0, metric = 0;
        f >> iface >> dest >> gateway >> std::hex >> flags >> std::dec >> refcnt >> use >> metric;
        if (!f || dest != "00000000" || (flags & 0x3) != 0x3) continue;  // RTF_UP | RTF_GATEWAY
        if (!best.empty() && metric >= best_metric) continue;
        in_addr a{};
        a.s_addr = static_cast<uint32_t>(std::stoul(gateway, nullptr, 16));
        char text[INET_ADDRSTRLEN];
        if (!::inet_ntop(AF_INET, &a, text, sizeof text)) continue;
        best = text;
        best_metric = metric;
    }
    return best;
}

PrivateNetwork PrivateNetwork::start() {
    return start(PrivateNetworkOptions{});
}

PrivateNetwork PrivateNetwork::start(const PrivateNetworkOptions& options) {
    const fs::path pasta = find_pasta(options);
    check_tun_for_rootless();
    // pasta copies the host's gateway into the namespace; DNS forwarding
    // needs to name it (see the header).
    const std::string gateway = default_ipv4_gateway();
    const PrivateResolvConf dns =
        private_resolv_conf(read_file_or_empty(options.host_resolv_conf), gateway);

    PrivateNetwork net;
    net.resolv_conf_ = dns.content;
    // pasta's stdout and stderr: in memory, read only if it fails to start,
    // and gone with pasta (nothing on disk, whatever ends strata).
    UniqueFd log(::memfd_create("pasta-log", MFD_CLOEXEC));
    if (!log) throw system_error("memfd_create", "pasta's log");
    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull) throw system_error("open", "/dev/null");
    net.netns_ = new_network_namespace();

    const std::string netns_arg = fmt::format("/proc/self/fd/{}", kKeeperNetns);
    const std::string ready_arg = fmt::format("/proc/self/fd/{}", kKeeperReady);
    std::vector<std::string> args = {
        pasta.string(),
        // Stay in the foreground: a daemonised pasta would fork away from
        // the keeper (which waits for it, and whose PR_SET_PDEATHSIG the
        // daemon would not have). --quiet: only errors reach the log.
        "--foreground",
        "--quiet",
        // Set up the namespace's interface (the host's address, routes and
        // MTU) and bring up lo, instead of leaving that to DHCP in it.
        "--config-net",
        // The namespace, by descriptor: nothing is bind-mounted. --netns-only:
        // join no user namespace. --no-netns-quit: there is no file whose
        // deletion pasta could watch; the keeper stops it.
        "--netns",
        netns_arg,
        "--netns-only",
        "--no-netns-quit",
        // No port forwarding towards the host. -T/-U default to "auto",
        // which binds the host's listening ports on the namespace's loopback
        // and forwards them to the host: a step would reach the host's
        // 127.0.0.1 services at 127.0.0.1. (-t/-u, which expose the
        // namespace's ports on the host, follow.)
        "-T",
        "none",
        "-U",
        "none",
        // Connections to the gateway address go to the gateway, not to the
        // host's loopback (this pasta's name for --map-host-loopback none).
        "--no-map-gw",
        // Written once the namespace is configured: our readiness signal.
        "--pid",
        ready_arg,
    };
    // -t/-u: the published ports (`run -p`). A protocol without any is
    // "none" explicitly: pasta's default for it is "auto", every port the
    // namespace listens on.
    for (const char* proto : {"-t", "-u"}) {
        bool any = false;
        for (size_t i = 0; i + 1 < options.port_forwards.size(); i += 2)
            if (options.port_forwards[i] == proto) any = true;
        if (!any) args.insert(args.end(), {proto, "none"});
    }
    args.insert(args.end(), options.port_forwards.begin(), options.port_forwards.end());
    if (::geteuid() == 0) {
        // As root pasta would switch to "nobody": an euid change clears
        // PR_SET_PDEATHSIG. Stay root; pasta still confines itself: all
        // capabilities but CAP_SYS_ADMIN and CAP_NET_BIND_SERVICE dropped,
        // no_new_privs, its seccomp filter, its own mount/IPC/UTS namespaces.
        args.insert(args.end(), {"--runas", "0"});
    }
    if (!dns.forward_to.empty()) {
        // UDP to gateway:53 goes to the host's loopback resolver (--dns: the
        // resolver pasta forwards to, instead of resolv.conf's first line).
        // --gateway: the same gateway we read, should there be several.
        args.insert(args.end(),
                    {"--gateway", gateway, "--dns-forward", gateway, "--dns", dns.forward_to});
    }
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    Pipe lifeline = make_pipe("pasta lifeline");
    Pipe ready = make_pipe("pasta readiness");
    const KeeperInput input{devnull.get(),    log.get(),         lifeline.read.get(),
                            net.netns_.get(), ready.write.get(), argv.data(),
                            environ};
    // The keeper starts with SIGTERM blocked (see keeper_main).
    sigset_t term, old_mask;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &term, &old_mask);
    const pid_t keeper = ::fork();
    if (keeper == 0) keeper_main(input);
    const int fork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (keeper < 0) throw system_error("fork (pasta keeper)", "", fork_errno);
    net.keeper_pid_ = keeper;
    net.lifeline_ = std::move(lifeline.write);
    lifeline.read.reset();
    ready.write.reset();

    const pid_t pid = wait_until_configured(ready.read.get(), options.ready_timeout);
    if (pid > 0) {
        net.pasta_pid_ = pid;
        return net;
    }
    if (pid < 0)
        throw Error(ErrorKind::kSystem,
                    fmt::format("pasta did not configure the build's network namespace within {} "
                                "ms; its log: {}",
                                options.ready_timeout.count(), pasta_log_excerpt(log.get())));
    net.stop_keeper();  // so that the log is complete
    throw Error(ErrorKind::kSystem,
                fmt::format("pasta ({}) failed to set up the build's network namespace "
                            "(--network=host or --network=none build without it): {}",
                            pasta.string(), pasta_log_excerpt(log.get())));
}

PrivateNetwork::PrivateNetwork(PrivateNetwork&& other) noexcept
    : netns_(std::move(other.netns_)),
      lifeline_(std::move(other.lifeline_)),
      keeper_pid_(other.keeper_pid_),
      pasta_pid_(other.pasta_pid_),
      resolv_conf_(std::move(other.resolv_conf_)) {
    other.keeper_pid_ = -1;
    other.pasta_pid_ = -1;
}

PrivateNetwork& PrivateNetwork::operator=(PrivateNetwork&& other) noexcept {
    if (this != &other) {
        stop();
        netns_ = std::move(other.netns_);
        lifeline_ = std::move(other.lifeline_);
        keeper_pid_ = std::exchange(other.keeper_pid_, -1);
        pasta_pid_ = std::exchange(other.pasta_pid_, -1);
        resolv_conf_ = std::move(other.resolv_conf_);
    }
    return *this;
}

PrivateNetwork::~PrivateNetwork() {
    stop();
}

void PrivateNetwork::stop_keeper() noexcept {
    lifeline_.reset();  // the keeper reads EOF, stops pasta and exits
    if (keeper_pid_ > 0) {
        ::kill(keeper_pid_, SIGTERM);  // the same, should a copy of the lifeline live on
        while (::waitpid(keeper_pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        keeper_pid_ = -1;
    }
    pasta_pid_ = -1;
}

void PrivateNetwork::stop() noexcept {
    stop_keeper();
    netns_.reset();
}

}  // namespace strata::sandbox
