#include "store/digest.hpp"

// OpenSSL's SHA256_* functions, deprecated in 3.0 in favour of EVP but kept:
// they need no provider, and loading OpenSSL's default provider on the first
// EVP digest costs ~1 ms of every strata command (3.5M instructions, more
// than a no-op rebuild of 50 steps spends on everything else it hashes).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstring>

#include <ostream>

#include "base/error.hpp"

namespace strata::store {

namespace {

bool is_lower_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

std::optional<Digest> Digest::try_parse(std::string_view s) {
    constexpr std::string_view kPrefix = "sha256:";
    if (!s.starts_with(kPrefix)) return std::nullopt;
    auto hex = s.substr(kPrefix.size());
    if (hex.size() != 64 || !is_lower_hex(hex)) return std::nullopt;
    return Digest{"sha256", std::string(hex)};
}

Digest Digest::parse(std::string_view s) {
    if (auto d = try_parse(s)) return *d;
    throw Error(ErrorKind::kParse, "invalid digest '" + std::string(s) +
                                       "': expected sha256:<64 lowercase hex digits>");
}

std::string Digest::str() const {
    return algorithm + ":" + hex;
}

std::string Digest::short_id() const {
    return hex.substr(0, 12);
}

struct Sha256::Ctx {
    SHA256_CTX sha;
    Ctx() {
        if (SHA256_Init(&sha) != 1)
            throw Error(ErrorKind::kInternal, "OpenSSL: cannot initialise SHA-256");
    }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {}

Sha256::Sha256(const Sha256& other) : ctx_(std::make_unique<Ctx>(*other.ctx_)) {}

Sha256& Sha256::operator=(const Sha256& other) {
    if (this != &other) {
        Sha256 copy(other);
        ctx_ = std::move(copy.ctx_);
    }
    return *this;
}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t n) {
    if (n == 0) return;
    if (SHA256_Update(&ctx_->sha, data, n) != 1)
        throw Error(ErrorKind::kInternal, "OpenSSL: SHA-256 update failed");
}

Digest Sha256::finish() {
    unsigned char out[SHA256_DIGEST_LENGTH];
    const unsigned int len = SHA256_DIGEST_LENGTH;
    if (SHA256_Final(out, &ctx_->sha) != 1)
        throw Error(ErrorKind::kInternal, "OpenSSL: SHA-256 final failed");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
        hex.push_back(kHex[out[i] >> 4]);
        hex.push_back(kHex[out[i] & 0xf]);
    }
    return Digest{"sha256", std::move(hex)};
}

Digest sha256_of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

std::ostream& operator<<(std::ostream& os, const Digest& d) {
    return os << d.str();
}

}  // namespace strata::store
