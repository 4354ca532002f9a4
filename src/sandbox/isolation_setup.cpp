#include "sandbox/isolation_setup.hpp"

#include <fmt/format.h>

#include <atomic>
#include <optional>

#include "base/error.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_place.hpp"
#include "sandbox/seccomp_profile.hpp"

namespace strata::sandbox {

struct IsolationSetup::CgroupState {
    std::optional<Cgroup> cgroup;
    std::string why;  // no cgroup: the reason
};

IsolationSetup::IsolationSetup(IsolationSetup&&) noexcept = default;
IsolationSetup& IsolationSetup::operator=(IsolationSetup&&) noexcept = default;
IsolationSetup::~IsolationSetup() = default;

namespace {

std::atomic<bool> g_warned{false};
std::atomic<uint64_t> g_counter{0};

// strata's own place in the cgroup hierarchies, read once per process
// (/proc/self/mountinfo and /proc/self/cgroup) instead of once per step.
const std::optional<CgroupPlace>& own_place() {
    static const std::optional<CgroupPlace> place = [] {
        std::string why;
        return own_cgroup_place(why);
    }();
    return place;
}

std::optional<Cgroup> create_cgroup(const std::string& name, const CgroupLimits& limits,
                                    std::string& why) {
    const auto& place = own_place();
    // Without a place, create() checks the limits and says why.
    if (!place) return Cgroup::create(name, limits, why);
    return Cgroup::create_in(*place, name, limits, why);
}

}  // namespace

IsolationSetup IsolationSetup::prepare(const Isolation& iso, const std::string& /*description*/) {
    IsolationSetup s;
    // Privileged (as Docker's --privileged): every capability, no seccomp
    // filter, no device allow-list.
    s.caps_ = iso.privileged                                        ? all_capability_names()
              : iso.capabilities.empty() && !iso.exact_capabilities ? default_capabilities()
                                                                    : iso.capabilities;
    for (const auto& c : s.caps_)
        if (!capability_number(c))
            throw Error(ErrorKind::kUsage, "unknown capability \"" + c + "\"");
    if (iso.seccomp && !iso.privileged) {
        s.seccomp_ =
            iso.seccomp_profile.empty()
                ? default_seccomp_bpf(s.caps_)
                : compile_seccomp_profile(iso.seccomp_profile, s.caps_, iso.seccomp_profile_origin);
    }
    s.cgroup_ = std::make_unique<CgroupState>();
    if (iso.cgroups) {
        // Leftovers of a killed strata go, once per process (unless a
        // build's warm-up is sweeping already: nothing here depends on it).
        remove_stale_cgroups_once();
        CgroupLimits limits = iso.limits;
        if (iso.privileged) limits.devices = false;
        if (!limits.pids) limits.pids = kDefaultPidsLimit;
        if (*limits.pids <= 0) limits.pids.reset();  // --pids-limit -1: unlimited
        s.cgroup_->cgroup = create_cgroup(fmt::format("c{}", ++g_counter), limits, s.cgroup_->why);
        if (!s.cgroup_->cgroup && (iso.limits.memory_bytes || iso.limits.cpus || iso.limits.pids))
            throw Error(ErrorKind::kUsage,
                        "--memory, --cpus and --pids-limit need cgroups, which cannot be used "
                        "here: " +
                            s.cgroup_->why);
    }
    return s;
}

const std::vector<int>& IsolationSetup::cgroup_join_fds() const {
    static const std::vector<int> none;
    return cgroup_->cgroup ? cgroup_->cgroup->join_fds() : none;
}

void IsolationSetup::finish(Result& result, bool defer_removal) {
    if (cgroup_->cgroup) {
        result.oom_killed = cgroup_->cgroup->oom_killed();
        result.pids_limit_hit = cgroup_->cgroup->pids_limit_hit();
        if (defer_removal)
            result.leftovers.push_back(std::make_shared<Cgroup>(std::move(*cgroup_->cgroup)));
        cgroup_->cgroup.reset();  // kills what is left, removes the directories
    } else if (!cgroup_->why.empty() && !g_warned.exchange(true)) {
        result.warning =
            "running without cgroups (no device allow-list, pids, memory or CPU "
            "limits): " +
            cgroup_->why;
    }
}

}  // namespace strata::sandbox
