#include "executor/container_runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <fstream>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "executor/owner.hpp"
#include "executor/source_view.hpp"

namespace strata::executor {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kTailLines = 20;
constexpr const char* kHostname = "buildkitsandbox";

std::string quoted_argv(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv)
        s += (s.empty() ? "" : " ") + a;
    return s;
}

// /etc/resolv.conf for the container: the host's, as BuildKit passes it.
std::string resolv_conf() {
    std::ifstream in("/etc/resolv.conf");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.empty() ? std::string("nameserver 127.0.0.1\n") : text;
}

// Keeps the last lines of the command's output, for the error message.
class OutputTail {
  public:
    void add(std::string line) {
        lines_.push_back(std::move(line));
        if (lines_.size() > kTailLines) lines_.pop_front();
    }
    std::string str() const {
        std::string s;
        for (const auto& l : lines_)
            s += l + "\n";
        return s;
    }

  private:
    std::deque<std::string> lines_;
};

struct Pipe {
    UniqueFd read, write;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error("pipe", "");
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
};

// Reads the command's output until every writer closed it, line by line.
void read_output(int fd, const RunRequest& r, OutputTail& tail) {
    std::string pending;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (n == 0) break;
        pending.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (r.output) r.output(line);
            tail.add(std::move(line));
        }
    }
    if (!pending.empty()) {
        if (r.output) r.output(pending);
        tail.add(pending);
    }
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

// What `--mount` becomes in the spec init reads.
json mount_spec(const ResolvedMount& rm, const fs::path& scratch, json& overlays, size_t index) {
    const planner::RunMount& m = rm.mount;
    json j{{"type", m.type}, {"target", m.target}};
    if (m.type == "tmpfs") return j;
    if (m.type == "secret" || m.type == "ssh")
        throw Error(ErrorKind::kUsage, fmt::format("RUN --mount=type={} is not supported yet: "
                                                   "strata has no --secret or --ssh",
                                                   m.type));
    if (m.type == "cache") {
        const fs::path dir = rm.sources.at(0);
        std::error_code ec;
        if (!fs::exists(dir, ec)) {
            fs::create_directories(dir, ec);
            if (ec) throw system_error("create cache mount directory", dir.string(), ec.value());
            auto opt = [&](const char* k, uint32_t def) {
                auto it = m.options.find(k);
                if (it == m.options.end()) return def;
                auto v = parse_id(it->second);
                return v ? *v : def;
            };
            uint32_t mode = 0755;
            if (auto it = m.options.find("mode"); it != m.options.end())
                mode = static_cast<uint32_t>(std::strtoul(it->second.c_str(), nullptr, 8));
            if (::chown(dir.c_str(), opt("uid", 0), opt("gid", 0)) != 0 ||
                ::chmod(dir.c_str(), mode) != 0)
                throw system_error("prepare cache mount directory", dir.string());
        }
        j["source"] = dir.string();
        j["readonly"] = false;
        return j;
    }
    // bind: from the context (one directory) or from a stage's layers,
    // merged by a read-only overlay that init mounts before the pivot.
    fs::path base;
    if (rm.sources.size() == 1) {
        base = rm.sources[0];
    } else if (rm.sources.empty()) {  // FROM scratch: nothing to see
        base = scratch / fmt::format("empty-{}", index);
        fs::create_directories(base);
    } else {
        base = scratch / fmt::format("mount-{}", index);
        fs::create_directories(base);
        json lowers = json::array();
        for (auto it = rm.sources.rbegin(); it != rm.sources.rend(); ++it)
            lowers.push_back(it->string());
        overlays.push_back({{"lower", lowers}, {"target", base.string()}});
    }
    std::string sub = rm.subpath;
    while (!sub.empty() && sub.front() == '/')
        sub.erase(0, 1);
    j["source"] = (sub.empty() ? base : base / sub).string();
    if (!m.read_only) {
        // A writable bind: writes land in a throwaway overlay, never in the
        // context or the stage (BuildKit discards them too).
        const fs::path upper = scratch / fmt::format("rw-upper-{}", index);
        const fs::path work = scratch / fmt::format("rw-work-{}", index);
        const fs::path merged = scratch / fmt::format("rw-{}", index);
        fs::create_directories(upper);
        fs::create_directories(work);
        fs::create_directories(merged);
        overlays.push_back({{"lower", json::array({j["source"]})},
                            {"upper", upper.string()},
                            {"work", work.string()},
                            {"target", merged.string()}});
        j["source"] = merged.string();
    }
    j["readonly"] = m.read_only;
    return j;
}

