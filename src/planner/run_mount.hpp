// `RUN --mount=...` values: a CSV list of key=value fields (BuildKit's
// parseMount). The planner needs `from=` for the stage graph and the
// expanded fields for the RUN step and its cache key.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::planner {

struct MountSpec {
    std::string type = "bind";
    std::string from, source, target, id;
    bool read_only = true;
    bool required = false;                       // secret, ssh: a missing secret/agent is an error
    std::optional<std::string> env;              // secret: env=NAME was given (maybe empty)
    std::optional<uint32_t> mode, uid, gid;      // secret, ssh, cache: file info of the mount
    std::optional<uint64_t> size_bytes;          // tmpfs: size=, in bytes
    std::map<std::string, std::string> options;  // every field as given, key lower case
};

// Thrown for a malformed mount; the caller locates it.
struct MountError {
    std::string message;
};

// One CSV record (Go's encoding/csv): fields split on ',', a field may be
// quoted with '"' (a doubled quote inside is a literal quote). Also what
// `--secret` values are made of.
std::vector<std::string> csv_fields(std::string_view text);

// Parses one --mount value. `expand`, when set, is applied to every value
// (BuildKit expands mount values with the stage's variables); without it,
// a from= with a variable is refused with BuildKit's error. Validates as
// BuildKit's parseMount does: `required` only for secret and ssh (after
// type=), mode/uid/gid not for bind and tmpfs, `sharing` only for cache,
// `size` only for tmpfs, a secret without from= and sharing=, naming an id
// (id=, source= or the target's base name), never both id= and source=.
MountSpec parse_mount(std::string_view value,
                      const std::function<std::string(const std::string&)>& expand = {});

// A secret or ssh mount with BuildKit's defaults applied (its LLB form).
struct SecretMountInfo {
    std::string id;      // secret: id=, else source=, else basename(target); ssh: id= or "default"
    std::string target;  // in the container; empty for a secret with env= and no target
    std::string env;     // secret: the variable that receives the value; empty for none
    bool required = false;
    uint32_t mode = 0, uid = 0, gid = 0;  // secret 0400, ssh 0600
};

// `ssh_index`: how many ssh mounts come before this one in the same RUN
// (the default target is /run/buildkit/ssh_agent.<ssh_index>). Throws
// MountError for what BuildKit rejects at this point (ssh with source=).
SecretMountInfo secret_mount_info(const MountSpec& m, size_t ssh_index);

}  // namespace strata::planner
