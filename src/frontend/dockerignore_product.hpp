// Internal to the .dockerignore matcher: several pattern DFAs run as one (their
// product automaton), so a path is read once whatever the number of patterns.
// Which patterns accept is summarised per state as the highest-numbered one,
// because with .dockerignore semantics the last matching pattern decides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "frontend/dockerignore_automaton.hpp"

namespace strata::frontend::dockerignore_detail {

class ProductDfa {
  public:
    using State = uint32_t;  // offset of the state's row in the table

    // The product of `parts` (which must all have a DFA), or nullopt if it
    // would have more than `max_states` states.
    static std::optional<ProductDfa> build(std::vector<const Automaton*> parts, size_t max_states);

    size_t num_parts() const { return parts_.size(); }
    size_t num_states() const { return table_.size() / row_; }
    State start() const { return start_; }

    // The state after reading `text`; stops early once every part is dead.
    State advance(State s, std::string_view text) const {
        for (size_t i = 0; i < text.size() && !all_dead(s);)
            s = table_[s + classes_.next(text, &i)];
        return s;
    }
    bool all_dead(State s) const { return (table_[s + row_ - 1] & kAllDead) != 0; }
    // The highest part that accepts the text read so far; -1 if none.
    int32_t last_accepting(State s) const {
        return static_cast<int32_t>(table_[s + row_ - 1] & ~kAllDead) - 1;
    }
    // The highest part that matches `text` or one of its parent prefixes
    // (those ending before a '/'); -1 if none.
    int32_t last_matching_or_parent(std::string_view text) const;
    // The parts' own states in product state `s`.
    const Automaton::State* part_states(State s) const {
        return &tuples_[static_cast<size_t>(s / row_) * parts_.size()];
    }

  private:
    static constexpr uint32_t kAllDead = 0x80000000u;

    std::vector<const Automaton*> parts_;
    RuneClasses classes_;
    uint32_t row_ = 1;             // classes + 1 metadata column
    std::vector<uint32_t> table_;  // per state: next-state offsets per class, then metadata
    std::vector<Automaton::State> tuples_;
    State start_ = 0;
};

}  // namespace strata::frontend::dockerignore_detail
