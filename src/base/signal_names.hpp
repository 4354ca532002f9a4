// Signal names as Docker's --signal, STOPSIGNAL and `kill -s` take them:
// "KILL", "SIGKILL", "kill", "9", "RTMIN+3" (moby/sys/signal's table for
// Linux: the 31 standard names, CLD/IOT/POLL aliases, RTMIN, RTMIN+1…+15,
// RTMAX-14…-1, RTMAX).
#pragma once

#include <optional>
#include <string_view>

namespace strata {

// The signal's number; nullopt for an unknown name, 0, or a number out of
// 1…64.
std::optional<int> signal_number(std::string_view name);

}  // namespace strata
