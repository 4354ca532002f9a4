// Rootless strata: started by a user other than root, strata runs its command
// again inside a new user namespace and mount namespace where it is root —
// the user's own uid/gid are 0 there and the user's subordinate ids
// (/etc/subuid, /etc/subgid, set up through Debian's uidmap package) are
// 1, 2, ..., as `buildah unshare` and rootless Podman do. The store belongs
// to the user (its files to the subordinate ids); RUN steps get namespaces,
// overlay mounts and chown without any privilege on the host.
//
//   strata (uid 1000)                      the parent: waits, forwards signals,
//     │ fork                                exits with the child's status
//     └─ child: unshare(USER|NS) ── pipe ── parent runs newuidmap/newgidmap
//          └─ execve(/proc/self/exe, same argv), _STRATA_ROOTLESS=<store>
//
// Without subordinate ids only the user is mapped (0 → uid), which needs no
// helper; files owned by any other id cannot exist in the store then.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::cli {

// `count` ids from `start`, in the parent namespace.
struct IdRange {
    uint64_t start = 0, count = 0;
    bool operator==(const IdRange&) const = default;
};

// The ranges that /etc/subuid or /etc/subgid (`text`) give the user called
// `name` with uid `uid` (lines "name:start:count" or "uid:start:count"), in
// file order; malformed lines and empty ranges are skipped.
std::vector<IdRange> subordinate_ranges(std::string_view text, std::string_view name, uint64_t uid);

// newuidmap/newgidmap's arguments after the pid: "0 self 1", then each range
// from id 1 on ("1 start count", "1+count start2 count2", ...).
std::vector<std::string> id_map_args(uint64_t self, const std::vector<IdRange>& ranges);

// The subcommand on a strata command line ("" for none); `--root DIR` is
// skipped.
std::string command_of(int argc, char** argv);

// Whether the command line runs a command that opens the store, i.e. anything
// but `parse`, help and --version.
bool command_needs_store(int argc, char** argv);

// Run as a user other than root, for a command that needs the store: runs
// the same command line inside a new user and mount namespace (above) and
// returns its exit status — or dies of the signal that killed it. nullopt:
// carry on in this process (root, already inside, or no store needed).
// Throws Error when the namespace cannot be made (names the cause: no
// newuidmap, user namespaces disabled, a refused mapping).
std::optional<int> run_rootless_if_needed(int argc, char** argv);

// Rootless: a running container's namespaces belong to the user namespace
// of the rootless strata that started it, and each strata command makes a
// namespace of its own, from which another's cannot be entered (as Podman
// has every rootless command join one namespace; strata has no process to
// keep one). So a command that enters a running container (exec, cp) calls
// this first, before it has done anything: when the container's init `pid`
// (started at `pid_start`) lives in another user namespace, it asks the
// launcher outside — which, as the user who owns both, may — to run the same
// command line again joined to that namespace, and exits quietly; the
// launcher's exit status is then the second run's. Returns at once as root,
// or in the same namespace. Throws Error when it cannot ask (strata was not
// started by the launcher).
void join_user_namespace_of(pid_t pid, uint64_t pid_start);

}  // namespace strata::cli
