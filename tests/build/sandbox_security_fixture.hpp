// What the RUN sandbox's security tests share (sandbox_security_test.cpp):
// a BuildTest with the busybox image and a real ContainerRunner, a host
// secret with a random marker to look for in every layer, a TCP service on
// the host's loopback, an image with device nodes, the strata CLI run as a
// child, and the checks that nothing of a step — mount, process, cgroup —
// outlives it.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "build_fixture.hpp"
#include "executor/run/container_runner.hpp"
#include "frontend/diagnostic.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_place.hpp"
#include "support/proc_processes.hpp"

namespace strata::buildtest {

inline std::string random_hex(size_t bytes = 8) {
    std::random_device rd;
    std::string s;
    for (size_t i = 0; i < bytes; ++i)
        s += fmt::format("{:02x}", rd() & 0xff);
    return s;
}

// Whether `text` mentions `needle` (for readable EXPECTs).
inline bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// Directories named `prefix`* directly under this process's cgroup, in every
// hierarchy (v1 controllers and the cgroup2 tree): the cgroups of steps that
// were not removed.
inline std::vector<std::string> cgroups_named(const std::string& prefix) {
    std::string why;
    const auto place = sandbox::own_cgroup_place(why);
    std::vector<std::string> out;
    if (!place) return out;
    std::vector<std::string> parents;
    for (const auto& [controller, dir] : place->v1)
        parents.push_back(dir);
    if (!place->v2.empty()) parents.push_back(place->v2);
    for (const auto& parent : parents) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(parent, ec)) {
            const std::string name = e.path().filename().string();
            if (name.rfind(prefix, 0) == 0 && e.is_directory()) out.push_back(e.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// How many processes on the machine run with exactly this command line.
inline int processes_running(const std::string& cmdline) {
    int n = 0;
    for (const auto& dir : test_support::process_dirs()) {
        std::string line = test_support::process_cmdline(dir);
        std::replace(line.begin(), line.end(), '\0', ' ');
        if (line == cmdline + " ") ++n;
    }
    return n;
}

// Waits (bounded) until no process runs with this command line; the number
// still running at the end.
inline int wait_until_gone(const std::string& cmdline,
                           std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int n = processes_running(cmdline);
    while (n > 0 && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        n = processes_running(cmdline);
    }
    return n;
}

// A TCP service on the host's 127.0.0.1 (an ephemeral port): every
// connection gets `reply`, then is closed. Stopped and joined on destruction.
class HostTcpServer {
  public:
    explicit HostTcpServer(std::string reply) : reply_(std::move(reply)) {
        fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd_) throw std::runtime_error("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd_.get(), 16) != 0 ||
            ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("bind/listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~HostTcpServer() {
        stop_ = true;
        thread_.join();
    }
    int port() const { return port_; }
    int connections() const { return connections_; }

  private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!c) continue;
            ++connections_;
            if (::write(c.get(), reply_.data(), reply_.size()) < 0) {
            }
        }
    }

    std::string reply_;
    UniqueFd fd_;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

// A loop device over a file of `dir` that starts with `marker`: a block
// device root can read on any machine (unlike a VM's disk, which the
// hypervisor may refuse to open). Detached on destruction.
class LoopDevice {
  public:
    static std::optional<LoopDevice> attach(const fs::path& dir, const std::string& marker) {
        const fs::path backing = dir / "loop-backing.img";
        imagetest::write_file(backing, marker + "\n" + std::string(1 << 20, '\0'));
        const fs::path out = dir / "loop-name";
        if (imagetest::shell("losetup -f --show '" + backing.string() + "' > '" + out.string() +
                             "' 2>/dev/null") != 0)
            return std::nullopt;
        std::string name = imagetest::read_file(out);
        while (!name.empty() && name.back() == '\n')
            name.pop_back();
        struct stat st {};
        if (name.empty() || ::stat(name.c_str(), &st) != 0 || !S_ISBLK(st.st_mode))
            return std::nullopt;
        return LoopDevice(name, st.st_rdev);
    }
    LoopDevice(LoopDevice&& o) noexcept : name_(std::move(o.name_)), dev_(o.dev_) {
        o.name_.clear();
    }
    LoopDevice& operator=(LoopDevice&&) = delete;
    ~LoopDevice() {
        if (!name_.empty()) imagetest::shell("losetup -d '" + name_ + "'");
    }
    dev_t dev() const { return dev_; }

  private:
    LoopDevice(std::string name, dev_t dev) : name_(std::move(name)), dev_(dev) {}
    std::string name_;
    dev_t dev_;
};

// A device node entry of a crafted layer.
struct DeviceEntry {
    std::string name;
    bool block = true;
    unsigned major = 0, minor = 0;
};

// A root filesystem tar (libarchive, PAX) with busybox (bin/busybox and
// the applets a test needs) and the given device nodes: an image a stranger
// could publish.
inline std::string busybox_tar_with_devices(const std::vector<DeviceEntry>& devices) {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    auto header = [&](const std::string& name, unsigned type, mode_t perm,
                      const std::function<void(archive_entry*)>& more = {}) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, perm);
        archive_entry_set_mtime(e, 0, 0);
        if (more) more(e);
        archive_write_header(a, e);
        return e;
    };
    for (const char* d : {"bin", "etc", "tmp", "root"})
        archive_entry_free(header(d, AE_IFDIR, 0755));
    const std::string busybox = imagetest::read_file("/bin/busybox");
    archive_entry* e = header("bin/busybox", AE_IFREG, 0755, [&](archive_entry* x) {
        archive_entry_set_size(x, static_cast<la_int64_t>(busybox.size()));
    });
    archive_write_data(a, busybox.data(), busybox.size());
    archive_entry_free(e);
    for (const char* applet : {"sh", "dd", "cat", "echo", "ls", "true", "stat"})
        archive_entry_free(
            header(std::string("bin/") + applet, AE_IFLNK, 0777,
                   [](archive_entry* x) { archive_entry_set_symlink(x, "busybox"); }));
    const std::string passwd = "root:x:0:0:root:/root:/bin/sh\n";
    e = header("etc/passwd", AE_IFREG, 0644, [&](archive_entry* x) {
        archive_entry_set_size(x, static_cast<la_int64_t>(passwd.size()));
    });
    archive_write_data(a, passwd.data(), passwd.size());
    archive_entry_free(e);
    for (const auto& d : devices)
        archive_entry_free(
            header(d.name, d.block ? AE_IFBLK : AE_IFCHR, 0666, [&](archive_entry* x) {
                archive_entry_set_rdevmajor(x, d.major);
                archive_entry_set_rdevminor(x, d.minor);
            }));
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

// The strata CLI, run to its end as a child with its output (stdout and
// stderr) captured.
struct CliRun {
    pid_t pid = -1;
    int exit_code = -1;
    std::string output;
};

// `while_running`, when given, is called with strata's pid on another
// thread while it runs (and joined before the run is reaped).
inline CliRun run_strata(const std::vector<std::string>& args,
                         const std::function<void(pid_t)>& while_running = {}) {
    std::vector<std::string> full = {STRATA_BINARY};
    full.insert(full.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : full)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    // The environment, prepared before the fork (the child only execs).
    std::vector<std::string> env_s = {std::string("STRATA_INIT=") + STRATA_INIT};
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).rfind("STRATA_INIT=", 0) != 0) env_s.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_s)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    CliRun r;
    r.pid = ::fork();
    if (r.pid == 0) {
        ::dup2(p[1], 1);
        ::dup2(p[1], 2);
        ::execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    ::close(p[1]);
    std::thread watcher;
    if (while_running) watcher = std::thread([&, pid = r.pid] { while_running(pid); });
    char buf[4096];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        r.output.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    if (watcher.joinable()) watcher.join();
    int status = 0;
    ::waitpid(r.pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// The limit files of the cgroups named `prefix`* (pids.max, memory and CPU
// limits of v1 and v2, devices.list), polled until all of pids, memory and
// CPU (and on v1 the devices list) were seen or `limit` passed: what a
// running step's cgroup holds. Only a cgroup with a process in it counts:
// one just made may not have its limits written yet (a step joins its
// cgroups once they are set up, one v1 hierarchy after another: the
// devices one may not have the process yet when the others do).
inline std::map<std::string, std::string> poll_cgroup_limits(
    const std::string& prefix, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::map<std::string, std::string> seen;
    const auto end = std::chrono::steady_clock::now() + limit;
    auto have = [&](const char* a, const char* b) { return seen.count(a) || seen.count(b); };
    while (!(seen.count("pids.max") && have("memory.limit_in_bytes", "memory.max") &&
             have("cpu.cfs_quota_us", "cpu.max") && have("memory.max", "devices.list")) &&
           std::chrono::steady_clock::now() < end) {
        for (const auto& dir : cgroups_named(prefix)) {
            std::string procs;
            for (const char* members : {"cgroup.procs", "tasks"}) {
                std::ifstream in(fs::path(dir) / members);
                procs.assign((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
                if (!procs.empty()) break;
            }
            if (procs.empty()) continue;
            for (const char* f : {"pids.max", "memory.limit_in_bytes", "memory.max",
                                  "cpu.cfs_quota_us", "cpu.max", "devices.list"}) {
                std::ifstream in(fs::path(dir) / f);
                std::string v((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
                if (in && !v.empty()) seen[f] = v;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return seen;
}

class SandboxSecurityTest : public RunBuildTest {
  public:
    void SetUp() override {
        RunBuildTest::SetUp();
        if (IsSkipped()) return;
        use_runner({});
        // A host file no RUN step may read: its marker must never reach a layer.
        secret_marker_ = "strata-host-secret-" + random_hex();
        imagetest::write_file(secret_dir() / "secret.txt", secret_marker_ + "\n");
    }

    void use_runner(executor::RunnerOptions options) {
        run_ = nullptr;
        runner_.reset();
        use_container_runner(std::move(options));
    }

    // The host directory that holds secret.txt, and the same path relative
    // to the host's root (how a Dockerfile names it after climbing out).
    fs::path secret_dir() const { return dir_.path() / "host"; }
    std::string secret_rel() const { return secret_dir().relative_path().string(); }
    const std::string& marker() const { return secret_marker_; }

    // The build's error (message and hint), nullopt when it succeeded.
    std::optional<std::string> failure(const executor::BuildRequest& req) {
        try {
            build(req);
        } catch (const frontend::ParseError& e) {
            return e.diagnostic().message + "\n" + e.diagnostic().hint;
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::nullopt;
    }
    std::optional<std::string> failure(const std::string& dockerfile_text) {
        return failure(request(dockerfile_text));
    }

    // The marker (the host secret's by default) is in no file and no
    // symlink of any of the image's layers.
    void expect_marker_nowhere(const executor::BuildResult& r, const std::string& what,
                               const std::string& marker = {}) {
        const std::string& m = marker.empty() ? secret_marker_ : marker;
        for (size_t i = 0; i < r.image.layers.size(); ++i) {
            for (const auto& [path, node] : layer(r, i)) {
                EXPECT_FALSE(contains(node.data, m))
                    << what << ": host content is in layer " << i << " at " << path;
            }
        }
    }

    // lstat of `path` in one layer (unpacked afresh).
    std::optional<struct stat> stat_in_layer(const executor::BuildResult& r, size_t index,
                                             const std::string& path) {
        TempDir out = TempDir::create(dir_.path(), "layer-stat-");
        UniqueFd fd = store().content().open(r.image.layers.at(index).digest);
        store::apply_layer(fd.get(), out.path());
        struct stat st {};
        if (::lstat((out.path() / path.substr(1)).c_str(), &st) != 0) return std::nullopt;
        return st;
    }

    // Lines of /proc/self/mountinfo that mention `dir` (the store by default).
    static std::vector<std::string> mounts_under(const fs::path& dir) {
        std::ifstream in("/proc/self/mountinfo");
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);)
            if (contains(line, dir.string())) out.push_back(line);
        return out;
    }
    std::vector<std::string> store_mounts() { return mounts_under(root()); }

    // After a step (failed or not): no mount of the store, no cgroup of
    // this process's steps.
    void expect_nothing_left(const std::string& what) {
        EXPECT_EQ(store_mounts(), std::vector<std::string>{}) << what << ": mounts left";
        EXPECT_EQ(cgroups_named(sandbox::own_cgroup_prefix()), std::vector<std::string>{})
            << what << ": cgroups left";
    }

    std::string secret_marker_;
};

}  // namespace strata::buildtest
