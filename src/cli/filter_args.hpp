// Docker's --filter KEY=VALUE arguments (its filters.Args), shared by `ps`,
// `images` and the prune commands: keys are lower-cased and both sides
// trimmed; the values of one key are alternatives, different keys must all
// match — except label=, of which every one must match (MatchKVList).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/image_config_time.hpp"

namespace strata::cli {

// `until=`: a Go duration before now ("24h", "90m"), Unix seconds
// ("1700000000[.5]") or an RFC 3339 time, as Docker's GetTimestamp reads it.
// Error(kUsage) otherwise.
store::Timestamp until_time(const std::string& v);

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
    // Every `key` filter (label: KEY, or KEY=VALUE) is among `labels`.
    bool labels_match(const std::map<std::string, std::string>& labels,
                      std::string_view key = "label") const;
    // The prune commands' label test (moby's daemon/prune.go): every label=
    // is among `labels`, and not every label!= is (none given: kept).
    bool prune_labels_match(const std::map<std::string, std::string>& labels) const;
    // The prune commands' until=: at most one (Error(kUsage) "more than one
    // until filter specified"); nullopt when none.
    std::optional<store::Timestamp> prune_until() const;

  private:
    std::map<std::string, std::vector<std::string>, std::less<>> by_key_;
};

}  // namespace strata::cli
