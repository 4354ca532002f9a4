// Content digests ("sha256:<hex>") and a streaming SHA-256.
#pragma once

#include <compare>
#include <cstddef>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace strata::store {

struct Digest {
    std::string algorithm;  // "sha256"
    std::string hex;        // 64 lowercase hex characters

    // "sha256:<64 lowercase hex>"; throws Error(kParse) on anything else.
    static Digest parse(std::string_view s);
    static std::optional<Digest> try_parse(std::string_view s);

    std::string str() const;       // "sha256:<hex>"
    std::string short_id() const;  // first 12 hex characters, as `docker images` shows IDs

    bool operator==(const Digest&) const = default;
    auto operator<=>(const Digest&) const = default;
};

// Streaming SHA-256 (OpenSSL). Copyable, so a running hash can be peeked at.
class Sha256 {
  public:
    Sha256();
    Sha256(const Sha256& other);
    Sha256& operator=(const Sha256& other);
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    ~Sha256();

    void update(const void* data, size_t n);
    void update(std::string_view data) { update(data.data(), data.size()); }
    // Ends the hash; the object must not be updated afterwards.
    Digest finish();

  private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

Digest sha256_of(std::string_view data);

// Writes d.str() (for logs and test failure messages).
std::ostream& operator<<(std::ostream& os, const Digest& d);

}  // namespace strata::store
