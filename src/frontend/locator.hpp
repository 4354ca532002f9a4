// Locator — builds located diagnostics (`FILE:LINE:COL: error: ...` with the
// line and a caret) for the instructions of one Dockerfile. The planner uses
// it for errors it finds while planning, the executor for steps that fail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "frontend/diagnostic.hpp"
#include "frontend/instructions.hpp"

namespace strata::frontend {

class Locator {
  public:
    // `source` is the Dockerfile's text (for the excerpt); it may be empty.
    Locator(std::string file, std::string_view source);
    const std::string& file() const { return file_; }
    [[noreturn]] void fail(const Instruction& ins, std::string message,
                           std::string hint = {}) const;
    [[noreturn]] void fail_flag(const Instruction& ins, std::string_view flag, std::string message,
                                std::string hint = {}) const;
    // The diagnostic fail() would throw, underlining the instruction's first line.
    Diagnostic error(const Instruction& ins, std::string message, std::string hint = {}) const;
    Diagnostic warning(const Instruction& ins, std::string message) const;

  private:
    Diagnostic at(SourcePos pos, size_t length, const Instruction& ins, std::string message,
                  std::string hint) const;
    std::string file_;
    std::vector<std::string> lines_;
};

}  // namespace strata::frontend
