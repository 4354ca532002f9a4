#include "sandbox/cgroup.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

#include "base/error.hpp"
#include "sandbox/cgroup_files.hpp"
#include "sandbox/cgroup_kill.hpp"
#include "sandbox/device_filter.hpp"

namespace strata::sandbox {
namespace {

constexpr int64_t kCpuPeriodUs = 100'000;             // Docker's and runc's CFS period
constexpr int64_t kMinCpuQuotaUs = 1'000;             // the kernel's minimum quota
constexpr int64_t kMinMemoryBytes = 6 * 1024 * 1024;  // Docker's minimum for --memory
constexpr std::string_view kNoLimits =
    "so containers run without memory, CPU, pids and device limits";

void check_name(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 128 && name[0] != '.' &&
                    name.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == std::string::npos;
    if (!ok)
        throw Error(ErrorKind::kInternal,
                    fmt::format("cgroup name '{}': use 1 to 128 letters, digits, '.', '_' or '-', "
                                "not starting with '.'",
                                name));
}

int64_t cpu_quota_us(double cpus) {
    return std::llround(cpus * kCpuPeriodUs);
}

void check_limits(const CgroupLimits& limits) {
    if (limits.memory_bytes && *limits.memory_bytes < kMinMemoryBytes)
        throw Error(ErrorKind::kUsage,
                    fmt::format("--memory {}: the minimum is 6 MiB", *limits.memory_bytes));
    if (limits.cpus &&
        !(std::isfinite(*limits.cpus) && cpu_quota_us(*limits.cpus) >= kMinCpuQuotaUs))
        throw Error(ErrorKind::kUsage,
                    fmt::format("--cpus {}: give a number of CPUs of at least 0.01", *limits.cpus));
}

// What a limit is called for a user, for `why`.
std::string_view limit_name(std::string_view controller) {
    if (controller == "memory") return "--memory";
    if (controller == "cpu") return "--cpus";
    if (controller == "pids") return "the pids limit";
    return "the device allow-list";
}

std::string write_failure(const std::string& path, std::string_view value, int err) {
    return fmt::format("cannot write '{}' to {} ({}), {}", value, path, std::strerror(err),
                       kNoLimits);
}

std::set<std::string, std::less<>> words(std::string_view text) {
    std::set<std::string, std::less<>> out;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = text.find_first_not_of(" \n", pos);
        if (start == std::string_view::npos) break;
        const size_t end = std::min(text.find_first_of(" \n", start), text.size());
        out.emplace(text.substr(start, end - start));
        pos = end;
    }
    return out;
}

}  // namespace

// Builds the cgroup; each step either succeeds or sets `why` and returns false.
class CgroupBuilder {
  public:
    CgroupBuilder(Cgroup& cgroup, const CgroupLimits& limits, std::string& why)
        : cg_(cgroup), limits_(limits), why_(why) {}

    bool make_dir(const std::string& dir) {
        if (::mkdir(dir.c_str(), 0755) != 0) {
            const int err = errno;
            if (err == EEXIST)
                throw Error(ErrorKind::kConflict,
                            fmt::format("mkdir '{}': a cgroup of that name exists already", dir));
            why_ = fmt::format(
                "cannot create the cgroup {} ({}): strata may not make cgroups below its own "
                "(run it as root, or rootless with a delegated cgroup v2 subtree), {}",
                dir, std::strerror(err), kNoLimits);
            return false;
        }
        cg_.dirs_.push_back(dir);
        return true;
    }

    bool write(const std::string& dir, std::string_view file, std::string_view value) {
        const std::string path = dir + "/" + std::string(file);
        if (const int err = cgroup_files::write_value(path, value)) {
            why_ = write_failure(path, value, err);
            return false;
        }
        return true;
    }

