// usable_cores(): the cores the process may run on (its affinity), which a
// container's cpuset or `taskset` narrows, not every CPU of the machine.
#include "base/cores.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace strata {
namespace {

TEST(UsableCores, FollowTheAffinityNotTheMachine) {
    cpu_set_t all;
    CPU_ZERO(&all);
    ASSERT_EQ(::sched_getaffinity(0, sizeof all, &all), 0);
    EXPECT_EQ(usable_cores(), static_cast<unsigned>(CPU_COUNT(&all)));
    // A thread narrowed to one of them (the affinity is per thread) sees one.
    unsigned seen = 0;
    std::thread t([&] {
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &all)) {
                CPU_SET(c, &one);
                break;
            }
        if (::sched_setaffinity(0, sizeof one, &one) == 0) seen = usable_cores();
    });
    t.join();
    EXPECT_EQ(seen, 1u);
}

}  // namespace
}  // namespace strata
