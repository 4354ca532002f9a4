// `strata cp`: files between a container and the host, with docker cp's rules.
//
//   strata cp [-a] [-L] CTR:SRC DEST|-      out of the container
//   strata cp [-a] [-L] SRC|- CTR:DEST      into it
//
// Docker's rules (docs.docker.com "docker container cp", moby pkg/archive
// copy.go PrepareArchiveCopy):
//   SRC is a file:  DEST missing → the file is made at DEST (a DEST ending in
//                   '/' must then exist: "no such directory"); DEST a file →
//                   overwritten; DEST a directory → copied into it under SRC's
//                   name.
//   SRC is a dir:   DEST missing → made as a directory holding SRC's content;
//                   DEST a file → "cannot copy a directory to a file";
//                   DEST a directory → SRC copied into it as a subdirectory,
//                   or, when SRC ends in "/.", SRC's content copied into it.
//   SRC ending in '/' must be a directory; "-" as SRC reads a tar from stdin
//   (DEST must be a directory), "-" as DEST writes a tar of SRC to stdout.
//   -L follows SRC when it is a symlink (otherwise the link is copied);
//   -a keeps the owners of the source (otherwise what is copied in belongs to
//   the container's root, and what is copied out to the caller).
//
// A container path is resolved inside the container's root (base/in_root.hpp:
// a symlink never leads out of it), through the container's own overlay:
// a running container's mount namespace (its volumes included), else a
// private overlay mount of its layers and upper directory made by a child
// process in a mount namespace of its own — so a write into the container is
// a write through overlay (copy-up of parent directories with their metadata,
// a lower file replaced in the upper dir), never into the upper directory
// from outside the mount.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"
#include "store/image_store.hpp"

namespace strata::containers {

struct Container;

// A directory bound into a stopped container's overlay for a copy: a
// volume's _data or a bind mount's source, at its target.
struct CopyBind {
    std::filesystem::path source;  // a host directory
    std::string target;            // absolute in the container
    bool read_only = false;
};

// A container's root directory, reached through its overlay.
class ContainerRoot {
  public:
    // A fresh overlay of `lower` (lowest first) with `upper` and `work`,
    // mounted by a child in a private mount namespace and handed back as a
    // detached mount: it goes away when the last descriptor on it closes.
    // `user_xattr`: the overlay's `userxattr` option (rootless). With `binds`
    // the child mounts them on their targets (made as directories in the
    // overlay when missing, as the sandbox makes them) and stays, holding its
    // namespace, until this object goes.
    static ContainerRoot mount_overlay(const std::vector<std::filesystem::path>& lower,
                                       const std::filesystem::path& upper,
                                       const std::filesystem::path& work, bool user_xattr,
                                       const std::vector<CopyBind>& binds = {});
    // The root of the mount namespace of the process `pid` (a running
    // container's init), entered by a child (setns; its user namespace first
    // when it has another one).
    static ContainerRoot enter(pid_t pid);

    ContainerRoot(ContainerRoot&& other) noexcept;
    ContainerRoot& operator=(ContainerRoot&&) = delete;
    ~ContainerRoot();  // ends the helper process, if one stayed

    int fd() const { return fd_.get(); }  // O_RDONLY | O_DIRECTORY
    // Whether its mounts (volumes, binds, tmpfs) are there: a running
    // container's namespace.
    bool live() const { return live_; }

  private:
    ContainerRoot(UniqueFd fd, bool live) : fd_(std::move(fd)), live_(live) {}
    UniqueFd fd_;
    bool live_ = false;
    pid_t helper_ = -1;  // the child holding the namespace of `binds`
    UniqueFd channel_;   // its end of the socket: closing it lets the child go
};

struct CopyOptions {
    bool archive = false;      // -a
    bool follow_link = false;  // -L
    // For messages: "Could not find the file /x in container NAME".
    std::string container_name;
    // Where a scratch directory may be made (the store's tmp/).
    std::filesystem::path scratch_parent;
    // Container paths that cannot be reached through this root (volumes and
    // binds of a stopped container): copying to or from them is refused.
    std::vector<std::string> unreachable;
    bool read_only = false;  // the container's root is read-only (--read-only)
    // The root is a running container's namespace (ContainerRoot::live): its
    // /proc and /sys are the kernel's, left out of a copy of a directory
    // above them (as docker cp, which archives the root filesystem, has none).
    bool live = false;
};

// Copies `src` (a path inside the root `root_fd`) to the host path `dest`;
// dest "-": a tar of it is written to `out_fd`.
void copy_out(int root_fd, const std::string& src, const std::string& dest, int out_fd,
              const CopyOptions& opts);

// Copies the host path `src` into the root `root_fd` at `dest`; src "-": a tar
// read from `in_fd` is extracted into the directory `dest`.
void copy_in(int root_fd, const std::string& src, int in_fd, const std::string& dest,
             const CopyOptions& opts);

// "CTR:PATH" → {CTR, PATH}; nullopt for a local path (none, or a '/' or
// '.' before the first ':', as docker cp splits it).
struct ContainerPath {
    std::string container;
    std::string path;
};
std::optional<ContainerPath> split_container_path(std::string_view arg);

// The root of container `c` as copy needs it: its namespace when it runs,
// else a private overlay with its volumes and bind mounts (those that exist:
// the others go to `unreachable`; the container is locked meanwhile by the
// caller).
ContainerRoot open_container_root(store::ImageStore& store, const Container& c,
                                  std::vector<std::string>* unreachable = nullptr);

}  // namespace strata::containers
