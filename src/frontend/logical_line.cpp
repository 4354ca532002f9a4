#include "frontend/logical_line.hpp"

#include <DockerfileLexer.h>

#include <algorithm>

namespace strata::frontend {

using grammar::DockerfileLexer;

SourcePos LogicalLine::pos_at(size_t offset) const {
    if (segments.empty()) return {};
    auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                               [](size_t off, const Segment& s) { return off < s.offset; });
    if (it != segments.begin()) --it;
    SourcePos pos = it->pos;
    const size_t end = std::min(offset, text.size());
    for (size_t i = it->offset; i < end; ++i) {
        // Count code points: every byte that is not a UTF-8 continuation byte.
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++pos.column;
    }
    return pos;
}

void LogicalLineBuilder::clear() {
    line_.text.clear();
    line_.segments.clear();
}

void LogicalLineBuilder::add_token(size_t type, std::string_view bytes, SourcePos pos) {
    switch (type) {
        case DockerfileLexer::CONTINUATION:
        case DockerfileLexer::CONT_COMMENT:
        case DockerfileLexer::CONT_BLANK:
        case DockerfileLexer::NEWLINE:
        case DockerfileLexer::LEADING_WS:
            return;  // not part of the logical line
        default:
            break;
    }
    if (bytes.empty()) return;
    line_.segments.push_back({static_cast<uint32_t>(line_.text.size()), pos});
    line_.text.append(bytes);
}

LogicalLine LogicalLineBuilder::take() {
    LogicalLine out = std::move(line_);
    clear();
    return out;
}

}  // namespace strata::frontend
