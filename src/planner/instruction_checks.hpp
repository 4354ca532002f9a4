// Validation and normalization that BuildKit applies to expanded arguments:
// STOPSIGNAL names, EXPOSE port specs, --chmod modes, WORKDIR paths (COPY
// destinations: copy_dest.hpp). Each returns an error message instead of throwing so
// that the caller can locate it in the Dockerfile.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::planner {

// moby/sys/signal.ParseSignal: "SIGTERM", "term", "15", "SIGRTMIN+3".
bool is_valid_signal(std::string_view signal);

// "[ip:][hostport:]port[-end][/proto]" → {"80/tcp", ...}; error text on failure.
struct PortsOrError {
    std::vector<std::string> ports;
    std::string error;
};
PortsOrError parse_port_spec(std::string_view spec);

// --chmod: octal up to 07777 or a symbolic mode ("u+x,go-w"); error text or empty.
std::string check_chmod(std::string_view mode);

// A shell command with runs of unquoted, unescaped blanks collapsed to one
// space and blanks at the ends and around newlines dropped: what the shell
// does not distinguish, so that re-indenting a RUN line keeps its cache key.
std::string normalize_shell_spacing(std::string_view command);

// WORKDIR: a relative path is joined to the current one and cleaned, an
// absolute one is kept as written, an empty one keeps the current directory
// (BuildKit's system.NormalizeWorkdir for Linux).
std::string normalize_workdir(std::string_view current, std::string_view requested);

}  // namespace strata::planner
