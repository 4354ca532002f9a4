#include "cli/rootless.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "base/find_program.hpp"
#include "base/pipe.hpp"
#include "base/process_ref.hpp"
#include "base/sigpipe_block.hpp"
#include "base/unique_fd.hpp"
#include "store/store_root.hpp"

namespace strata::cli {

namespace fs = std::filesystem;

std::vector<IdRange> subordinate_ranges(std::string_view text, std::string_view name,
                                        uint64_t uid) {
    std::vector<IdRange> out;
    const std::string uid_text = std::to_string(uid);
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        const size_t a = line.find(':');
        const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        const std::string who = line.substr(0, a);
        if (who.empty() || (who != name && who != uid_text)) continue;
        const std::string start = line.substr(a + 1, b - a - 1), count = line.substr(b + 1);
        auto number = [](const std::string& s) -> std::optional<uint64_t> {
            if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != s.npos)
                return std::nullopt;
            const uint64_t v = std::stoull(s);
            if (v > 0xFFFFFFFFull) return std::nullopt;
            return v;
        };
        const auto s = number(start), c = number(count);
        if (s && c && *c > 0) out.push_back({*s, *c});
    }
    return out;
}

std::vector<std::string> id_map_args(uint64_t self, const std::vector<IdRange>& ranges) {
    std::vector<std::string> args = {"0", std::to_string(self), "1"};
    uint64_t inside = 1;
    for (const IdRange& r : ranges) {
        args.insert(args.end(),
                    {std::to_string(inside), std::to_string(r.start), std::to_string(r.count)});
        inside += r.count;
    }
    return args;
}

std::string command_of(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--") return {};
        if (a == "--root" || a == "--insecure-registry") {
            ++i;
            continue;
        }
        if (a.starts_with("-")) continue;
        return std::string(a);
    }
    return {};
}

bool command_needs_store(int argc, char** argv) {
    const std::string cmd = command_of(argc, argv);
    // login/logout only touch the user's Docker client configuration.
    if (cmd.empty() || cmd == "parse" || cmd == "login" || cmd == "logout") return false;
    // run, create and exec end with the container's own command line, whose
    // flags are not strata's (`run busybox httpd -h /www`): for them only
    // what comes before the first operand counts, and `-h` is run's
    // --hostname, as Docker's.
    std::string sub;
    bool seen_cmd = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--") break;
        if (a == "--root" || a == "--insecure-registry") {
            ++i;
            continue;
        }
        if (!a.starts_with("-")) {
            if (!seen_cmd) {
                seen_cmd = true;
                continue;
            }
            if (cmd == "container" && sub.empty()) {
                sub = a;
                continue;
            }
            const std::string& c = cmd == "container" ? sub : cmd;
            if (c == "run" || c == "create" || c == "exec") break;
            continue;
        }
        const std::string& c = cmd == "container" ? sub : cmd;
        if (a == "--help" || a == "--version") return false;
        if (a == "-h" && c != "run" && c != "create") return false;
    }
    return true;
}

