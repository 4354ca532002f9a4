#include "executor/run/build_secrets.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "base/error.hpp"
#include "base/owner_name.hpp"
#include "planner/run_mount.hpp"

namespace strata::executor {

namespace fs = std::filesystem;

std::optional<std::string> process_env(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
}

// ---- --secret -------------------------------------------------------------

SecretSource parse_secret_flag(std::string_view spec) {
    SecretSource s;
    std::string type;
    for (const std::string& field : planner::csv_fields(spec)) {
        const size_t eq = field.find('=');
        std::string key = field.substr(0, eq);
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        // Messages name the key only: a mistyped field may hold a value.
        if (eq == std::string::npos)
            throw Error(ErrorKind::kUsage,
                        fmt::format("--secret: invalid field '{}' must be a key=value pair "
                                    "(id=ID[,src=FILE|,env=VAR])",
                                    key));
        const std::string value = field.substr(eq + 1);
        if (key == "type") {
            if (value != "file" && value != "env")
                throw Error(
                    ErrorKind::kUsage,
                    fmt::format("--secret: unsupported secret type \"{}\" (file or env)", value));
            type = value;
        } else if (key == "id") {
            s.id = value;
        } else if (key == "source" || key == "src") {
            s.file = value;
        } else if (key == "env") {
            s.env = value;
        } else {
            throw Error(ErrorKind::kUsage,
                        fmt::format("--secret: unexpected key '{}' (id, src, env or type)", key));
        }
    }
    if (type == "env" && s.env.empty()) {
        s.env = s.file;
        s.file.clear();
    }
    if (s.id.empty())
        throw Error(ErrorKind::kUsage,
                    "--secret: missing id= (e.g. --secret id=npmrc,src=$HOME/.npmrc)");
    return s;
}

SecretStore::SecretStore(const std::vector<SecretSource>& sources, EnvLookup env)
    : env_(std::move(env)) {
    for (SecretSource s : sources) {
        if (s.id.empty()) throw Error(ErrorKind::kUsage, "--secret: missing id=");
        if (s.env.empty() && s.file.empty()) {
            // `--secret id=X`: the variable X when it is set, else the file X.
            if (env_(s.id))
                s.env = s.id;
            else
                s.file = s.id;
        }
        if (!s.file.empty()) {
            struct stat st {};
            if (::stat(s.file.c_str(), &st) != 0) {
                const int err = errno;
                throw Error(ErrorKind::kUsage,
                            fmt::format("--secret id={}: cannot use the file '{}': {}{}", s.id,
                                        s.file, std::strerror(err),
                                        s.file == s.id ? " (nor is there a variable of that "
                                                         "name; give src=FILE or env=VAR)"
                                                       : ""));
            }
            if (static_cast<size_t>(st.st_size) > kMaxSecretSize)
                throw Error(ErrorKind::kUsage,
                            fmt::format("--secret id={}: '{}' is too big: a secret is at most "
                                        "500KiB",
                                        s.id, s.file));
        }
        sources_[s.id] = std::move(s);
    }
}

const SecretSource* SecretStore::source(const std::string& id) const {
    const auto it = sources_.find(id);
    return it == sources_.end() ? nullptr : &it->second;
}

std::optional<std::string> SecretStore::value(const std::string& id) const {
    const SecretSource* s = source(id);
    if (!s) return std::nullopt;
    if (!s->env.empty()) return env_(s->env).value_or("");
    UniqueFd fd(::open(s->file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error(fmt::format("open the file of secret {}", id), s->file);
    std::string out;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error(fmt::format("read the file of secret {}", id), s->file);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > kMaxSecretSize)
            throw Error(
                ErrorKind::kUsage,
                fmt::format("secret {}: '{}' is too big: a secret is at most 500KiB", id, s->file));
    }
    return out;
}

// ---- --ssh ----------------------------------------------------------------

SshSource parse_ssh_flag(std::string_view spec) {
    SshSource s;
    const size_t eq = spec.find('=');
    s.id = std::string(spec.substr(0, eq));
    if (eq != std::string_view::npos) {
        const std::string_view rest = spec.substr(eq + 1);
        size_t start = 0;
        for (;;) {
            const size_t comma = rest.find(',', start);
            s.paths.emplace_back(rest.substr(start, comma - start));
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
    }
    return s;
}

namespace {

std::string find_program(const std::string& name) {
    const std::string path = process_env("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
    size_t start = 0;
    for (;;) {
        const size_t colon = path.find(':', start);
        const std::string dir = path.substr(start, colon - start);
        if (!dir.empty()) {
            const std::string p = dir + "/" + name;
            if (::access(p.c_str(), X_OK) == 0) return p;
        }
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    for (const char* dir : {"/usr/bin", "/bin"}) {
        const std::string p = std::string(dir) + "/" + name;
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    throw Error(ErrorKind::kNotFound,
                fmt::format("--ssh with a key file needs {} (OpenSSH's client tools; Debian: "
                            "apt-get install openssh-client), and it is not on PATH",
                            name));
}

// A child process in its own session (no terminal to ask a passphrase on),
// stdin from /dev/null, stdout and stderr into a pipe.
struct Child {
    pid_t pid = -1;
    UniqueFd out;
};

Child spawn(const std::string& program, const std::vector<std::string>& args,
            const std::vector<std::string>& env, bool die_with_parent) {
    std::vector<char*> argv, envp;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw system_error("pipe2", program);
    UniqueFd rd(p[0]), wr(p[1]);
    UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devnull) throw system_error("open", "/dev/null");
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw system_error("fork", program);
    if (pid == 0) {
        // Only async-signal-safe calls from here on.
        if (die_with_parent) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
        }
        ::setsid();
        if (::dup2(devnull.get(), 0) < 0 || ::dup2(wr.get(), 1) < 0 || ::dup2(wr.get(), 2) < 0)
            ::_exit(127);
        ::close_range(3, ~0U, 0);
        ::execve(program.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    return Child{pid, std::move(rd)};
}

// Reads what `fd` gives until `done(text)` says enough, EOF or the deadline.
std::string read_until(int fd, std::chrono::steady_clock::time_point deadline,
                       const std::function<bool(const std::string&)>& done) {
    std::string out;
    char buf[4096];
    while (!done(out)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd pfd{fd, POLLIN, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    return s;
}

}  // namespace

SshAgents::SshAgents(const std::vector<SshSource>& sources, EnvLookup env) {
    try {
        for (const SshSource& src : sources) {
            const std::string id = src.id.empty() ? "default" : src.id;
            if (sockets_.count(id))
                throw Error(ErrorKind::kUsage, fmt::format("--ssh: the id {} is given twice", id));
            std::vector<std::string> paths = src.paths;
            if (paths.empty() || (paths.size() == 1 && paths[0].empty())) {
                paths = {env("SSH_AUTH_SOCK").value_or("")};
                if (paths[0].empty())
                    throw Error(ErrorKind::kUsage,
                                fmt::format("--ssh {}: SSH_AUTH_SOCK is not set: start an agent "
                                            "(eval $(ssh-agent); ssh-add) or name a socket or "
                                            "key file: --ssh {}=PATH",
                                            id, id));
            }
            std::optional<fs::path> socket;
            std::vector<std::string> keys;
            for (const std::string& p : paths) {
                struct stat st {};
                if (::stat(p.c_str(), &st) != 0) {
                    const int err = errno;
                    throw Error(ErrorKind::kUsage, fmt::format("--ssh {}: cannot use '{}': {}", id,
                                                               p, std::strerror(err)));
                }
                if (S_ISSOCK(st.st_mode)) {
                    if (socket || !keys.empty())
                        throw Error(ErrorKind::kUsage,
                                    fmt::format("--ssh {}: one agent socket, or key files, not "
                                                "both and not two sockets",
                                                id));
                    socket = fs::absolute(p);
                } else if (S_ISREG(st.st_mode)) {
                    if (socket)
                        throw Error(ErrorKind::kUsage,
                                    fmt::format("--ssh {}: one agent socket, or key files, not "
                                                "both",
                                                id));
                    keys.push_back(fs::absolute(p).string());
                } else {
                    throw Error(ErrorKind::kUsage,
                                fmt::format("--ssh {}: '{}' is neither an agent socket nor a key "
                                            "file",
                                            id, p));
                }
            }
            if (socket) {
                sockets_[id] = *socket;
                continue;
            }
            // Key files: an agent of our own, for this build only.
            Agent a;
            // In TMPDIR (a socket's path must stay short), named for this
            // process: a killed build's directory goes with the next one's.
            a.dir = owned_temp_dir(fs::temp_directory_path(), "strata-ssh-");
            a.socket = a.dir->path() / "agent.sock";
            if (a.socket.string().size() >= 108)
                throw Error(ErrorKind::kSystem,
                            fmt::format("--ssh {}: the agent socket path '{}' is too long for a "
                                        "unix socket; set TMPDIR to a shorter directory",
                                        id, a.socket.string()));
            const std::string agent = find_program("ssh-agent");
            Child c =
                spawn(agent, {agent, "-D", "-a", a.socket.string()}, {"PATH=/usr/bin:/bin"}, true);
            a.pid = c.pid;
            a.out = std::move(c.out);
            started_.push_back(std::move(a));
            Agent& started = started_.back();
            // With -D it prints "SSH_AUTH_SOCK=…" once the socket listens.
            const std::string said = read_until(
                started.out.get(), std::chrono::steady_clock::now() + std::chrono::seconds(10),
                [](const std::string& s) { return s.find('\n') != std::string::npos; });
            if (said.find("SSH_AUTH_SOCK") == std::string::npos)
                throw Error(ErrorKind::kSystem,
                            fmt::format("--ssh {}: {} did not start: {}", id, agent,
                                        said.empty() ? "no output" : trimmed(said)));
            const std::string add = find_program("ssh-add");
            std::vector<std::string> args{add, "-q", "--"};
            args.insert(args.end(), keys.begin(), keys.end());
            Child ac = spawn(add, args,
                             {"PATH=/usr/bin:/bin", "SSH_AUTH_SOCK=" + started.socket.string(),
                              "SSH_ASKPASS_REQUIRE=never"},
                             true);
            const std::string out = read_until(
                ac.out.get(), std::chrono::steady_clock::now() + std::chrono::seconds(30),
                [](const std::string&) { return false; });
            ::kill(ac.pid, SIGKILL);  // gone already unless it hung past the deadline
            const int status = reap(ac.pid);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                throw Error(ErrorKind::kUsage,
                            fmt::format("--ssh {}: ssh-add could not load the key file{} ({}); a "
                                        "key with a passphrase must be added to your own agent "
                                        "and passed as --ssh {}=$SSH_AUTH_SOCK",
                                        id, keys.size() > 1 ? "s" : "",
                                        out.empty() ? "no output" : trimmed(out), id));
            sockets_[id] = started.socket;
        }
    } catch (...) {
        stop_all();
        throw;
    }
}

SshAgents::SshAgents(SshAgents&& o) noexcept
    : sockets_(std::move(o.sockets_)), started_(std::move(o.started_)) {
    o.started_.clear();
}

SshAgents& SshAgents::operator=(SshAgents&& o) noexcept {
    if (this != &o) {
        stop_all();
        sockets_ = std::move(o.sockets_);
        started_ = std::move(o.started_);
        o.started_.clear();
    }
    return *this;
}

SshAgents::~SshAgents() {
    stop_all();
}

void SshAgents::stop_all() noexcept {
    for (Agent& a : started_) {
        if (a.pid > 0) {
            ::kill(a.pid, SIGTERM);
            reap(a.pid);
            a.pid = -1;
        }
    }
    started_.clear();  // the TempDirs go, with the sockets in them
}

std::optional<fs::path> SshAgents::socket(const std::string& id) const {
    const auto it = sockets_.find(id);
    if (it == sockets_.end()) return std::nullopt;
    return it->second;
}

}  // namespace strata::executor
