// What the sandbox runs: a root filesystem, mounts, one process and an
// isolation profile. Nothing here knows about Dockerfiles or images; the
// executor (RUN) and `strata run` fill it in.
//
// Trust: the store paths (layers, upper/work directories, scratch) are
// strata's own. Everything else that came from a Dockerfile, an image or a
// user — mount targets, `source_path`s inside a mount's root, the working
// directory, the user — is resolved inside its root, never on the host.
#pragma once

#include <sys/types.h>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/temp_dir.hpp"
#include "sandbox/cgroup.hpp"

namespace strata::sandbox {

// The container's root: an overlay of read-only layers (lowest first) and,
// when `upper` is set, a writable upper directory whose content the caller
// keeps (a RUN step's new layer). No lower layers: an empty root.
struct RootFs {
    std::vector<std::filesystem::path> lower;
    std::filesystem::path upper, work;  // same filesystem; both empty for a read-only root
    // `docker run --read-only`: the root is made read-only once the container
    // is set up (as runc does: a read-only bind remount of /), so that mount
    // points the image lacks (/etc/hosts, volume targets) can still be made
    // first. With `upper` set it stays the container's upper directory and
    // receives nothing but those mount points (removed again after); without
    // one a throwaway upper directory in the scratch holds them. (A root
    // without `upper` and without this flag is read-only too, but then every
    // mount point must exist in the layers.)
    bool read_only = false;
    // `upper` is scratch, as a RUN step's is (its layer is written from it
    // and made durable as a blob, and it is thrown away if the build fails):
    // the overlay is mounted `volatile`, so neither the command's fsyncs nor
    // the unmount write back the whole filesystem under it, as Buildah's
    // build containers do. A throwaway upper (read_only without `upper`, the
    // writable binds of --mount) is always volatile.
    bool scratch_upper = false;
};

struct Mount {
    enum class Kind {
        kBind,    // a directory or file from `source`, resolved inside it
        kTmpfs,   // a fresh tmpfs
        kSecret,  // a file holding `content`, on a tmpfs, never on disk
        kSocket,  // a host unix socket (`source` is its trusted path), e.g. an ssh agent
    };
    Kind kind = Kind::kBind;
    std::string target;  // inside the container (resolved inside its root)

    // kBind: the source is `source_path` resolved inside `source_root` (a
    // trusted host directory: the build context, a cache directory) or inside
    // the read-only overlay of `source_layers` (lowest first; a stage or an
    // image). Neither set: an empty directory (FROM scratch).
    std::filesystem::path source_root;
    std::vector<std::filesystem::path> source_layers;
    std::string source_path;
    bool read_only = true;
    // A writable bind whose writes are thrown away (BuildKit's `rw` bind of
    // the context or a stage): an overlay with a scratch upper directory.
    bool discard_writes = false;

    // kTmpfs: its size, and the mode of its root (default 1777)
    std::optional<uint64_t> size_bytes;
    std::optional<uint32_t> tmpfs_mode;

    // kSecret: the bytes, and the file's mode and owner in the container.
    std::string content;
    uint32_t mode = 0400, uid = 0, gid = 0;