    bool build_v1(const CgroupPlace& place, const std::string& dir_name) {
        std::vector<std::string> needed;
        if (limits_.pids) needed.push_back("pids");
        if (limits_.memory_bytes) needed.push_back("memory");
        if (limits_.cpus) needed.push_back("cpu");
        if (limits_.devices) needed.push_back("devices");
        for (const std::string& c : needed) {
            if (place.v1.count(c) == 0) {
                why_ = fmt::format(
                    "the cgroup v1 {} controller is not mounted (see /proc/self/mountinfo), so {} "
                    "cannot be enforced and containers run without cgroup limits",
                    c, limit_name(c));
                return false;
            }
        }
        // The freezer stops processes while they are killed; pids lists them
        // even without a limit.
        for (const char* extra : {"freezer", "pids"})
            if (place.v1.count(extra) &&
                std::find(needed.begin(), needed.end(), extra) == needed.end())
                needed.push_back(extra);
        // Controllers mounted together (cpu,cpuacct) share one directory.
        for (const std::string& c : needed) {
            const std::string dir = place.v1.at(c) + "/" + dir_name;
            if (std::find(cg_.dirs_.begin(), cg_.dirs_.end(), dir) == cg_.dirs_.end() &&
                !make_dir(dir))
                return false;
            cg_.controller_dirs_.emplace_back(c, dir);
        }
        if (limits_.pids && *limits_.pids > 0 &&
            !write(cg_.dir_of("pids"), "pids.max", std::to_string(*limits_.pids)))
            return false;
        if (limits_.memory_bytes) {
            const std::string dir = cg_.dir_of("memory");
            const std::string bytes = std::to_string(*limits_.memory_bytes);
            if (!write(dir, "memory.limit_in_bytes", bytes)) return false;
            // With swap accounting (the memsw files exist) the same number caps
            // memory plus swap, so a step cannot swap its way past --memory.
            // memsw may not be below the memory limit, hence this order.
            if (cgroup_files::exists(dir + "/memory.memsw.limit_in_bytes") &&
                !write(dir, "memory.memsw.limit_in_bytes", bytes))
                return false;
        }
        if (limits_.cpus) {
            const std::string dir = cg_.dir_of("cpu");
            if (!write(dir, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)) ||
                !write(dir, "cpu.cfs_quota_us", std::to_string(cpu_quota_us(*limits_.cpus))))
                return false;
        }
        if (limits_.devices) {
            const std::string dir = cg_.dir_of("devices");
            // Deny all, then allow each rule: one rule per write.
            if (!write(dir, "devices.deny", "a")) return false;
            std::vector<std::string> rules;
            for (const DeviceRule& rule : default_device_rules())
                rules.push_back(device_rule_line(rule));
            const std::string path = dir + "/devices.allow";
            size_t failed = 0;
            if (const int err = cgroup_files::write_values(path, rules, failed)) {
                why_ = write_failure(path, failed < rules.size() ? rules[failed] : "", err);
                return false;
            }
        }
        return true;
    }

    bool build_v2(const CgroupPlace& place, const std::string& dir_name) {
        const std::string& parent = place.v2;
        std::vector<std::string> needed;
        if (limits_.pids && *limits_.pids > 0) needed.push_back("pids");
        if (limits_.memory_bytes) needed.push_back("memory");
        if (limits_.cpus) needed.push_back("cpu");
        if (!needed.empty() && !enable_controllers(parent, needed)) return false;
        const std::string dir = parent + "/" + dir_name;
        if (!make_dir(dir)) return false;
        for (const char* c : {"pids", "memory", "cpu", "devices", "freezer"})
            cg_.controller_dirs_.emplace_back(c, dir);
        if (limits_.pids && *limits_.pids > 0 &&
            !write(dir, "pids.max", std::to_string(*limits_.pids)))
            return false;
        if (limits_.memory_bytes) {
            if (!write(dir, "memory.max", std::to_string(*limits_.memory_bytes))) return false;
            // No swap on top of --memory (the file is there with swap accounting).
            if (cgroup_files::exists(dir + "/memory.swap.max") &&
                !write(dir, "memory.swap.max", "0"))
                return false;
        }
        if (limits_.cpus &&
            !write(dir, "cpu.max", fmt::format("{} {}", cpu_quota_us(*limits_.cpus), kCpuPeriodUs)))
            return false;
        if (limits_.devices) {
            // cgroup v2 has no devices controller: a BPF program decides.
            UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            try {
                if (!dir_fd) throw system_error("open", dir);
                const UniqueFd program = load_device_filter(default_device_rules());
                attach_device_filter(dir_fd.get(), program.get(), dir);
            } catch (const Error& e) {
                why_ = fmt::format("cannot install the device allow-list in the cgroup {} ({}), {}",
                                   dir, e.what(), kNoLimits);
                return false;
            }
        }
        return true;
    }

    // v1: the `tasks` file, not `cgroup.procs`. The kernel moves a whole
    // thread group (cgroup.procs, or any write naming a pid) only under the
    // global cgroup_threadgroup_rwsem taken for writing, and taking that
    // percpu rwsem waits for an RCU grace period — up to 20 ms on this
    // class of machine, once per RUN step. Writing "0" to `tasks` moves the
    // calling thread alone and skips that lock (cgroup_procs_write_start:
    // "pid || threadgroup" decides; kernels without that test took it for
    // both, so `tasks` is never the slower one). For the
    // sandbox's child, a single-threaded process between clone and exec,
    // the thread is the whole process. v2 has no such file for domain
    // cgroups (cgroup.threads is for threaded subtrees only).
    bool open_join_fds() {
        const char* file = cg_.version_ == CgroupVersion::kV1 ? "tasks" : "cgroup.procs";
        for (const std::string& dir : cg_.dirs_) {
            const std::string path = dir + "/" + file;
            UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
            if (!fd) {
                why_ = fmt::format("cannot open {} for writing ({}), {}", path,
                                   std::strerror(errno), kNoLimits);
                return false;
            }
            cg_.join_fd_numbers_.push_back(fd.get());
            cg_.join_fds_.push_back(std::move(fd));
        }
        return true;
    }

  private:
    // cgroup v2 hands a controller to children only when the parent lists
    // it in cgroup.subtree_control, and the kernel refuses that (EBUSY) while
    // the parent itself holds processes, unless it is the root.
    bool enable_controllers(const std::string& parent, const std::vector<std::string>& needed) {
        const auto available = cgroup_files::read_value(parent + "/cgroup.controllers");
        const auto enabled = cgroup_files::read_value(parent + "/cgroup.subtree_control");
        const auto have = words(available.value_or(""));
        const auto on = words(enabled.value_or(""));
        for (const std::string& c : needed) {
            if (on.count(c)) continue;
            if (!have.count(c)) {
                why_ = fmt::format(
                    "the {} controller is not available to strata's cgroup {} "
                    "({}/cgroup.controllers "
                    "has '{}'), so {} cannot be enforced and containers run without cgroup limits",
                    c, parent, parent, fmt::join(have, " "), limit_name(c));
                return false;
            }
            const std::string path = parent + "/cgroup.subtree_control";
            if (const int err = cgroup_files::write_value(path, "+" + c)) {
                why_ = fmt::format(
                    "cannot enable the {} controller in {} ({}){}, {}", c, path, std::strerror(err),
                    err == EBUSY ? ": strata's cgroup holds processes, which cgroup v2 allows only "
                                   "in a leaf (start strata in a cgroup of its own, e.g. "
                                   "systemd-run --scope -p Delegate=yes)"
                                 : "",
                    kNoLimits);
                return false;
            }
        }
        return true;
    }

    Cgroup& cg_;
    const CgroupLimits& limits_;
    std::string& why_;
};