namespace {

std::string read_text(const char* path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string user_name(uid_t uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return {};
    return pw.pw_name;
}

bool read_exact(int fd, void* buf, size_t n) {
    auto* p = static_cast<char*>(buf);
    while (n > 0) {
        const ssize_t r = ::read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return status;
}

// newuidmap or newgidmap, started (the two run side by side: each is a
// setuid program that costs a few milliseconds to start).
struct MapTool {
    pid_t pid = -1;
    UniqueFd err;  // its stderr
    std::string cmd;
};

MapTool start_map_tool(const fs::path& tool, pid_t pid, const std::vector<std::string>& map) {
    std::vector<std::string> args = {tool.string(), std::to_string(pid)};
    args.insert(args.end(), map.begin(), map.end());
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    MapTool t;
    for (const auto& a : args)
        t.cmd += (t.cmd.empty() ? "" : " ") + a;
    Pipe err = make_pipe("newuidmap's output");
    t.pid = ::fork();
    if (t.pid < 0) throw system_error("fork", tool.string());
    if (t.pid == 0) {
        ::dup2(err.write.get(), 2);
        ::execv(argv[0], argv.data());
        _exit(127);
    }
    t.err = std::move(err.read);
    return t;
}

// Waits for it; what it printed is the error's message.
void finish_map_tool(MapTool& t) {
    std::string text;
    char buf[1024];
    for (ssize_t n; (n = ::read(t.err.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    const int status = wait_for(t.pid);
    t.pid = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    const std::string tool = t.cmd.substr(0, t.cmd.find(' '));
    throw Error(
        ErrorKind::kSystem,
        fmt::format("{} failed{}{}: the subordinate ids of /etc/subuid and /etc/subgid "
                    "could not be mapped (is {} setuid root, or does it have file "
                    "capabilities? reinstall the uidmap package)",
                    t.cmd, WIFEXITED(status) ? fmt::format(" (exit {})", WEXITSTATUS(status)) : "",
                    text.empty() ? "" : ": " + text, tool));
}

void write_proc(pid_t pid, const char* file, const std::string& text) {
    const std::string path = fmt::format("/proc/{}/{}", pid, file);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw system_error("write the user namespace's id map to", path);
}

// The child namespace's two maps: through newuidmap and newgidmap with
// subordinate ids; without, just the user's own id, which the namespace's
// owner may write itself (for gids only once setgroups is denied:
// user_namespaces(7)).
void map_ids(pid_t pid, uid_t uid, gid_t gid, const std::vector<IdRange>& uids,
             const std::vector<IdRange>& gids, const std::optional<fs::path>& newuidmap,
             const std::optional<fs::path>& newgidmap) {
    std::vector<MapTool> tools;
    if (!uids.empty()) tools.push_back(start_map_tool(*newuidmap, pid, id_map_args(uid, uids)));
    if (!gids.empty()) tools.push_back(start_map_tool(*newgidmap, pid, id_map_args(gid, gids)));
    std::exception_ptr failed;
    for (MapTool& t : tools) {
        try {
            finish_map_tool(t);
        } catch (...) {
            if (!failed) failed = std::current_exception();
        }
    }
    if (failed) std::rethrow_exception(failed);
    if (uids.empty()) write_proc(pid, "uid_map", fmt::format("0 {} 1\n", uid));
    if (gids.empty()) {
        write_proc(pid, "setgroups", "deny");
        write_proc(pid, "gid_map", fmt::format("0 {} 1\n", gid));
    }
}

std::string unshare_error(int err) {
    std::string why = std::strerror(err);
    if (err == EPERM || err == ENOSPC || err == EACCES)
        why +=
            ": this system does not let users create user namespaces (check the sysctls "
            "user.max_user_namespaces, kernel.unprivileged_userns_clone and "
            "kernel.apparmor_restrict_unprivileged_userns), or strata runs in a container "
            "that forbids them; run strata as root instead";
    return "rootless strata could not create its user namespace: unshare(CLONE_NEWUSER | "
           "CLONE_NEWNS): " +
           why;
}

// Inside: the write end of the launcher's join pipe (below), kept from the
// environment at start; -1 when there is none.
constexpr const char* kJoinFdEnv = "_STRATA_ROOTLESS_JOIN_FD";
int g_join_fd = -1;

// Inside, at start: takes the join pipe out of the environment, and closes
// it on exec (a monitor or pasta started from here must not hold it).
void adopt_join_fd() {
    const char* v = std::getenv(kJoinFdEnv);
    if (!v) return;
    const int fd = std::atoi(v);
    ::unsetenv(kJoinFdEnv);
    if (fd > 2 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) g_join_fd = fd;
}

// Exports the join pipe's write end (`fd`) to the strata about to be
// executed in the namespace.
void pass_join_fd(int fd) {
    if (fd < 0 || ::fcntl(fd, F_SETFD, 0) != 0) return;
    ::setenv(kJoinFdEnv, std::to_string(fd).c_str(), 1);
}

// The child: makes the namespaces, waits until the parent has mapped the
// ids, and becomes strata again in them. Only the parent's errors are
// reported to the user; the child exits quietly when told nothing.
[[noreturn]] void child_main(Pipe& ready, Pipe& go_pipe, pid_t parent, bool all_groups_mapped,
                             const std::string& store_default, int join_fd, char** argv) {
    // The parent's ends: a parent that gives up must be seen as EOF here.
    ready.read.reset();
    go_pipe.write.reset();
    const int ready_fd = ready.write.get(), go_fd = go_pipe.read.get();
    int err = ::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno;
    if (::write(ready_fd, &err, sizeof err) != sizeof err || err != 0) _exit(1);
    char go = 0;
    if (!read_exact(go_fd, &go, 1) || go != '1') _exit(1);
    // The user's supplementary groups of the host are "nogroup" in here: gone.
    if (all_groups_mapped) ::setgroups(0, nullptr);
    // A strata killed in any way takes its namespace with it.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) _exit(1);
    ::setenv(store::kRootlessEnv, store_default.c_str(), 1);
    pass_join_fd(join_fd);
    ::execv("/proc/self/exe", argv);
    const std::string msg = fmt::format(
        "strata: error: execute /proc/self/exe in the user namespace: {}\n", std::strerror(errno));
    if (::write(2, msg.data(), msg.size()) < 0) {
    }
    _exit(1);
}

// A second child, for a command that must enter a container made by
// another rootless strata: it joins that strata's user namespace (the one
// the container's namespaces belong to; its owner, this user, may) instead
// of making one, and a mount namespace of its own in it.
[[noreturn]] void joined_child_main(int userns_fd, pid_t parent, const std::string& store_default,
                                    char** argv) {
    const char* failed = nullptr;
    if (::setns(userns_fd, CLONE_NEWUSER) != 0)
        failed = "setns(CLONE_NEWUSER) into the container's user namespace";
    else if (::unshare(CLONE_NEWNS) != 0)
        failed = "unshare(CLONE_NEWNS) in the container's user namespace";
    if (failed) {
        const std::string msg =
            fmt::format("strata: error: rootless strata: {}: {}\n", failed, std::strerror(errno));
        if (::write(2, msg.data(), msg.size()) < 0) {
        }
        _exit(125);
    }
    ::close(userns_fd);
    ::setgroups(0, nullptr);  // refused when setgroups is denied there: then they stay
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) _exit(1);
    ::setenv(store::kRootlessEnv, store_default.c_str(), 1);
    ::execv("/proc/self/exe", argv);
    const std::string msg = fmt::format(
        "strata: error: execute /proc/self/exe in the user namespace: {}\n", std::strerror(errno));
    if (::write(2, msg.data(), msg.size()) < 0) {
    }
    _exit(1);
}

// What the strata inside asked for on the join pipe (after it exited): the
// user namespace of "PID START" to run the command in, opened; none when it
// asked nothing.
UniqueFd requested_user_namespace(int join_read_fd) {
    std::string text;
    char buf[128];
    for (ssize_t n; (n = ::read(join_read_fd, buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<size_t>(n));
    long long pid = 0;
    unsigned long long start = 0;
    if (text.empty() || std::sscanf(text.c_str(), "%lld %llu", &pid, &start) != 2 || pid <= 0)
        return UniqueFd();
    const std::string path = fmt::format("/proc/{}/ns/user", pid);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    const auto now = process_start_time(static_cast<pid_t>(pid));
    if (!fd || !now || *now != start)
        throw Error(ErrorKind::kNotFound,
                    fmt::format("the container is not running: its process {} is gone", pid));
    return fd;
}

volatile sig_atomic_t g_child = 0;

// A signal sent to this process alone (kill, a supervisor's SIGTERM) goes on
// to the strata in the namespace. A terminal's (Ctrl-C, hangup: si_code
// SI_KERNEL) reached the whole process group, the child too, already.
void forward_signal(int sig, siginfo_t* info, void*) {
    if (info && info->si_code == SI_KERNEL) return;
    if (g_child > 0) ::kill(g_child, sig);
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

int run_in_user_namespace(char** argv, const std::string& command) {
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    const std::string name = user_name(uid);
    const auto uids = subordinate_ranges(read_text("/etc/subuid"), name, uid);
    const auto gids = subordinate_ranges(read_text("/etc/subgid"), name, uid);
    const std::string who = name.empty() ? fmt::format("uid {}", uid) : name;
    std::optional<fs::path> newuidmap, newgidmap;
    if (!uids.empty() && !(newuidmap = find_program("newuidmap")))
        throw Error(ErrorKind::kUsage,
                    "rootless strata needs newuidmap to map the subordinate ids that /etc/subuid "
                    "gives " +
                        who +
                        ": install the uidmap package (apt-get install uidmap; on Fedora "
                        "shadow-utils), or run strata as root");
    if (!gids.empty() && !(newgidmap = find_program("newgidmap")))
        throw Error(ErrorKind::kUsage,
                    "rootless strata needs newgidmap to map the subordinate ids that /etc/subgid "
                    "gives " +
                        who +
                        ": install the uidmap package (apt-get install uidmap; on Fedora "
                        "shadow-utils), or run strata as root");
    // Said once, by the commands that write layers.
    if ((uids.empty() || gids.empty()) &&
        (command == "build" || command == "import" || command == "load"))
        fmt::print(stderr,
                   "strata: warning: {} has no subordinate {} in {}: only your own uid and gid "
                   "are mapped (to root), so files owned by any other user or group cannot be "
                   "represented (chown in RUN fails, so does unpacking such an image); add a "
                   "range as root, e.g. usermod --add-subuids 100000-165535 --add-subgids "
                   "100000-165535 {}\n",
                   who,
                   uids.empty() && gids.empty() ? "ids"
                   : uids.empty()               ? "uids"
                                                : "gids",
                   uids.empty() && gids.empty() ? "/etc/subuid and /etc/subgid"
                   : uids.empty()               ? "/etc/subuid"
                                                : "/etc/subgid",
                   name.empty() ? "USER" : name);

    // Computed once, out here: inside, geteuid() is 0.
    std::string store_default;
    try {
        store_default = store::resolve_store_root(store::StoreRootInputs{}).string();
    } catch (const Error&) {
        // No HOME: the strata inside says so, when the command needs it.
    }

    Pipe ready = make_pipe("rootless setup"), go = make_pipe("rootless setup");
    // join_user_namespace_of's requests (the read end polled, never waited on).
    Pipe join = make_pipe("rootless setup");
    if (::fcntl(join.read.get(), F_SETFL, O_NONBLOCK) != 0)
        throw system_error("fcntl(O_NONBLOCK)", "rootless setup's pipe");
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw system_error("fork", "rootless strata");
    if (pid == 0) {
        join.read.reset();
        child_main(ready, go, parent, !gids.empty(), store_default, join.write.get(), argv);
    }
    ready.write.reset();
    go.read.reset();
    join.write.reset();

    int err = 0;
    if (!read_exact(ready.read.get(), &err, sizeof err) || err != 0) {
        wait_for(pid);
        throw Error(ErrorKind::kSystem,
                    err ? unshare_error(err) : "rootless strata: its child died while setting up");
    }
    try {
        map_ids(pid, uid, gid, uids, gids, newuidmap, newgidmap);
    } catch (...) {
        go.write.reset();  // the child reads EOF and exits
        wait_for(pid);
        throw;
    }

    g_child = pid;
    struct sigaction sa {};
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int sig : kForwarded)
        ::sigaction(sig, &sa, nullptr);
    bool started = false;
    {
        SigpipeBlock sigpipe;  // the child may already be gone: EPIPE, never our death
        started = ::write(go.write.get(), "1", 1) == 1;
        if (!started && errno == EPIPE) sigpipe.saw_epipe();
    }
    if (!started) {
        ::kill(pid, SIGKILL);
        wait_for(pid);
        throw system_error("start", "rootless strata");
    }
    go.write.reset();

    int status = wait_for(pid);
    if (status < 0) throw system_error("wait for", "rootless strata");
    // It asked to run in a container's user namespace instead: once more, there.
    if (UniqueFd userns = requested_user_namespace(join.read.get())) {
        pid = ::fork();
        if (pid < 0) throw system_error("fork", "rootless strata");
        if (pid == 0) joined_child_main(userns.get(), parent, store_default, argv);
        g_child = pid;
        status = wait_for(pid);
        if (status < 0) throw system_error("wait for", "rootless strata");
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    // Die of the same signal, as a shell expects of the command it ran.
    const int sig = WTERMSIG(status);
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
    return 128 + sig;
}

}  // namespace

std::optional<int> run_rootless_if_needed(int argc, char** argv) {
    if (std::getenv(store::kRootlessEnv)) adopt_join_fd();
    if (::geteuid() == 0) return std::nullopt;
    if (std::getenv(store::kRootlessEnv)) return std::nullopt;  // inside already
    if (!command_needs_store(argc, argv)) return std::nullopt;
    return run_in_user_namespace(argv, command_of(argc, argv));
}

void join_user_namespace_of(pid_t pid, uint64_t pid_start) {
    if (pid <= 0 || !std::getenv(store::kRootlessEnv)) return;
    struct stat ours {
    }, theirs{};
    if (::stat("/proc/self/ns/user", &ours) != 0) return;
    // Another user namespace's process cannot even be looked at (EACCES).
    const std::string path = fmt::format("/proc/{}/ns/user", pid);
    if (::stat(path.c_str(), &theirs) == 0) {
        if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev) return;
    } else if (errno != EACCES) {
        return;  // gone: the caller finds out and says so
    }
    if (g_join_fd < 0)
        throw Error(ErrorKind::kSystem,
                    fmt::format("the container's process {} runs in the user namespace of another "
                                "rootless strata, which this one cannot enter",
                                pid));
    const std::string request = fmt::format("{} {}\n", pid, pid_start);
    bool asked = false;
    {
        SigpipeBlock sigpipe;  // a launcher gone is an error here, never a SIGPIPE death
        asked = ::write(g_join_fd, request.data(), request.size()) ==
                static_cast<ssize_t>(request.size());
        if (!asked && errno == EPIPE) sigpipe.saw_epipe();
    }
    if (!asked)
        throw system_error("ask rootless strata to enter the container's user namespace",
                           "its pipe");
    // Nothing was done yet: the launcher runs the same command again in there.
    std::fflush(nullptr);
    ::_exit(0);
}

}  // namespace strata::cli
