#include "base/cores.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace strata {

unsigned usable_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return static_cast<unsigned>(n);
    }
    // More CPUs than a cpu_set_t holds (over 1024), or no answer.
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace strata
