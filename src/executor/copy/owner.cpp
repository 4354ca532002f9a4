#include "executor/copy/owner.hpp"

#include <vector>

#include "base/error.hpp"
#include "executor/copy/source_view.hpp"

namespace strata::executor {

namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    for (;;) {
        size_t j = line.find(':', i);
        if (j == std::string_view::npos) {
            out.push_back(line.substr(i));
            return out;
        }
        out.push_back(line.substr(i, j - i));
        i = j + 1;
    }
}

// Calls fn(fields) for each usable line; stops when fn returns true.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string_view::npos) j = text.size();
        std::string_view line = text.substr(i, j - i);
        i = j + 1;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.remove_suffix(1);
        while (!line.empty() && line.front() == ' ')
            line.remove_prefix(1);
        if (line.empty() || line.front() == '#') continue;
        if (fn(split_fields(line))) return;
    }
}

std::optional<std::string> read_optional(const SourceView& image, std::string_view path) {
    auto node = image.lookup(path, /*follow_final=*/true);
    if (!node || node->type != FileType::kRegular) return std::nullopt;
    return image.read_all(*node);
}

}  // namespace

std::optional<uint32_t> parse_id(std::string_view text) {
    if (text.empty() || text.size() > 10) return std::nullopt;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > 0xFFFFFFFFull) return std::nullopt;
    return static_cast<uint32_t>(v);
}

std::optional<PasswdEntry> find_passwd_entry(std::string_view passwd_text, std::string_view name) {
    std::optional<PasswdEntry> found;
    for_each_line(passwd_text, [&](const std::vector<std::string_view>& f) {
        if (f.size() < 4 || f[0] != name) return false;
        auto uid = parse_id(f[2]);
        auto gid = parse_id(f[3]);
        if (!uid || !gid) return false;
        found = PasswdEntry{std::string(f[0]), *uid, *gid};
        return true;
    });
    return found;
}

std::optional<GroupEntry> find_group_entry(std::string_view group_text, std::string_view name) {
    std::optional<GroupEntry> found;
    for_each_line(group_text, [&](const std::vector<std::string_view>& f) {
        if (f.size() < 3 || f[0] != name) return false;
        auto gid = parse_id(f[2]);
        if (!gid) return false;
        found = GroupEntry{std::string(f[0]), *gid};
        return true;
    });
    return found;
}

ChownSpec ChownSpec::parse(std::string_view text) {
    ChownSpec spec;
    size_t colon = text.find(':');
    spec.user = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) spec.group = std::string(text.substr(colon + 1));
    if (spec.user.empty() || (spec.group && spec.group->empty()))
        throw Error(ErrorKind::kUsage,
                    "invalid --chown value '" + std::string(text) + "': expected user[:group]");
    return spec;
}

Owner ChownSpec::resolve(const SourceView& image) const {
    Owner owner;
    if (auto id = parse_id(user)) {
        owner.uid = *id;
        owner.gid = *id;
    } else {
        auto passwd = read_optional(image, "/etc/passwd");
        auto entry = passwd ? find_passwd_entry(*passwd, user) : std::nullopt;
        if (!entry)
            throw Error(ErrorKind::kNotFound, "--chown: unknown user '" + user +
                                                  "': no such user in /etc/passwd of " +
                                                  image.description());
        owner.uid = entry->uid;
        owner.gid = entry->gid;
    }
    if (group) {
        if (auto id = parse_id(*group)) {
            owner.gid = *id;
        } else {
            auto groups = read_optional(image, "/etc/group");
            auto entry = groups ? find_group_entry(*groups, *group) : std::nullopt;
            if (!entry)
                throw Error(ErrorKind::kNotFound, "--chown: unknown group '" + *group +
                                                      "': no such group in /etc/group of " +
                                                      image.description());
            owner.gid = entry->gid;
        }
    }
    return owner;
}

}  // namespace strata::executor
