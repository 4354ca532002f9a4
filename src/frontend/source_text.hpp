// SourceText: the bytes of a Dockerfile and their code points.
//
// The ANTLR lexer works on code points; diagnostics and the AST want the
// original bytes. Invalid UTF-8 must not stop parsing, so each invalid byte
// becomes U+FFFD for the lexer while `bytes()` still returns the original
// bytes of any code point range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::frontend {

class SourceText {
  public:
    explicit SourceText(std::string bytes);

    const std::string& text() const { return bytes_; }
    const std::u32string& code_points() const { return code_points_; }
    size_t size() const { return code_points_.size(); }

    // Bytes of code points [begin, end).
    std::string_view bytes(size_t begin, size_t end) const;
    // Byte offset of code point `index` (size() → total byte length).
    size_t byte_offset(size_t index) const { return offsets_[index]; }

    // The physical line `line` (1-based) without its line terminator; empty
    // when out of range.
    std::string_view line_text(size_t line) const;
    size_t line_count() const { return line_starts_.size(); }

  private:
    std::string bytes_;
    std::u32string code_points_;
    std::vector<uint32_t> offsets_;      // code point index → byte offset, plus end
    std::vector<uint32_t> line_starts_;  // byte offset of each physical line
};

}  // namespace strata::frontend
