// The ID of this boot of the machine (/proc/sys/kernel/random/boot_id):
// what tells state written without fsync (unpacked layers, the isolation
// probe's memo) from state a crash and reboot may have torn or outdated.
#pragma once

#include <string>

namespace strata {

// Read once per process; "" when the kernel does not say.
const std::string& boot_id();

}  // namespace strata
