// Diagnostics: `FILE:LINE:COL: error: what is wrong`, the offending line, a
// caret under the offending text, and a hint where one helps.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "frontend/logical_line.hpp"

namespace strata::frontend {

enum class Severity { kError, kWarning };

struct Diagnostic {
    Severity severity = Severity::kError;
    std::string file;
    SourcePos pos;      // line 0 = no location
    size_t length = 1;  // code points to underline
    std::string message;
    std::string hint;       // optional
    std::string line_text;  // the source line, for the excerpt
    bool operator==(const Diagnostic&) const = default;
};

// Renders a diagnostic as several lines of text (ends with a newline).
std::string render(const Diagnostic& d);

// The exception a Dockerfile error travels in.
class ParseError : public Error {
  public:
    // `kind` is kParse for errors in the Dockerfile itself; a located error
    // about something else (a missing image, a failing step) keeps its own.
    explicit ParseError(Diagnostic d, ErrorKind kind = ErrorKind::kParse);
    const Diagnostic& diagnostic() const { return diag_; }

  private:
    Diagnostic diag_;
};

}  // namespace strata::frontend
