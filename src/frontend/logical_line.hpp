// A logical line: one instruction's text with its continuations joined, as
// BuildKit builds it (the escape character and the blanks after it removed,
// comment and blank lines inside the continuation dropped, the first line's
// leading white space stripped), plus a map back to source positions so that
// an error found anywhere in the logical line points at the right
// `line:column` of the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::frontend {

// 1-based line; 1-based column counted in code points.
struct SourcePos {
    uint32_t line = 0;
    uint32_t column = 0;
    bool operator==(const SourcePos&) const = default;
};

struct SourceRange {
    SourcePos start;
    SourcePos end;  // position of the last character
    bool operator==(const SourceRange&) const = default;
};

struct LogicalLine {
    std::string text;
    // text[offset...] was copied from `pos` onwards (all on one physical line,
    // up to the next segment).
    struct Segment {
        uint32_t offset;
        SourcePos pos;
    };
    std::vector<Segment> segments;

    // Source position of the byte at `offset` in text (offset == size() gives
    // the position just after the last character).
    SourcePos pos_at(size_t offset) const;
};

// Collects the tokens of one instruction into a LogicalLine.
class LogicalLineBuilder {
  public:
    void clear();
    // Adds a token of the generated lexer (type from DockerfileLexer) whose
    // text is `bytes` and which starts at `pos`.
    void add_token(size_t type, std::string_view bytes, SourcePos pos);
    const LogicalLine& line() const { return line_; }
    LogicalLine take();

  private:
    LogicalLine line_;
};

}  // namespace strata::frontend