// What the child of clone() needs: descriptors and the exec arguments, all
// made before, since it runs on strata's memory until it execs.
struct ChildArgs {
    int null_fd, out_fd, status_fd;
    char* const* argv;
    char* const* envp;
};

int child_main(void* p) {
    const auto* a = static_cast<const ChildArgs*>(p);
    // (getppid() is 0 here, in the new PID namespace, so the usual check for
    // a parent that died before this line cannot be made; the container
    // would then just run to its end.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(a->null_fd, 0);
    ::dup2(a->out_fd, 1);
    ::dup2(a->out_fd, 2);
    ::dup2(a->status_fd, 3);
    ::execve(a->argv[0], a->argv, a->envp);
    _exit(125);
}

// A scratch file of the run: no fsync, it is gone when the step ends.
void write_scratch(const fs::path& path, const std::string& content) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw system_error("create", path.string());
    write_all(fd.get(), content.data(), content.size(), path.string());
}

}  // namespace

std::string run_failure_message(const std::vector<std::string>& argv, int exit_code) {
    return fmt::format("process \"{}\" did not complete successfully: exit code: {}",
                       quoted_argv(argv), exit_code);
}

ContainerRunner::ContainerRunner(fs::path init_binary) : init_(std::move(init_binary)) {}

std::optional<fs::path> ContainerRunner::find_init() {
    if (const char* e = std::getenv("STRATA_INIT"); e && *e) return fs::path(e);
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return std::nullopt;
    for (const fs::path& p : {self.parent_path() / "strata-init",
                              self.parent_path() / "../libexec/strata/strata-init"}) {
        if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec);
    }
    return std::nullopt;
}

std::string ContainerRunner::unavailable_reason(const std::optional<fs::path>& init) {
    if (::geteuid() != 0)
        return "RUN steps need root (namespaces and overlay mounts); rootless RUN with a user "
               "namespace is not supported yet";
    if (!init)
        return "RUN steps need strata-init, which was not found next to the strata binary "
               "(set STRATA_INIT to its path)";
    return {};
}

namespace {

class UnavailableRunner final : public RunExecutor {
  public:
    explicit UnavailableRunner(std::string why) : why_(std::move(why)) {}
    void run(const RunRequest&) override { throw Error(ErrorKind::kUsage, why_); }

  private:
    std::string why_;
};

}  // namespace

std::unique_ptr<RunExecutor> make_run_executor() {
    const auto init = ContainerRunner::find_init();
    const std::string why = ContainerRunner::unavailable_reason(init);
    if (!why.empty()) return std::make_unique<UnavailableRunner>(why);
    return std::make_unique<ContainerRunner>(*init);
}

