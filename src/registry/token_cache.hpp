// Bearer tokens kept per (registry host, service, scope set) until they
// expire, so a pull of N blobs asks the token server once, not N times.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace strata::registry {

class TokenCache {
  public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    // `clock` defaults to the system clock (tests inject their own).
    explicit TokenCache(Clock clock = {});

    // The scopes in any order; the key sorts them.
    static std::string key(const std::string& host, const std::string& service,
                           std::vector<std::string> scopes);

    // A token that is still valid, or nullopt.
    std::optional<std::string> get(const std::string& key) const;
    // Stores a token the server said lives `expires_in` from `issued_at`
    // (nullopt: from now). A token is dropped a little before it expires,
    // so that it does not die between the lookup and the request.
    void put(const std::string& key, std::string token, std::chrono::seconds expires_in,
             std::optional<std::chrono::system_clock::time_point> issued_at = std::nullopt);
    void forget(const std::string& key);

    std::chrono::system_clock::time_point now() const { return clock_(); }

  private:
    struct Entry {
        std::string token;
        std::chrono::system_clock::time_point usable_until;
    };
    Clock clock_;
    mutable std::mutex mu_;
    std::map<std::string, Entry> entries_;
};

}  // namespace strata::registry
