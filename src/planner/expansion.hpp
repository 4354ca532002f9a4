// The planner's view of variable expansion: an ordered environment (what
// BuildKit's llb.EnvList is) and a thin adapter over the frontend's shell-word
// expander that also reports which variables a word read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "planner/build_plan.hpp"

namespace strata::planner {

// Ordered, unique names; set() replaces in place or appends (AddOrReplace).
class EnvList {
  public:
    void set(const std::string& name, const std::string& value);
    void erase(const std::string& name);
    std::optional<std::string> get(std::string_view name) const;
    bool has(std::string_view name) const { return get(name).has_value(); }
    const std::vector<EnvVar>& vars() const { return vars_; }

  private:
    std::vector<EnvVar> vars_;
};

// Parses "KEY=value" entries of an image config (a missing '=' means empty).
EnvList env_from_config(const std::vector<std::string>& entries);

struct Expanded {
    std::string value;               // the word after expansion, quotes removed
    std::vector<std::string> words;  // words(): the fields it split into
    std::vector<std::string> used;   // variable names it referenced, sorted, unique
};

// Thrown for a bad substitution or `${X:?msg}`; the caller locates it.
struct ExpandError {
    std::string message;
};

class Expander {
  public:
    explicit Expander(char32_t escape) : escape_(escape) {}

    // One word (BuildKit's ProcessWord): quotes removed, no field splitting.
    Expanded word(std::string_view text, const EnvList& env) const;
    // Field-split into words (ProcessWords), for EXPOSE.
    Expanded words(std::string_view text, const EnvList& env) const;
    // Heredoc content: quotes kept, '\' as escape (BuildKit's ExpandRaw).
    Expanded raw(std::string_view text, const EnvList& env) const;
    // A progress display name: the instruction text with variables expanded;
    // for RUN quotes and unset variables are kept. Falls back to `text`.
    std::string display(std::string_view text, const EnvList& env, bool run) const;

  private:
    char32_t escape_;
};

}  // namespace strata::planner
