#include "registry/token_cache.hpp"

#include <algorithm>

namespace strata::registry {

TokenCache::TokenCache(Clock clock) : clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

std::string TokenCache::key(const std::string& host, const std::string& service,
                            std::vector<std::string> scopes) {
    std::sort(scopes.begin(), scopes.end());
    scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
    std::string k = host + '\n' + service;
    for (const std::string& s : scopes)
        k += '\n' + s;
    return k;
}

std::optional<std::string> TokenCache::get(const std::string& key) const {
    const auto now = clock_();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || now >= it->second.usable_until) return std::nullopt;
    return it->second.token;
}

void TokenCache::put(const std::string& key, std::string token, std::chrono::seconds expires_in,
                     std::optional<std::chrono::system_clock::time_point> issued_at) {
    const auto now = clock_();
    // A clock skew between us and the token server must not make a fresh
    // token look expired (or valid for hours): an issued_at in the future
    // or far in the past counts from now.
    auto start = issued_at.value_or(now);
    if (start > now || now - start > expires_in) start = now;
    // Margin: a tenth of the lifetime, at most 10 s.
    const auto margin = std::min<std::chrono::seconds>(expires_in / 10, std::chrono::seconds(10));
    std::lock_guard<std::mutex> lock(mu_);
    entries_[key] = Entry{std::move(token), start + expires_in - margin};
}

void TokenCache::forget(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(key);
}

}  // namespace strata::registry