std::optional<Cgroup> Cgroup::create(const std::string& name, const CgroupLimits& limits,
                                     std::string& why) {
    check_name(name);
    check_limits(limits);
    const auto place = own_cgroup_place(why);
    if (!place) {
        why += ", " + std::string(kNoLimits);
        return std::nullopt;
    }
    return create_in(*place, name, limits, why);
}

std::optional<Cgroup> Cgroup::create_in(const CgroupPlace& place, const std::string& name,
                                        const CgroupLimits& limits, std::string& why) {
    check_name(name);
    check_limits(limits);
    Cgroup cg;  // removes what was made when a step fails
    cg.version_ = place.version;
    CgroupBuilder builder(cg, limits, why);
    const std::string dir_name = own_cgroup_prefix() + name;
    const bool built = place.version == CgroupVersion::kV2 ? builder.build_v2(place, dir_name)
                                                           : builder.build_v1(place, dir_name);
    if (!built || !builder.open_join_fds()) return std::nullopt;
    return std::optional<Cgroup>(std::move(cg));
}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : version_(other.version_),
      dirs_(std::move(other.dirs_)),
      controller_dirs_(std::move(other.controller_dirs_)),
      join_fds_(std::move(other.join_fds_)),
      join_fd_numbers_(std::move(other.join_fd_numbers_)) {
    other.dirs_.clear();
    other.controller_dirs_.clear();
    other.join_fds_.clear();
    other.join_fd_numbers_.clear();
}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
    if (this != &other) {
        release();
        version_ = other.version_;
        dirs_ = std::move(other.dirs_);
        controller_dirs_ = std::move(other.controller_dirs_);
        join_fds_ = std::move(other.join_fds_);
        join_fd_numbers_ = std::move(other.join_fd_numbers_);
        other.dirs_.clear();
        other.controller_dirs_.clear();
        other.join_fds_.clear();
        other.join_fd_numbers_.clear();
    }
    return *this;
}

