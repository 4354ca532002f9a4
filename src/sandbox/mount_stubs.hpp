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

}  // namespace strata::sandbox
