// The cores this process may run on: its CPU affinity (a container's
// cpuset, `taskset`), not every CPU the machine has, which is what
// std::thread::hardware_concurrency counts. At least 1.
#pragma once

namespace strata {

unsigned usable_cores();

}  // namespace strata
