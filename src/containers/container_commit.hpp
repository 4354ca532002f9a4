// `strata commit`: a container's writable layer becomes a new image on top of
// its image, as `docker commit` makes one.
//
// The upper directory is tarred by the layer writer (whiteouts and opaque
// directories as a RUN step's layer has them; uncompressed, as a build
// stores its layers), leaving out the mount points the sandbox made
// (container_diff.hpp mount_stubs). Volumes are mounted from the store,
// never written into the upper directory, so their content is never in it.
// The config is the container's (the image's with run's overrides), with
// Docker's `--change` subset applied; the history gets one entry: created,
// created_by = the container's Cmd joined by spaces (moby daemon/commit.go),
// author, comment — marked empty_layer when nothing changed, as Docker does.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/image_config.hpp"
#include "store/image_store.hpp"

namespace strata::containers {

struct Container;

// `-c` instructions, as `docker commit --change` takes them: CMD, ENTRYPOINT,
// ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR (any case). Anything
// else: Error(kUsage) "<KEYWORD> is not a valid change command" (Docker's
// words); a malformed one: store::apply_config_change's error.
void apply_commit_changes(store::ContainerConfig& config, const std::vector<std::string>& changes);

struct CommitMeta {
    std::string comment;       // -m: history comment and the config's top-level "comment"
    std::string author;        // -a: history author and the config's "author"
    std::string container_id;  // the config's "container"
    std::string created_by;    // the history entry's created_by
};

// The config of the committed image: `base` (the image's config: platform,
// rootfs, history kept) with `config` as its runtime config, `layer` (the new
// layer's diffID; nullopt: nothing changed) appended, and one history entry.
store::ImageConfig committed_config(const store::ImageConfig& base,
                                    const store::ContainerConfig& config,
                                    const std::optional<store::Digest>& layer,
                                    const CommitMeta& meta);

// Writes `upper` (an overlay upper directory) as an uncompressed layer blob
// into the store, leaving out `exclude` (relative paths). nullopt when the
// layer would be empty (no entries), as Docker leaves such a layer out.
// Hold store.lease() until the image is published.
std::optional<store::LayerRecord> write_upper_layer(store::ImageStore& store,
                                                    const std::filesystem::path& upper,
                                                    const std::set<std::string>& exclude);

// Freezes the cgroup of the process `pid` (a container's init) while it
// lives: cgroup v1 freezer (freezer.state FROZEN/THAWED), or cgroup v2
// cgroup.freeze. Does nothing unless the process is in a cgroup the sandbox
// made ("strata-<pid>-<start>-<name>", sandbox/cgroup_name.hpp): the root
// cgroup or the caller's session is never frozen; `active()` says whether it
// froze.
class CgroupFreeze {
  public:
    explicit CgroupFreeze(pid_t pid);
    CgroupFreeze(const CgroupFreeze&) = delete;
    CgroupFreeze& operator=(const CgroupFreeze&) = delete;
    ~CgroupFreeze();  // thaws
    bool active() const { return !file_.empty(); }
    const std::filesystem::path& state_file() const { return file_; }

  private:
    std::filesystem::path file_;  // freezer.state or cgroup.freeze
    bool v2_ = false;
};

struct CommitOptions {
    std::string comment;                   // -m
    std::string author;                    // -a
    std::vector<std::string> changes;      // -c, in order
    bool pause = true;                     // -p/--pause: freeze a running container meanwhile
    std::optional<store::Reference> name;  // REPOSITORY[:TAG]; none: an untagged image
};

struct CommitResult {
    store::ImageRecord image;
    std::optional<store::Digest> replaced;  // the image the name pointed at before, if another
};

// Commits `c` (a record of the store at store.root()) into a new image.
// A running container is frozen meanwhile when opts.pause; a stopped one is
// locked so that it cannot start meanwhile.
CommitResult commit_container(store::ImageStore& store, Container c, const CommitOptions& opts);

}  // namespace strata::containers