Cgroup::~Cgroup() {
    release();
}

void Cgroup::release() noexcept {
    join_fds_.clear();
    join_fd_numbers_.clear();
    if (dirs_.empty()) return;
    CgroupDirs dirs;
    dirs.version = version_;
    dirs.dirs = dirs_;
    if (version_ == CgroupVersion::kV1) dirs.freezer = dir_of("freezer");
    kill_and_remove(dirs);
    dirs_.clear();
    controller_dirs_.clear();
}

std::string Cgroup::dir_of(std::string_view controller) const {
    for (const auto& [c, dir] : controller_dirs_)
        if (c == controller) return dir;
    return {};
}

void Cgroup::add(pid_t pid) const {
    // cgroup.procs (not the join descriptors, which are `tasks` on v1): the
    // whole thread group of `pid` moves.
    const std::string text = std::to_string(pid);
    for (const std::string& dir : dirs_) {
        const std::string path = dir + "/cgroup.procs";
        if (const int err = cgroup_files::write_value(path, text))
            throw system_error(fmt::format("write pid {} to", pid), path, err);
    }
}

bool Cgroup::oom_killed() const {
    const std::string dir = dir_of("memory");
    if (dir.empty()) return false;
    if (version_ == CgroupVersion::kV2) {
        const auto events = cgroup_files::read_value(dir + "/memory.events");
        return events && cgroup_files::keyed_value(*events, "oom_kill") > 0;
    }
    const auto control = cgroup_files::read_value(dir + "/memory.oom_control");
    if (control && control->find("oom_kill ") != std::string::npos)
        return cgroup_files::keyed_value(*control, "oom_kill") > 0;
    // Kernels before 4.13 do not count kills: the limit was at least reached.
    const auto failcnt = cgroup_files::read_value(dir + "/memory.failcnt");
    return failcnt && std::atoll(failcnt->c_str()) > 0;
}

bool Cgroup::pids_limit_hit() const {
    const std::string dir = dir_of("pids");
    if (dir.empty()) return false;
    const auto events = cgroup_files::read_value(dir + "/pids.events");
    return events && cgroup_files::keyed_value(*events, "max") > 0;
}

}  // namespace strata::sandbox
