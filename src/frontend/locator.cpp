#include "frontend/locator.hpp"

#include <algorithm>

namespace strata::frontend {

Locator::Locator(std::string file, std::string_view source) : file_(std::move(file)) {
    size_t start = 0;
    while (start <= source.size() && !source.empty()) {
        size_t end = source.find('\n', start);
        if (end == std::string_view::npos) end = source.size();
        std::string line(source.substr(start, end - start));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines_.push_back(std::move(line));
        start = end + 1;
        if (end == source.size()) break;
    }
}

Diagnostic Locator::at(SourcePos pos, size_t length, const Instruction& ins, std::string message,
                       std::string hint) const {
    Diagnostic d;
    d.file = file_;
    d.pos = pos;
    d.length = std::max<size_t>(length, 1);
    d.message = std::move(message);
    d.hint = std::move(hint);
    if (pos.line >= 1 && pos.line <= lines_.size()) {
        d.line_text = lines_[pos.line - 1];
    } else {
        // No source text: the instruction's first line, placed at its column.
        const std::string& o = ins.original;
        d.line_text =
            std::string(pos.column > 0 ? pos.column - 1 : 0, ' ') + o.substr(0, o.find('\n'));
    }
    return d;
}

Diagnostic Locator::error(const Instruction& ins, std::string message, std::string hint) const {
    const std::string& o = ins.original;
    size_t len = o.find('\n');
    if (len == std::string::npos) len = o.size();
    return at(ins.range.start, len, ins, std::move(message), std::move(hint));
}

void Locator::fail(const Instruction& ins, std::string message, std::string hint) const {
    throw ParseError(error(ins, std::move(message), std::move(hint)));
}

void Locator::fail_flag(const Instruction& ins, std::string_view flag, std::string message,
                        std::string hint) const {
    for (const frontend::Flag& f : ins.flags) {
        if (f.name == flag && f.pos.line != 0) {
            throw ParseError(at(f.pos, f.length, ins, std::move(message), std::move(hint)));
        }
    }
    fail(ins, std::move(message), std::move(hint));
}

Diagnostic Locator::warning(const Instruction& ins, std::string message) const {
    Diagnostic d = at(ins.range.start, ins.keyword.size(), ins, std::move(message), {});
    d.severity = frontend::Severity::kWarning;
    return d;
}

}  // namespace strata::frontend
