// A small line diff (Myers' O(ND) algorithm) and its unified rendering, for
// the contents of small text files in a diff report. No external `diff`.
#pragma once

#include <string>
#include <string_view>

namespace strata::diff {

// `diff -u` style hunks (without the ---/+++ header) turning `a` into `b`,
// with `context` unchanged lines around each change; "" when equal. A last
// line without a newline is marked "\ No newline at end of file". Beyond
// `max_edits` changed lines the whole text is shown as replaced.
std::string unified_diff(std::string_view a, std::string_view b, int context = 3,
                         int max_edits = 2000);

}  // namespace strata::diff
