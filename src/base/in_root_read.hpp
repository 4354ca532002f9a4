// Reading a small file whose path untrusted input may have shaped (a
// Dockerfile or .dockerignore in a build context that came from a cloned
// repository or a tar on stdin): resolved inside the root, so that
// `Dockerfile -> /etc/shadow` reads nothing of the host.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata {

// The content of `path` inside the directory `root_fd`, or nullopt when it
// is missing or not a regular file once resolved. Throws Error (naming
// `what`) when it exists but cannot be read.
std::optional<std::string> read_file_in_root(int root_fd, std::string_view path,
                                             std::string_view what);

}  // namespace strata
