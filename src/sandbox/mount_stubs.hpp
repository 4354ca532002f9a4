// Mount points the sandbox had to create as files in a writable root (a
// bound file whose target did not exist, /etc/hosts in an image without
// one) are not part of the step's result: they are removed again from the
// upper directory, as BuildKit does. The paths come from inside the
// container, so they are resolved inside the upper directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace strata::sandbox {

// Removes each of `stubs` (absolute paths inside the container) from
// `upper_dir` when it is still an empty regular file there; anything else is
// left alone. Never touches a path outside `upper_dir`.
void remove_stubs(const std::filesystem::path& upper_dir, const std::vector<std::string>& stubs);

// A RUN step's /etc/hosts and /etc/resolv.conf mount points, made in its
// empty upper directory before the overlay is mounted, where the layers'
// /etc lacks both: what strata-init would otherwise make inside the
// container (a copy-up of /etc through the overlay and two files, ~0.4 ms a
// step). upper/etc gets the mode and owner of the topmost layer's /etc, as
// a copy-up would; init then finds the files and makes nothing. Returns the
// stubs made (for remove_stubs), or none whenever the layers leave any
// doubt — /etc missing, whited out, not a plain directory or with xattrs of
// its own, either file (or a whiteout of it) in some layer — and init makes
// them as before. `lower` is lowest first; each layer's answer is kept for
// the process (layers do not change).
std::vector<std::string> make_etc_stubs(const std::vector<std::filesystem::path>& lower,
                                        const std::filesystem::path& upper_dir);

}  // namespace strata::sandbox
