// strata-init: the process user (USER), resolved in the container's
// /etc/passwd and /etc/group as runc does.
#include <fstream>
#include <iterator>
#include <sstream>

#include "init.hpp"

namespace strata::init {

std::vector<std::vector<std::string>> read_colon_file(const std::string& path) {
    std::vector<std::vector<std::string>> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> fields;
        size_t i = 0;
        for (;;) {
            size_t j = line.find(':', i);
            fields.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
            if (j == std::string::npos) break;
            i = j + 1;
        }
        out.push_back(std::move(fields));
    }
    return out;
}

bool parse_id(const std::string& s, uint32_t& out) {
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const unsigned long long v = std::stoull(s);
    if (v > 0xFFFFFFFFull) return false;
    out = static_cast<uint32_t>(v);
    return true;
}

// USER user[:group] in the container's /etc/passwd and /etc/group: a name
// must be there; a numeric uid that is not runs with gid 0 and HOME "/";
// supplementary groups are those /etc/group lists the user name in.
User resolve_user(const std::string& spec) {
    User u;
    const size_t colon = spec.find(':');
    std::string name = spec.substr(0, colon);
    const std::string group = colon == std::string::npos ? std::string() : spec.substr(colon + 1);
    if (name.empty()) name.push_back('0');  // (not `= "0"`: GCC 12 warns falsely, -Wrestrict)
    uint32_t uid = 0;
    const bool numeric = parse_id(name, uid);
    const auto passwd = read_colon_file("/etc/passwd");
    const std::vector<std::string>* entry = nullptr;
    for (const auto& f : passwd) {
        uint32_t a = 0, b = 0;
        if (f.size() < 4 || !parse_id(f[2], a) || !parse_id(f[3], b)) continue;
        if (numeric ? a == uid : f[0] == name) {
            entry = &f;
            break;
        }
    }
    if (!numeric && !entry)
        die("unable to find user " + name + ": no matching entries in passwd file", 0);
    if (entry) {
        parse_id((*entry)[2], u.uid);
        parse_id((*entry)[3], u.gid);
        if (entry->size() > 5 && !(*entry)[5].empty()) u.home = (*entry)[5];
    } else {
        u.uid = uid;
    }
    const auto groups = read_colon_file("/etc/group");
    if (!group.empty()) {
        uint32_t gid = 0;
        if (parse_id(group, gid)) {
            u.gid = gid;
        } else {
            bool found = false;
            for (const auto& f : groups) {
                if (f.size() >= 3 && f[0] == group && parse_id(f[2], gid)) {
                    u.gid = gid;
                    found = true;
                    break;
                }
            }
            if (!found)
                die("unable to find group " + group + ": no matching entries in group file", 0);
        }
    }
    if (entry) {
        for (const auto& f : groups) {
            uint32_t gid = 0;
            if (f.size() < 4 || !parse_id(f[2], gid) || gid == u.gid) continue;
            std::stringstream members(f[3]);
            for (std::string m; std::getline(members, m, ',');) {
                if (m == (*entry)[0]) {
                    u.groups.push_back(gid);
                    break;
                }
            }
        }
    }
    return u;
}

}  // namespace strata::init
