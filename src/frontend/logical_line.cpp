#include "frontend/logical_line.hpp"

#include <DockerfileLexer.h>

#include <algorithm>

#include "base/go/utf8.hpp"

namespace strata::frontend {

using grammar::DockerfileLexer;

SourcePos LogicalLine::pos_at(size_t offset) const {
    if (segments.empty()) return {};
    auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                               [](size_t off, const Segment& s) { return off < s.offset; });
    if (it != segments.begin()) --it;
    SourcePos pos = it->pos;
    const size_t end = std::min(offset, text.size());
    // Columns count characters as the source text decodes them (an invalid
    // byte is one).
    if (it->offset < end) {
        pos.column += static_cast<uint32_t>(
            go::utf8::rune_count(std::string_view(text).substr(it->offset, end - it->offset)));
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
