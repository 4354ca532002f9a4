#include "sandbox/cgroup_place.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <set>
#include <vector>

#include "sandbox/cgroup_files.hpp"

namespace strata::sandbox {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    size_t pos = 0;
    for (;;) {
        const size_t end = text.find(sep, pos);
        parts.push_back(text.substr(pos, end == std::string_view::npos ? end : end - pos));
        if (end == std::string_view::npos) return parts;
        pos = end + 1;
    }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const std::string_view oct = field.substr(i + 1, 3);
            if (oct.find_first_not_of("01234567") == std::string_view::npos) {
                out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

struct CgroupMount {
    std::string root;  // the directory of the hierarchy mounted there
    std::string mount_point;
    bool v2 = false;
    std::set<std::string, std::less<>> options;  // super options: controllers for v1
};

std::vector<CgroupMount> cgroup_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    for (std::string_view line : split(mountinfo, '\n')) {
        // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
        const std::vector<std::string_view> f = split(line, ' ');
        size_t dash = 0;
        while (dash < f.size() && f[dash] != "-")
            ++dash;
        if (dash < 6 || dash + 2 >= f.size()) continue;
        const std::string_view fstype = f[dash + 1];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        CgroupMount m;
        m.root = unescape(f[3]);
        m.mount_point = unescape(f[4]);
        m.v2 = fstype == "cgroup2";
        if (dash + 3 < f.size())
            for (std::string_view o : split(f[dash + 3], ','))
                m.options.emplace(o);
        mounts.push_back(std::move(m));
    }
    return mounts;
}

// The directory of cgroup `path` (as /proc/self/cgroup names it) under
// `m`, when `m` shows that part of the hierarchy.
std::optional<std::string> dir_under(const CgroupMount& m, const std::string& path) {
    std::string rest;
    if (m.root == "/") {
        rest = path;
    } else if (path == m.root) {
        rest = "/";
    } else if (path.size() > m.root.size() && path.compare(0, m.root.size(), m.root) == 0 &&
               path[m.root.size()] == '/') {
        rest = path.substr(m.root.size());
    } else {
        return std::nullopt;
    }
    std::string dir = m.mount_point;
    if (rest != "/") dir += rest;
    return dir;
}

}  // namespace

std::optional<CgroupPlace> parse_cgroup_place(std::string_view mountinfo,
                                              std::string_view proc_self_cgroup,
                                              bool sys_fs_cgroup_is_v2) {
    const std::vector<CgroupMount> mounts = cgroup_mounts(mountinfo);
    CgroupPlace place;
    for (std::string_view line : split(proc_self_cgroup, '\n')) {
        // HIERARCHY-ID:CONTROLLERS:PATH ("0::/path" for cgroup2)
        const size_t c1 = line.find(':');
        if (c1 == std::string_view::npos) continue;
        const size_t c2 = line.find(':', c1 + 1);
        if (c2 == std::string_view::npos) continue;
        const std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
        const std::string path(line.substr(c2 + 1));
        if (path.empty() || path[0] != '/') continue;
        if (controllers.empty()) {
            // The cgroup2 tree: prefer its mount at /sys/fs/cgroup.
            std::optional<std::string> found;
            for (const CgroupMount& m : mounts) {
                if (!m.v2) continue;
                auto dir = dir_under(m, path);
                if (!dir) continue;
                if (!found || m.mount_point == "/sys/fs/cgroup") found = dir;
            }
            if (found) place.v2 = *found;
            continue;
        }
        const std::vector<std::string_view> names = split(controllers, ',');
        for (const CgroupMount& m : mounts) {
            if (m.v2) continue;
            bool all = true;
            for (std::string_view n : names)
                all = all && m.options.count(n) > 0;
            if (!all) continue;
            auto dir = dir_under(m, path);
            if (!dir) continue;
            for (std::string_view n : names)
                if (n.substr(0, 5) != "name=") place.v1.emplace(std::string(n), *dir);
            break;
        }
    }
    if (sys_fs_cgroup_is_v2 && !place.v2.empty()) {
        place.version = CgroupVersion::kV2;
        place.v1.clear();
    } else if (!place.v1.empty()) {
        place.version = CgroupVersion::kV1;
    } else if (!place.v2.empty()) {
        place.version = CgroupVersion::kV2;
    } else {
        return std::nullopt;
    }
    return place;
}

std::optional<CgroupPlace> own_cgroup_place(std::string& why) {
    const auto mountinfo = cgroup_files::read_value("/proc/self/mountinfo");
    const auto cgroup = cgroup_files::read_value("/proc/self/cgroup");
    if (!mountinfo || !cgroup) {
        why =
            "cannot read /proc/self/mountinfo or /proc/self/cgroup, so strata cannot find its "
            "own cgroup";
        return std::nullopt;
    }
    struct statfs fs {};
    const bool v2 = ::statfs("/sys/fs/cgroup", &fs) == 0 &&
                    static_cast<unsigned long>(fs.f_type) == CGROUP2_SUPER_MAGIC;
    auto place = parse_cgroup_place(*mountinfo, *cgroup, v2);
    if (!place)
        why =
            "no cgroup file system that holds strata's own cgroup is mounted (see "
            "/proc/self/mountinfo)";
    return place;
}

}  // namespace strata::sandbox
