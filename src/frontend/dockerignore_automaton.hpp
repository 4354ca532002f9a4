// Internal to the .dockerignore matcher: runs a compiled Go regular expression
// over paths with Go's `MatchString` semantics (decoding UTF-8 like Go, an
// invalid byte is U+FFFD).
//
// The NFA is turned into a (minimized) DFA when the pattern is compiled, so a
// match costs one table lookup per byte and no allocation. A pattern whose
// DFA would be too large (pathological nesting of `**` and `?`) falls back
// to simulating the NFA, which is linear too but allocates.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/go/utf8.hpp"
#include "frontend/dockerignore_regex.hpp"

namespace strata::frontend::dockerignore_detail {

// A partition of all runes into the classes an automaton cannot tell apart.
class RuneClasses {
  public:
    RuneClasses() = default;
    // Interval k is [starts[k], starts[k + 1]) (the last one ends after
    // U+10FFFF) and belongs to class ids[k]; starts[0] == 0.
    RuneClasses(std::vector<char32_t> starts, std::vector<uint16_t> ids, uint32_t count);

    uint32_t count() const { return count_; }
    const std::vector<char32_t>& starts() const { return starts_; }
    uint32_t of(char32_t r) const { return r < 128 ? ascii_[r] : of_range(r); }
    // The class of the rune at text[*i] (decoded as Go does); moves *i past it.
    uint32_t next(std::string_view text, size_t* i) const {
        const auto b = static_cast<unsigned char>(text[*i]);
        if (b < 0x80) {
            ++*i;
            return ascii_[b];
        }
        const go::utf8::Rune r = go::utf8::decode(text, *i);
        *i += r.width;
        return of_range(r.rune);
    }

  private:
    uint32_t of_range(char32_t r) const;

    std::array<uint16_t, 128> ascii_{};
    std::vector<char32_t> starts_;
    std::vector<uint16_t> ids_;
    uint32_t count_ = 0;
};

class Automaton {
  public:
    using State = uint32_t;
    static constexpr State kDead = 0;    // no continuation can match
    static constexpr State kAccept = 1;  // already matched, whatever follows

    // `build_dfa = false` forces NFA simulation (tests compare the engines).
    explicit Automaton(Program program, bool build_dfa = true);

    // Whether the incremental (State) interface is available.
    bool has_dfa() const { return !transitions_.empty(); }

    // --- DFA interface (has_dfa() only).
    const RuneClasses& classes() const { return classes_; }
    size_t num_states() const { return end_accept_.size(); }
    State start() const { return start_; }
    State next(State s, uint32_t rune_class) const {
        return transitions_[s * classes_.count() + rune_class];
    }
    State advance(State s, std::string_view text) const;
    bool accepts_at_end(State s) const { return end_accept_[s] != 0; }
    // Whether some non-empty continuation of the text read so far matches.
    bool can_match_longer(State s) const { return live_[s] != 0; }
    // Whether the text read so far followed by any non-empty text without
    // '/' matches: after "<dir>/", the pattern matches every child of dir
    // (and so, through them, everything below dir).
    bool matches_every_child(State s) const { return every_child_[s] != 0; }

    // --- Whole-text interface (always available).
    // Go's regexp.MatchString(text).
    bool matches(std::string_view text) const;
    // matches(text), or matches(p) for a prefix p of text that ends right
    // before a '/' (the parent directories of a clean relative path).
    bool matches_or_parent(std::string_view text) const;

  private:
    bool build_dfa();
    void minimize();
    bool simulate(std::string_view text, bool check_parents) const;

    Program program_;
    RuneClasses classes_;
    State start_ = kDead;
    std::vector<State> transitions_;  // [state * classes_.count() + class]
    std::vector<uint8_t> end_accept_;
    std::vector<uint8_t> live_;
    std::vector<uint8_t> every_child_;
};

}  // namespace strata::frontend::dockerignore_detail
