// RunExecutor — the seam between the build and whatever runs a RUN step's
// command in a container (DESIGN.md "executor/": overlay over the parent's
// layers, namespaces, runtime/'s init as PID 1).
//
// The builder prepares everything that is not about containers: the
// unpacked layers of the parent chain (lowest first), an empty upper
// directory on the store's filesystem whose content becomes the step's
// layer, and the host paths of what --mount binds. The executor fills the
// upper directory in overlay format (whiteouts as char 0:0 devices, opaque
// directories by xattr) and returns; on failure it throws RunFailed.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "planner/build_plan.hpp"

namespace strata::executor {

// A --mount with what it resolves to on the host.
struct ResolvedMount {
    planner::RunMount mount;
    // bind: the layers of the mounted stage/image (lowest first), or the
    // build context directory (one element); cache: the persistent cache
    // directory; empty for tmpfs, secret and ssh.
    std::vector<std::filesystem::path> sources;
    std::string subpath;  // bind: source= inside those layers
    // secret and ssh: false when what the mount names was not given
    // (--secret / --ssh) and the mount is not `required`: then nothing is
    // mounted and no variable set, as in BuildKit. Always true otherwise.
    bool present = true;
    // secret: the value, in memory only — never written to the store or to a
    // file on disk. The sandbox passes it through a memfd and mounts it from
    // a tmpfs at mount.target (mode/uid/gid from the mount) and/or sets
    // mount.env to it in the process environment.
    std::string secret;
    // ssh: the host path of the agent socket, bind-mounted at mount.target
    // (mode/uid/gid from the mount; SSH_AUTH_SOCK is already in the step's
    // env, set by the planner).
    std::filesystem::path ssh_socket;
};

struct RunRequest {
    const planner::RunStep* step = nullptr;
    std::vector<std::filesystem::path> lower_layers;  // lowest first; empty for scratch
    std::filesystem::path upper_dir;                  // empty; becomes the layer
    std::filesystem::path work_dir;                   // empty; overlayfs workdir (same fs)
    std::vector<ResolvedMount> mounts;
    std::string description;  // the step, for messages
    // A later step of the stage is a RUN too: the executor may prepare its
    // container's start while this one runs.
    bool run_follows = false;
    // Each line the command prints (stdout and stderr), as it comes.
    std::function<void(std::string_view line)> output;
    // When given, what the container leaves to clean up (its scratch
    // directories, its emptied cgroup: sandbox::Result::leftovers) goes here
    // after a successful run, for the caller to release off its critical
    // path; otherwise it is released before run() returns.
    std::vector<std::shared_ptr<void>>* leftovers = nullptr;
};

// A command that ran and exited non-zero (or was killed).
class RunFailed : public Error {
  public:
    RunFailed(std::string message, int exit_code, std::string output_tail)
        : Error(ErrorKind::kSystem, std::move(message)),
          exit_code_(exit_code),
          output_tail_(std::move(output_tail)) {}
    int exit_code() const { return exit_code_; }
    const std::string& output_tail() const { return output_tail_; }

  private:
    int exit_code_;
    std::string output_tail_;
};

class RunExecutor {
  public:
    virtual ~RunExecutor() = default;
    virtual void run(const RunRequest& request) = 0;
    // A RUN step like `step` is going to run soon, its upper directory in
    // `scratch_parent`: the executor may make ahead what its container's
    // start needs (the build's network, the isolation, a prepared start)
    // while the build does other work. From any thread; never throws (what
    // fails here is made again, and reported, by run()).
    virtual void warm_up(const planner::RunStep& step,
                         const std::filesystem::path& scratch_parent) {
        (void)step;
        (void)scratch_parent;
    }
};

}  // namespace strata::executor
