#include "frontend/diagnostic.hpp"

#include <fmt/format.h>

#include "base/go/utf8.hpp"

namespace strata::frontend {
namespace {

constexpr size_t kMaxExcerpt = 160;  // code points of the source line shown

// Makes a source line safe and short for a terminal: control characters and
// invalid UTF-8 become '?', tabs are kept (so the caret lines up) and a long
// line is cut to a window around the column. Returns the shown text and the
// caret's column (0-based) within it.
std::pair<std::string, size_t> excerpt(const std::string& line, size_t column0, size_t& length) {
    // Split into code points (byte ranges).
    std::vector<std::pair<size_t, size_t>> cps;
    for (size_t i = 0; i < line.size();) {
        const size_t len = go::utf8::decode(line, i).width;
        cps.emplace_back(i, len);
        i += len;
    }
    size_t begin = 0;
    if (column0 > kMaxExcerpt / 2 && cps.size() > kMaxExcerpt) begin = column0 - kMaxExcerpt / 2;
    const size_t end = std::min(cps.size(), begin + kMaxExcerpt);
    std::string out;
    if (begin > 0) out += "...";
    const size_t caret = column0 - begin + (begin > 0 ? 3 : 0);
    for (size_t k = begin; k < end; ++k) {
        const auto [off, len] = cps[k];
        const auto b = static_cast<unsigned char>(line[off]);
        if (len == 1 && b >= 0x80) {
            out += '?';
        } else if (len == 1 && (b < 0x20 || b == 0x7F) && b != '\t') {
            out += '?';
        } else {
            out.append(line, off, len);
        }
    }
    if (end < cps.size()) out += "...";
    if (column0 + length > end) length = end > column0 ? end - column0 : 1;
    return {out, caret};
}

}  // namespace

std::string render(const Diagnostic& d) {
    const char* severity = d.severity == Severity::kError ? "error" : "warning";
    std::string out;
    if (d.pos.line == 0) {
        out = fmt::format("{}: {}: {}\n", d.file, severity, d.message);
    } else {
        out = fmt::format("{}:{}:{}: {}: {}\n", d.file, d.pos.line, d.pos.column, severity,
                          d.message);
        size_t length = std::max<size_t>(d.length, 1);
        const size_t column0 = d.pos.column > 0 ? d.pos.column - 1 : 0;
        auto [text, caret] = excerpt(d.line_text, column0, length);
        const std::string gutter = fmt::format("{:>5}", d.pos.line);
        out += fmt::format("{} | {}\n", gutter, text);
        std::string marks;
        // Reproduce tabs before the caret so it lines up under the text.
        for (size_t i = 0; i < caret; ++i)
            marks += (i < text.size() && text[i] == '\t') ? '\t' : ' ';
        marks += '^';
        if (length > 1) marks.append(std::min<size_t>(length - 1, 200), '~');
        out += fmt::format("{} | {}\n", std::string(gutter.size(), ' '), marks);
    }
    if (!d.hint.empty()) out += fmt::format("hint: {}\n", d.hint);
    return out;
}

ParseError::ParseError(Diagnostic d, ErrorKind kind)
    : Error(kind, d.pos.line == 0
                      ? fmt::format("{}: {}", d.file, d.message)
                      : fmt::format("{}:{}:{}: {}", d.file, d.pos.line, d.pos.column, d.message)),
      diag_(std::move(d)) {}

}  // namespace strata::frontend
