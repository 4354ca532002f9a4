// Heredocs: `RUN <<EOF`, `RUN <<-EOF` (leading tabs stripped), `<<"EOF"` /
// `<<'EOF'` (quoted: no expansion), several per line, `COPY <<EOF /dst`.
// Which words open a heredoc follows BuildKit: only RUN, COPY and ADD (also
// as ONBUILD triggers), never in exec (JSON) form, and only words of the form
// `[fd]<<[-]NAME` separated by white space.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::frontend {

struct HeredocSpec {
    std::string name;    // terminator, quotes removed
    unsigned fd = 0;     // `3<<EOF` → 3; 0 when not given
    bool chomp = false;  // `<<-`: leading tabs stripped from body and terminator
    bool expand = true;  // false when any part of the name was quoted
    size_t offset = 0;   // byte offset of the `<<` word in the logical line
    size_t length = 0;   // length of that word
    bool operator==(const HeredocSpec&) const = default;
};

struct Heredoc {
    HeredocSpec spec;
    std::string content;  // body lines, each with its newline; tabs not yet stripped
    bool terminated = true;
    uint32_t first_line = 0;  // source line of the first body line (or terminator)
    bool operator==(const Heredoc&) const = default;
};

// The heredocs that an instruction's logical line opens, in order.
std::vector<HeredocSpec> heredocs_opened_by(std::string_view logical_line, char32_t escape);

// Removes leading tabs from every line (what `<<-` does to the content).
std::string chomp_heredoc_content(std::string_view content);

}  // namespace strata::frontend
