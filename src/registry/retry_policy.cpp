#include "registry/retry_policy.hpp"

#include <algorithm>
#include <random>

namespace strata::registry {

std::chrono::milliseconds RetryPolicy::delay(
    int attempt, std::optional<std::chrono::seconds> retry_after) const {
    using std::chrono::milliseconds;
    if (retry_after)
        return std::min<milliseconds>(std::chrono::duration_cast<milliseconds>(*retry_after),
                                      max_retry_after);
    long long d = base_delay.count();
    for (int i = 1; i < attempt && d < max_delay.count(); ++i)
        d *= 2;
    d = std::min<long long>(d, max_delay.count());
    thread_local std::minstd_rand rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    return milliseconds(static_cast<long long>(static_cast<double>(d) * jitter(rng)));
}

bool is_retriable_status(long status) {
    return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
    if (value.empty() || value.size() > 9) return std::nullopt;
    long long n = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return std::chrono::seconds(n);
}

}  // namespace strata::registry
