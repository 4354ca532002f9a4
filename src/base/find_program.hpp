// Where an executable the sandbox or the CLI runs (nft, iptables, pasta,
// newuidmap, ...) is: the first directory of $PATH holding it, then the
// directories Debian and Fedora install such tools to, which a root shell's
// or a service's $PATH may lack (/usr/sbin, /sbin).
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace strata {

std::optional<std::filesystem::path> find_program(std::string_view name);

}  // namespace strata
