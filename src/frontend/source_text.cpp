#include "frontend/source_text.hpp"

#include <limits>

#include "base/error.hpp"

namespace strata::frontend {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if invalid.
size_t decode_utf8(std::string_view s, size_t i, char32_t& out) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        out = b0;
        return 1;
    }
    size_t len;
    char32_t cp;
    char32_t min;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    out = cp;
    return len;
}

}  // namespace

SourceText::SourceText(std::string bytes) : bytes_(std::move(bytes)) {
    if (bytes_.size() >= std::numeric_limits<uint32_t>::max()) {
        throw Error(ErrorKind::kParse, "Dockerfile is larger than 4 GiB");
    }
    code_points_.reserve(bytes_.size());
    offsets_.reserve(bytes_.size() + 1);
    line_starts_.push_back(0);
    for (size_t i = 0; i < bytes_.size();) {
        char32_t cp;
        size_t len = decode_utf8(bytes_, i, cp);
        if (len == 0) cp = kReplacement, len = 1;
        code_points_.push_back(cp);
        offsets_.push_back(static_cast<uint32_t>(i));
        if (cp == '\n' && i + 1 < bytes_.size())
            line_starts_.push_back(static_cast<uint32_t>(i + 1));
        i += len;
    }
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
}

std::string_view SourceText::bytes(size_t begin, size_t end) const {
    if (end > size()) end = size();
    if (begin >= end) return {};
    return std::string_view(bytes_).substr(offsets_[begin], offsets_[end] - offsets_[begin]);
}

std::string_view SourceText::line_text(size_t line) const {
    if (line == 0 || line > line_starts_.size()) return {};
    const size_t begin = line_starts_[line - 1];
    size_t end = line < line_starts_.size() ? line_starts_[line] : bytes_.size();
    std::string_view v = std::string_view(bytes_).substr(begin, end - begin);
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r'))
        v.remove_suffix(1);
    return v;
}

}  // namespace strata::frontend
