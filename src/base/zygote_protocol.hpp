// What strata and `strata-init --zygote` say to each other
// (src/sandbox/zygote.hpp, runtime/init_zygote.cpp): one request per
// container on a SOCK_SEQPACKET socket, one reply.
//
// A request is a ZygoteRequest with its descriptors (SCM_RIGHTS), in this
// order: the `fd_count` descriptors that become the new init's 0, 1, 2, ...
// (stdin, stdout, stderr, the status pipe, the spec, the extra ones the
// spec names), the `cgroup_join_count` cgroup.procs files it joins, and
// the network namespace it enters when `has_netns`. The zygote clones
// itself into the new namespaces `clone_flags` names (CLONE_PARENT: the
// new init is strata's child, waited for by strata as before) and answers
// with a ZygoteReply: the new init's pid, or the clone's errno. Before the
// first request the zygote sends a Reply of its own pid: it is ready.
#pragma once

#include <cstdint>

namespace strata::zygote {

// The zygote's end of the socket, in `strata-init --zygote`.
constexpr int kSocketFd = 3;
// Where the new init finds its spec (the descriptor at this position).
constexpr int kSpecFd = 4;

constexpr uint32_t kMagic = 0x5a79676f;  // "Zygo"

struct Request {
    uint32_t magic = kMagic;
    int32_t clone_flags = 0;  // namespaces only (CLONE_NEW*)
    int32_t fd_count = 0;
    int32_t cgroup_join_count = 0;
    int32_t has_netns = 0;
    int32_t new_cgroup_ns = 1;
};

struct Reply {
    int32_t pid = -1;  // in strata's PID namespace
    int32_t error = 0;
};

}  // namespace strata::zygote
