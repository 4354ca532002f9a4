#include "cache/context_snapshot.hpp"

#include <algorithm>

namespace strata::cache {

std::string Hash128::hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s(32, '0');
    for (int i = 0; i < 16; ++i) {
        s[15 - i] = kDigits[(hi >> (4 * i)) & 0xf];
        s[31 - i] = kDigits[(lo >> (4 * i)) & 0xf];
    }
    return s;
}

std::string_view to_string(EntryType type) {
    switch (type) {
        case EntryType::kFile:
            return "file";
        case EntryType::kDir:
            return "dir";
        case EntryType::kSymlink:
            return "symlink";
        case EntryType::kFifo:
            return "fifo";
        case EntryType::kSocket:
            return "socket";
        case EntryType::kCharDevice:
            return "char-device";
        case EntryType::kBlockDevice:
            return "block-device";
    }
    return "unknown";
}

bool tree_order_less(std::string_view a, std::string_view b) {
    size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        if (a[i] == b[i]) continue;
        // '/' ends a component: it ranks below every byte a name may hold.
        unsigned char ca = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]);
        unsigned char cb = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]);
        return ca < cb;
    }
    return a.size() < b.size();
}

ContextSnapshot::ContextSnapshot() = default;
ContextSnapshot::ContextSnapshot(ContextSnapshot&&) noexcept = default;
ContextSnapshot& ContextSnapshot::operator=(ContextSnapshot&&) noexcept = default;
ContextSnapshot::~ContextSnapshot() = default;

const Entry* ContextSnapshot::find(std::string_view path) const {
    auto it = std::lower_bound(
        entries_.begin(), entries_.end(), path,
        [](const Entry& e, std::string_view p) { return tree_order_less(e.path, p); });
    if (it == entries_.end() || it->path != path) return nullptr;
    return &*it;
}

}  // namespace strata::cache
