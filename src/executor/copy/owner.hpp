// --chown for COPY/ADD: "user[:group]", each a numeric id or a name looked up
// in the destination image's /etc/passwd and /etc/group.
//
// As BuildKit: a numeric user without a group gives gid = uid; a user name
// without a group gives that user's primary gid from /etc/passwd. Unlike
// BuildKit (which silently falls back to 0), an unknown name is an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::executor {

class SourceView;

struct Owner {
    uint32_t uid = 0;
    uint32_t gid = 0;
    bool operator==(const Owner&) const = default;
};

// One entry of an /etc/passwd or /etc/group file.
struct PasswdEntry {
    std::string name;
    uint32_t uid = 0;
    uint32_t gid = 0;
};
struct GroupEntry {
    std::string name;
    uint32_t gid = 0;
};

// First entry named `name` in the text of an /etc/passwd (/etc/group) file;
// blank, comment and malformed lines are skipped.
std::optional<PasswdEntry> find_passwd_entry(std::string_view passwd_text, std::string_view name);
std::optional<GroupEntry> find_group_entry(std::string_view group_text, std::string_view name);

struct ChownSpec {
    std::string user;
    std::optional<std::string> group;

    // Throws strata::Error(kUsage) for an empty user or group part.
    static ChownSpec parse(std::string_view text);

    // Resolves names with /etc/passwd and /etc/group read through `image`
    // (symlinks resolved inside it). Throws strata::Error(kNotFound) naming
    // the user or group when a name is not there.
    Owner resolve(const SourceView& image) const;
};

// Parses a decimal id ("1000"); nullopt for anything else or out of range.
std::optional<uint32_t> parse_id(std::string_view text);

}  // namespace strata::executor
