#include "containers/container_names.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "base/error.hpp"

namespace strata::containers {
namespace {

constexpr std::array kAdjectives = {
    "amber",  "bold",    "brave",  "bright", "calm",     "careful", "clever", "curious", "daring",
    "eager",  "earnest", "gentle", "glad",   "graceful", "hardy",   "honest", "humble",  "jolly",
    "keen",   "kind",    "lively", "loyal",  "lucid",    "mellow",  "merry",  "modest",  "nimble",
    "noble",  "patient", "plucky", "polite", "proud",    "quiet",   "quick",  "radiant", "ready",
    "serene", "sharp",   "shy",    "silent", "sincere",  "steady",  "sturdy", "sunny",   "swift",
    "tender", "thrifty", "tidy",   "vivid",  "warm",     "wise",    "witty",  "zealous",
};

constexpr std::array kSurnames = {
    "agnesi",    "ampere",     "babbage",  "bardeen",    "bernoulli", "boole",    "brattain",
    "cannon",    "carnot",     "cauchy",   "chandra",    "curie",     "darwin",   "dijkstra",
    "euler",     "faraday",    "fermi",    "feynman",    "franklin",  "galois",   "gauss",
    "germain",   "goodall",    "hamilton", "hawking",    "hertz",     "hilbert",  "hodgkin",
    "hopper",    "huygens",    "johnson",  "joule",      "kepler",    "knuth",    "kovalevsky",
    "lamarr",    "laplace",    "leavitt",  "liskov",     "lovelace",  "maxwell",  "meitner",
    "mendel",    "mirzakhani", "noether",  "ohm",        "pascal",    "pasteur",  "planck",
    "ramanujan", "ritchie",    "shannon",  "somerville", "tesla",     "thompson", "turing",
    "volta",     "wiles",      "wu",       "yalow",
};

void fill_random(void* buf, size_t n) {
    auto* p = static_cast<unsigned char*>(buf);
    while (n > 0) {
        ssize_t got = ::getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw system_error("getrandom", "");
        }
        p += got;
        n -= static_cast<size_t>(got);
    }
}

size_t random_below(size_t n) {
    uint64_t r = 0;
    fill_random(&r, sizeof r);
    return static_cast<size_t>(r % n);  // the bias is immaterial for names
}

}  // namespace

std::string random_container_id() {
    static constexpr char kHex[] = "0123456789abcdef";
    for (;;) {
        std::array<unsigned char, 32> bytes{};
        fill_random(bytes.data(), bytes.size());
        std::string id;
        id.reserve(64);
        for (unsigned char b : bytes) {
            id.push_back(kHex[b >> 4]);
            id.push_back(kHex[b & 0xf]);
        }
        bool all_digits = true;
        for (size_t i = 0; i < 12; ++i)
            all_digits = all_digits && id[i] >= '0' && id[i] <= '9';
        if (!all_digits) return id;
    }
}

std::string random_container_name() {
    std::string name = kAdjectives[random_below(kAdjectives.size())];
    name += '_';
    name += kSurnames[random_below(kSurnames.size())];
    return name;
}

bool valid_container_name(std::string_view name) {
    if (!name.empty() && name.front() == '/') name.remove_prefix(1);
    if (name.size() < 2) return false;
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(name.front())) return false;
    for (char c : name.substr(1))
        if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
    return true;
}

bool is_hex_id_prefix(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace strata::containers
