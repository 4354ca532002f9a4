#include "frontend/source_text.hpp"

#include <limits>

#include "base/error.hpp"
#include "base/go/utf8.hpp"

namespace strata::frontend {
SourceText::SourceText(std::string bytes) : bytes_(std::move(bytes)) {
    if (bytes_.size() >= std::numeric_limits<uint32_t>::max()) {
        throw Error(ErrorKind::kParse, "Dockerfile is larger than 4 GiB");
    }
    code_points_.reserve(bytes_.size());
    offsets_.reserve(bytes_.size() + 1);
    line_starts_.push_back(0);
    for (size_t i = 0; i < bytes_.size();) {
        // An invalid byte is one U+FFFD, as Go (and so BuildKit) reads it.
        const go::utf8::Rune r = go::utf8::decode(bytes_, i);
        code_points_.push_back(r.rune);
        offsets_.push_back(static_cast<uint32_t>(i));
        if (r.rune == '\n' && i + 1 < bytes_.size())
            line_starts_.push_back(static_cast<uint32_t>(i + 1));
        i += r.width;
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
