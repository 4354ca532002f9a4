// Chroot isolation — RUN steps where the sandbox cannot be made: inside an
// unprivileged container (a Kubernetes pod without `privileged`), where
// namespaces, mounts or overlayfs are refused. As Buildah's chroot
// isolation: the command runs chrooted (CAP_SYS_CHROOT is in every default
// capability set) with whichever namespaces the environment still allows,
// and strata-init's user, capabilities, seccomp, rlimits, environment and
// working directory as in the sandbox.
//
// Without overlayfs the root is a private copy of the layers
// (tree_diff.hpp: reflinked where the filesystem can), and the step's layer
// is computed afterwards by comparing it with the layers, in overlay's
// format, so that the rest of strata sees the same layer.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/spec.hpp"
#include "sandbox/tree_diff.hpp"

namespace strata::sandbox {

// "auto", "sandbox", "chroot" (the --isolation values).
std::optional<IsolationMode> parse_isolation_mode(std::string_view text);

// What a throwaway child could do here.
struct IsolationProbe {
    // "" when the sandbox works (a mount namespace, an overlay mount in it,
    // a PID namespace), else the first thing refused, with the errno text:
    // "unshare(CLONE_NEWNS): Operation not permitted".
    std::string sandbox_refused;
    ChrootAllowed allowed;  // for chroot isolation
    bool sandbox_ok() const { return sandbox_refused.empty(); }
    // The one warning of a fallback: what isolation chroot mode cannot give.
    std::string lost_isolation() const;
};

// Forks a child that tries each piece; `scratch_parent` (on the store's
// filesystem) holds the overlay's directories for the test.
IsolationProbe probe_isolation(const std::filesystem::path& scratch_parent);

// probe_isolation, remembered for the rest of the boot once everything
// worked: a file in `memo_dir` (root's, on a tmpfs) named for the user and
// mount namespaces, the user, its effective capabilities and the filesystem
// of `scratch_parent`, holding the boot's ID; never under a seccomp filter.
// Nothing short of a new namespace, a new boot, other capabilities or another
// filesystem takes a namespace or overlay away, so a build after the first
// skips the probe's fork and mounts (3-12 ms on this machine's 2 cores). A
// refusal is never remembered: it may have been passing (ENOMEM, a full
// mount table), and the next build probes again. Where `memo_dir` cannot be
// written (rootless), every build probes, as before.
IsolationProbe probe_isolation_once_per_boot(
    const std::filesystem::path& scratch_parent,
    const std::filesystem::path& memo_dir = "/run/strata/isolation");

// The clone flags of a chroot-isolated init: the allowed namespaces (the
// network one only for Network::kNone and when allowed).
int chroot_clone_flags(const Isolation& isolation);

// The root of a chroot run: the merged layers of `spec.root.lower` copied
// into `rootfs` (empty). Without a mount namespace nothing can be mounted,
// so the few device nodes a command needs and the heredoc scripts are
// written into the copy here, and left out of the diff.
TreeSnapshot prepare_chroot_root(const Spec& spec, const std::filesystem::path& rootfs,
                                 CopyStats* stats = nullptr);

// After the run: the step's layer into `spec.root.upper` (overlay format).
void finish_chroot_root(const Spec& spec, const std::filesystem::path& rootfs,
                        const TreeSnapshot& snapshot);

}  // namespace strata::sandbox