void ContainerRunner::run(const RunRequest& r) {
    const planner::RunStep& step = *r.step;
    if (step.security == "insecure")
        throw Error(ErrorKind::kUsage, "RUN --security=insecure is not supported");
    const std::string network =
        step.network.empty() || step.network == "default" ? std::string("host") : step.network;
    if (network != "host" && network != "none")
        throw Error(ErrorKind::kUsage, "RUN --network=" + network + " is not supported");

    TempDir scratch = TempDir::create(r.upper_dir.parent_path(), "run-");
    const fs::path rootfs = scratch.path() / "rootfs";
    fs::create_directories(rootfs);

    json spec;
    spec["rootfs"] = rootfs.string();
    json lowers = json::array();
    for (auto it = r.lower_layers.rbegin(); it != r.lower_layers.rend(); ++it)
        lowers.push_back(it->string());
    if (r.lower_layers.empty()) {
        const fs::path empty = scratch.path() / "empty";
        fs::create_directories(empty);
        lowers.push_back(empty.string());
    } else {
        spec["layers_dir"] = r.lower_layers.front().parent_path().string();
    }
    spec["lower"] = lowers;
    spec["upper"] = r.upper_dir.string();
    spec["work"] = r.work_dir.string();

    const fs::path hosts = scratch.path() / "hosts";
    const fs::path resolv = scratch.path() / "resolv.conf";
    write_scratch(hosts, fmt::format("127.0.0.1\tlocalhost {}\n::1\tlocalhost "
                                     "ip6-localhost ip6-loopback\n",
                                     kHostname));
    write_scratch(resolv, resolv_conf());
    spec["hosts"] = hosts.string();
    spec["resolv"] = resolv.string();
    spec["hostname"] = kHostname;
    spec["network"] = network;

    json overlays = json::array(), mounts = json::array();
    for (size_t i = 0; i < r.mounts.size(); ++i)
        mounts.push_back(mount_spec(r.mounts[i], scratch.path(), overlays, i));
    spec["overlays"] = overlays;
    spec["mounts"] = mounts;
    json files = json::array();
    for (const auto& f : step.files)
        files.push_back(
            {{"path", "/dev/pipes/" + f.name}, {"content", f.content}, {"mode", f.mode}});
    spec["files"] = files;

    std::vector<std::string> env;
    for (const auto& [k, v] : step.env)
        env.push_back(k + "=" + v);
    for (const auto& [k, v] : step.proxy_env)
        env.push_back(k + "=" + v);
    spec["env"] = env;  // init adds HOME from /etc/passwd when not set
    spec["argv"] = step.argv;
    spec["user"] = step.user;  // resolved by init in the container's /etc/passwd
    spec["cwd"] = step.workdir.empty() ? std::string("/") : step.workdir;

    const fs::path spec_file = scratch.path() / "spec.json";
    write_scratch(spec_file, spec.dump());

    // Everything the child needs, ready before the clone: between clone and
    // exec it may only make system calls (other threads may hold locks).
    const std::string init = init_.string();
    const std::string spec_path = spec_file.string();
    char* const argv[] = {const_cast<char*>(init.c_str()), const_cast<char*>(spec_path.c_str()),
                          nullptr};
    char* const envp[] = {nullptr};
    Pipe out, status;
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null) throw system_error("open", "/dev/null");

    // vfork-style: the child shares strata's memory (no page tables to copy,
    // no copy-on-write faults) and this thread waits until it has exec'd.
    int flags =
        CLONE_VM | CLONE_VFORK | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
    if (network == "none") flags |= CLONE_NEWNET;
    ChildArgs child{null.get(), out.write.get(), status.write.get(), argv, envp};
    std::vector<char> stack(64 * 1024);
    const pid_t pid = ::clone(child_main, stack.data() + stack.size(), flags, &child);
    if (pid < 0) throw system_error("clone (new namespaces) for", r.description);
    out.write.reset();
    status.write.reset();

    OutputTail tail;
    read_output(out.read.get(), r, tail);
    int wstatus = 0;
    while (::waitpid(static_cast<pid_t>(pid), &wstatus, 0) < 0) {
        if (errno != EINTR) throw system_error("wait for", r.description);
    }
    const int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    // init's status lines: "stub:<path>" for each mount point file it made,
    // anything else is why it could not set the container up.
    std::string setup;
    {
        const std::string text = read_all(status.read.get());
        size_t pos = 0;
        while (pos < text.size()) {
            size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) nl = text.size();
            const std::string line = text.substr(pos, nl - pos);
            pos = nl + 1;
            if (line.rfind("stub:/", 0) == 0) {
                // Not part of the step's result; the directory holding it stays
                // (as in Docker 20.10's BuildKit).
                const fs::path p = r.upper_dir / line.substr(6);
                struct stat st {};
                if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
                    ::unlink(p.c_str());
            } else if (!line.empty()) {
                setup += line + "\n";
            }
        }
    }

    if (!setup.empty()) {
        std::string why = setup;
        while (!why.empty() && why.back() == '\n')
            why.pop_back();
        if (code == 126 || code == 127)
            throw RunFailed(fmt::format("{}: {}", run_failure_message(step.argv, code), why), code,
                            tail.str());
        throw Error(ErrorKind::kSystem, "the RUN container could not be set up: " + why);
    }
    if (code != 0) throw RunFailed(run_failure_message(step.argv, code), code, tail.str());
}

}  // namespace strata::executor
