// Internal to the .dockerignore matcher: gives each distinct array of uint32_t
// a dense id (0, 1, 2, ...), without an allocation per lookup. Used to build
// automata (DFA states are sets of NFA states, product states are tuples).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace strata::frontend::dockerignore_detail {

class ArrayInterner {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    // The id of `data[0, len)`, adding it if new (then id == size() - 1).
    uint32_t intern(const uint32_t* data, size_t len) {
        if (2 * (size() + 1) > slots_.size()) grow();
        const uint64_t h = hash(data, len);
        for (size_t j = h & (slots_.size() - 1);; j = (j + 1) & (slots_.size() - 1)) {
            const uint32_t id = slots_[j];
            if (id == kNone) {
                slots_[j] = static_cast<uint32_t>(size());
                keys_.insert(keys_.end(), data, data + len);
                offsets_.push_back(static_cast<uint32_t>(keys_.size()));
                hashes_.push_back(h);
                return slots_[j];
            }
            if (hashes_[id] == h && length(id) == len &&
                std::equal(data, data + len, this->data(id))) {
                return id;
            }
        }
    }
    uint32_t intern(const std::vector<uint32_t>& key) { return intern(key.data(), key.size()); }

    size_t size() const { return offsets_.size() - 1; }
    const uint32_t* data(uint32_t id) const { return keys_.data() + offsets_[id]; }
    size_t length(uint32_t id) const { return offsets_[id + 1] - offsets_[id]; }

    void clear() {
        keys_.clear();
        offsets_.assign(1, 0);
        hashes_.clear();
        std::fill(slots_.begin(), slots_.end(), kNone);
    }
    // All keys, concatenated in id order (the interner is left empty).
    std::vector<uint32_t> release_keys() {
        std::vector<uint32_t> keys = std::move(keys_);
        clear();
        return keys;
    }

  private:
    static uint64_t hash(const uint32_t* data, size_t len) {
        uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
        for (size_t i = 0; i < len; ++i)
            h = (h ^ data[i]) * 0xFF51AFD7ED558CCDull;
        return h ^ (h >> 29);
    }
    void grow() {
        slots_.assign(std::max<size_t>(64, slots_.size() * 2), kNone);
        for (uint32_t id = 0; id < size(); ++id) {
            size_t j = hashes_[id] & (slots_.size() - 1);
            while (slots_[j] != kNone)
                j = (j + 1) & (slots_.size() - 1);
            slots_[j] = id;
        }
    }

    std::vector<uint32_t> keys_;
    std::vector<uint32_t> offsets_{0};
    std::vector<uint64_t> hashes_;
    std::vector<uint32_t> slots_;  // power-of-two sized, kNone when empty
};

}  // namespace strata::frontend::dockerignore_detail
