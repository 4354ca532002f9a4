// remove_stale_cgroups: the cgroups that a killed strata left behind.
#include <atomic>
#include <filesystem>
#include <map>

#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_kill.hpp"
#include "sandbox/cgroup_name.hpp"

namespace strata::sandbox {

void remove_stale_cgroups_in(const CgroupPlace& place) {
    // One leftover cgroup has a directory in each v1 hierarchy: gather them by name.
    std::map<std::string, CgroupDirs> stale;
    auto scan = [&](const std::string& parent, CgroupVersion version, bool freezer) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
            const std::string name = entry.path().filename().string();
            const auto owner = parse_cgroup_owner(name);
            if (!owner || !entry.is_directory(ec) || !owner_gone(*owner)) continue;
            CgroupDirs& dirs = stale[(version == CgroupVersion::kV2 ? "2/" : "1/") + name];
            dirs.version = version;
            dirs.dirs.push_back(entry.path().string());
            if (freezer) dirs.freezer = entry.path().string();
        }
    };
    std::map<std::string, bool> v1_parents;  // parent dir → holds the freezer
    for (const auto& [controller, dir] : place.v1)
        v1_parents[dir] |= controller == "freezer";
    for (const auto& [dir, freezer] : v1_parents)
        scan(dir, CgroupVersion::kV1, freezer);
    // Also the cgroup2 tree of a hybrid system (cgroups there come from create_in).
    if (!place.v2.empty()) scan(place.v2, CgroupVersion::kV2, false);
    for (const auto& [name, dirs] : stale)
        kill_and_remove(dirs);
}

void remove_stale_cgroups() {
    std::string why;
    if (const auto place = own_cgroup_place(why)) remove_stale_cgroups_in(*place);
}

bool claim_stale_cgroups_sweep() {
    static std::atomic<bool> claimed{false};
    return !claimed.exchange(true);
}

void remove_stale_cgroups_once() {
    if (claim_stale_cgroups_sweep()) remove_stale_cgroups();
}

}  // namespace strata::sandbox
