// Go's fmt renderings that BuildKit's history texts use: `%q` and `%v` of a
// []string, and time.Duration's String().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strata::planner {

// fmt.Sprintf("%q", []string{...}): ["a" "b c"]
std::string go_quoted_list(const std::vector<std::string>& items);
// fmt.Sprintf("%v", []string{...}): [a b c]
std::string go_plain_list(const std::vector<std::string>& items);
// time.Duration(ns).String(): "0s", "1.5s", "1m30s", "1h0m0s", "500ms", "2µs"
std::string go_duration(int64_t ns);

}  // namespace strata::planner
