// Docker's --filter KEY=VALUE arguments (its filters.Args), shared by `ps`
// and `images`: keys are lower-cased and both sides trimmed; the values of
// one key are alternatives, different keys must all match — except label=,
// of which every one must match (MatchKVList).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace strata::cli {

class FilterArgs {
  public:
    // Error(kUsage) in Docker's words: "bad format of filter (expected
    // name=value)", "invalid filter 'KEY'" for a key not in `accepted`.
    static FilterArgs parse(const std::vector<std::string>& args,
                            const std::vector<std::string_view>& accepted);

    bool has(std::string_view key) const { return by_key_.count(key) != 0; }
    // The values given for `key`, in order (none: empty).
    const std::vector<std::string>& values(std::string_view key) const;
    // Every key but label= has one of its values pass `matches(key, value)`,
    // and every label= is among `labels` (KEY, or KEY=VALUE).
    bool match(const std::function<bool(const std::string& key, const std::string& value)>& matches,
               const std::map<std::string, std::string>& labels) const;
    // Every label= (KEY, or KEY=VALUE) is among `labels`.
    bool labels_match(const std::map<std::string, std::string>& labels) const;

  private:
    std::map<std::string, std::vector<std::string>, std::less<>> by_key_;
};

}  // namespace strata::cli
