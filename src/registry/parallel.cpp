#include "registry/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace strata::registry {

void run_parallel(size_t count, unsigned threads, const std::function<void(size_t)>& fn) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mu;
    auto work = [&] {
        for (size_t i = next++; i < count && !failed; i = next++) {
            try {
                fn(i);
            } catch (...) {
                std::lock_guard lock(error_mu);
                if (!error) error = std::current_exception();
                failed = true;
            }
        }
    };
    const size_t n = std::min<size_t>(std::max(1u, threads), std::max<size_t>(1, count));
    std::vector<std::thread> pool;
    try {
        for (size_t t = 1; t < n; ++t)
            pool.emplace_back(work);
    } catch (const std::system_error&) {
        // No more threads to be had (a pids limit, say): the ones started
        // and this one do all the work.
    }
    work();
    for (auto& t : pool)
        t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace strata::registry
