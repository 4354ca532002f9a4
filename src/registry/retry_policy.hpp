// When and how long to wait before sending a registry request again: 429,
// 5xx and broken transfers are retried a bounded number of times with
// exponential backoff and jitter; a server's Retry-After is honoured.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace strata::registry {

struct RetryPolicy {
    int max_attempts = 5;  // first try included
    std::chrono::milliseconds base_delay{250};
    std::chrono::milliseconds max_delay{10'000};
    // Longest Retry-After we wait for; a longer one fails the request.
    std::chrono::milliseconds max_retry_after{60'000};

    // The wait before attempt `attempt` (1 = the first retry): base·2^(n-1),
    // capped, with ±25 % jitter, or the Retry-After when the server sent one.
    std::chrono::milliseconds delay(int attempt,
                                    std::optional<std::chrono::seconds> retry_after) const;
};

// Whether an HTTP status is worth another try.
bool is_retriable_status(long status);

// Retry-After as delta-seconds ("120"); nullopt for anything else (an
// HTTP-date is rare from registries and taken as "no hint").
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

}  // namespace strata::registry