    // kSocket
    std::filesystem::path socket;
};

// A file to create before the process starts (heredoc scripts under
// /dev/pipes), on a tmpfs.
struct InlineFile {
    std::string path, content;
    uint32_t mode = 0755;
};

enum class Network {
    kHost,     // the host's network namespace
    kNone,     // a new namespace with loopback only
    kPrivate,  // the namespace in `netns_fd`: user-mode NAT through pasta
};

// --memory, --cpus, --pids-limit, and the device allow-list.
using Limits = CgroupLimits;

// How a process is isolated: the sandbox (overlay, namespaces, pivot_root),
// or chroot isolation for where namespaces or mounts are refused (an
// unprivileged pod): a private copy of the layers, chroot, and the
// namespaces that are allowed (chroot_isolation.hpp). kAuto is resolved by
// the caller (probe_isolation()) before a Spec reaches the sandbox.
enum class IsolationMode { kAuto, kSandbox, kChroot };

// Chroot isolation: what the environment allows (probe_isolation()).
struct ChrootAllowed {
    bool mount_ns = false;  // a private mount namespace, where mounts can be made
    bool pid_ns = false, ipc_ns = false, uts_ns = false, net_ns = false, cgroup_ns = false;
    bool operator==(const ChrootAllowed&) const = default;
};

struct Isolation {
    IsolationMode mode = IsolationMode::kSandbox;
    ChrootAllowed chroot;  // kChroot
    Network network = Network::kHost;
    int netns_fd = -1;  // kPrivate: a network namespace shared by the build's steps
    std::vector<std::string> capabilities;  // empty: Docker's default 14
    bool exact_capabilities = false;        // `capabilities` even when empty (--cap-drop ALL)
    bool seccomp = true;                    // Docker's default profile, or `seccomp_profile`
    std::string seccomp_profile;            // JSON text of another profile ("" = default)
    std::string seccomp_profile_origin;     // its file name, for errors
    bool no_new_privileges = false;
    Limits limits;
    bool cgroups = true;  // a cgroup of its own (devices, pids, memory, cpu)
    // `docker run --privileged`: every capability (`capabilities` is
    // ignored), no seccomp filter, the host's device nodes in /dev and no
    // device allow-list, /sys read-write, no masked or read-only /proc and
    // /sys paths. Namespaces, the cgroup's limits and the root stay.
    bool privileged = false;
    bool operator==(const Isolation&) const = default;
};

struct Process {
    std::vector<std::string> argv;
    std::vector<std::string> env;  // KEY=VALUE; HOME is added from /etc/passwd when missing
    std::string user;              // USER syntax: name|uid[:group|gid]; "" = root
    std::string cwd = "/";         // made when missing, as BuildKit does
    std::string hostname = "buildkitsandbox";
    std::string hosts;        // /etc/hosts content
    std::string resolv_conf;  // /etc/resolv.conf content
};

struct Spec {
    RootFs root;
    std::vector<Mount> mounts;
    std::vector<InlineFile> files;
    Process process;
    Isolation isolation;
    // A directory of strata's on the store's filesystem for this run's
    // scratch (mount points, throwaway upper directories); removed after.
    std::filesystem::path scratch_parent;
    std::string description;  // for messages: "RUN make"
};

struct Result {
    int exit_code = 0;        // the command's, 128 + signal when killed
    std::string setup_error;  // why the container could not be set up ("" if it could)
    // Files the sandbox made as mount points inside the writable root
    // (absolute, cleaned); the caller removes them from the layer.
    std::vector<std::string> stubs;
    bool oom_killed = false;      // the memory limit killed something
    bool pids_limit_hit = false;  // a fork failed on the pids limit
    std::string output_tail;      // the last lines the process printed
    std::string warning;          // isolation that could not be had (no cgroups), once per process
    // What the ended container leaves to clean up — its scratch directory
    // (its root's mount point, hosts, resolv.conf) and, when it had a PID
    // namespace (nothing of it can still run), its emptied cgroup — released
    // with the Result: a caller may keep them to release later, off its
    // critical path.
    std::vector<std::shared_ptr<void>> leftovers;
};

// Called with each line the process prints (stdout and stderr), as it comes.
using OutputSink = std::function<void(std::string_view line)>;

// Where the process's standard streams go (`strata run`, `exec`). The
// default is what a RUN step gets: stdin /dev/null, stdout and stderr one
// pipe read line by line into the OutputSink given to wait()/run().
struct Stdio {
    // The caller's descriptors, duplicated into the process as its 0, 1 and
    // 2 (the caller keeps and closes its own). -1: the default for that
    // stream (stdin /dev/null; stdout, stderr the line pipe). stdout and
    // stderr stay apart when both are given, as `docker run` without -t
    // keeps them.
    int in = -1, out = -1, err = -1;
    // A pseudo-terminal made inside the container (`-t`): the command's
    // controlling terminal and its 0, 1 and 2 (`in`, `out`, `err` are then
    // not used). Its master comes back to strata (SandboxProcess::pty_master);
    // the caller writes the input to it and reads the output from it, and
    // resizes it with resize_pty() (the kernel sends SIGWINCH to the
    // command's foreground process group).
    bool tty = false;
    unsigned short rows = 0, cols = 0;  // initial window size; 0 0: the kernel's default
    // Whether anything is not the RUN default. The process's init then runs
    // in a session of its own, so that the caller's terminal does not signal
    // the container directly (Ctrl-C reaches strata, which forwards it).
    bool custom() const { return tty || in >= 0 || out >= 0 || err >= 0; }
};

// `strata exec`: a process started inside a running container, in all its
// namespaces (mount, PID, IPC, UTS, network, cgroup) and its cgroups.
struct ExecSpec {
    pid_t pid = 0;           // host pid of the container's init (SandboxProcess::pid())
    uint64_t pid_start = 0;  // its start time (SandboxProcess::start_time()); refuses a
                             // reused pid. 0: not checked.
    Process process;         // argv, env, user (in the container's /etc/passwd), cwd;
                             // hostname, hosts and resolv_conf are the container's
    // The container's: capabilities, seccomp, no_new_privileges, privileged
    // (the namespaces, network, cgroup and limits fields are not used: the
    // container's are joined).
    Isolation isolation;
    std::string description;  // for messages: "exec sh"
};

}  // namespace strata::sandbox
