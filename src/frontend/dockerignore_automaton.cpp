#include "frontend/dockerignore_automaton.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "base/go/utf8.hpp"
#include "frontend/dockerignore_interner.hpp"

namespace strata::frontend::dockerignore_detail {

namespace {

// Above these sizes the DFA is abandoned for NFA simulation.
constexpr size_t kMaxDfaStates = 4096;
constexpr size_t kMaxDfaCells = size_t{1} << 20;
constexpr size_t kMaxMinimizedStates = 512;

// What the zero-width assertions can see at a position.
struct Context {
    bool at_begin = false;
    bool at_end = false;
    bool prev_word = false;
    bool next_word = false;
};

bool assertion_holds(uint8_t flags, const Context& c) {
    const bool boundary = c.prev_word != c.next_word;
    return !((flags & kBeginText) && !c.at_begin) && !((flags & kEndText) && !c.at_end) &&
           !((flags & kWordBoundary) && !boundary) && !((flags & kNoWordBoundary) && boundary);
}

// The NFA states reachable from `seeds` without consuming input.
class ClosureBuilder {
  public:
    explicit ClosureBuilder(const Program& p) : p_(p), seen_(p.insts.size(), 0) {}

    // Fills `runes` with the consuming instructions reached; returns whether
    // the match instruction was reached.
    bool closure(const std::vector<uint32_t>& seeds, const Context& ctx,
                 std::vector<uint32_t>& runes) {
        runes.clear();
        bool matched = false;
        ++generation_;
        if (generation_ == 0) {  // wrapped: reset the marks
            std::fill(seen_.begin(), seen_.end(), 0);
            generation_ = 1;
        }
        stack_.assign(seeds.rbegin(), seeds.rend());
        while (!stack_.empty()) {
            const uint32_t i = stack_.back();
            stack_.pop_back();
            if (seen_[i] == generation_) continue;
            seen_[i] = generation_;
            const Inst& inst = p_.insts[i];
            switch (inst.op) {
                case InstOp::kRunes:
                    runes.push_back(i);
                    break;
                case InstOp::kMatch:
                    matched = true;
                    break;
                case InstOp::kSplit:
                    stack_.push_back(inst.out1);
                    stack_.push_back(inst.out);
                    break;
                case InstOp::kEmpty:
                    if (assertion_holds(inst.empty, ctx)) stack_.push_back(inst.out);
                    break;
            }
        }
        return matched;
    }

    // The states after consuming `r` from the consuming instructions `runes`.
    void step(const std::vector<uint32_t>& runes, char32_t r, std::vector<uint32_t>& next) const {
        next.clear();
        for (const uint32_t i : runes) {
            const Inst& inst = p_.insts[i];
            if (class_contains(p_.classes[inst.cls], r)) next.push_back(inst.out);
        }
        std::sort(next.begin(), next.end());
        next.erase(std::unique(next.begin(), next.end()), next.end());
    }

  private:
    const Program& p_;
    std::vector<uint32_t> seen_;
    uint32_t generation_ = 0;
    std::vector<uint32_t> stack_;
};

}  // namespace

Automaton::Automaton(Program program, bool with_dfa) : program_(std::move(program)) {
    if (!with_dfa || !build_dfa()) {
        transitions_.clear();
        end_accept_.clear();
        live_.clear();
        every_child_.clear();
    }
}

RuneClasses::RuneClasses(std::vector<char32_t> starts, std::vector<uint16_t> ids, uint32_t count)
    : starts_(std::move(starts)), ids_(std::move(ids)), count_(count) {
    for (size_t k = 0; k < starts_.size() && starts_[k] < 128; ++k) {
        const char32_t end = k + 1 < starts_.size() ? std::min<char32_t>(starts_[k + 1], 128) : 128;
        std::fill(ascii_.begin() + starts_[k], ascii_.begin() + end, ids_[k]);
    }
}

uint32_t RuneClasses::of_range(char32_t r) const {
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), r);
    return ids_[static_cast<size_t>(it - starts_.begin()) - 1];
}

bool Automaton::build_dfa() {
    const Program& p = program_;
    const bool word = p.uses_word_boundary;

    // Partition the runes into intervals on which every class (and word-ness)
    // is constant, then merge intervals that behave alike into one DFA input
    // class.
    std::vector<char32_t> cuts = {0, U'/', U'/' + 1, go::utf8::kMaxRune + 1};
    for (const RuneClass& cls : p.classes) {
        for (const RuneRange& r : cls) {
            cuts.push_back(r.lo);
            cuts.push_back(r.hi + 1);
        }
    }
    if (word) {
        for (const char32_t c :
             {U'0', U':', U'A', U'[', U'_', U'`', U'a', U'{'}) {  // word-rune edges
            cuts.push_back(c);
        }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

    ArrayInterner signatures;
    std::vector<char32_t> representative;
    std::vector<char32_t> starts;
    std::vector<uint16_t> class_ids;
    std::vector<uint32_t> sig;
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        const char32_t r = cuts[k];
        sig.clear();
        for (const RuneClass& cls : p.classes)
            sig.push_back(class_contains(cls, r) ? 1 : 0);
        sig.push_back(word && is_word_rune(r) ? 1 : 0);
        sig.push_back(r == '/' ? 1 : 0);  // '/' gets a class of its own
        const uint32_t id = signatures.intern(sig);
        if (id == representative.size()) representative.push_back(r);
        starts.push_back(r);
        class_ids.push_back(static_cast<uint16_t>(id));
    }
    const uint32_t num_classes = static_cast<uint32_t>(representative.size());
    classes_ = RuneClasses(std::move(starts), std::move(class_ids), num_classes);
    const uint32_t slash_class = classes_.of('/');

    // Subset construction. A DFA state is the set of NFA states before their
    // closure (closures depend on what comes next: \b, $), plus whether it is
    // the start of the text and whether the previous rune was a word rune;
    // interned as [flags, sorted NFA states...], ids offset by kDead, kAccept.
    constexpr uint32_t kAtBegin = 1;
    constexpr uint32_t kPrevWord = 2;
    ArrayInterner ids;
    std::vector<uint32_t> key;
    const auto intern = [&](uint32_t flags, const std::vector<uint32_t>& seeds) -> State {
        key.assign(1, flags);
        key.insert(key.end(), seeds.begin(), seeds.end());
        return ids.intern(key) + 2;
    };
    start_ = intern(kAtBegin, {p.start});

    ClosureBuilder builder(p);
    std::vector<uint32_t> seeds;
    std::vector<uint32_t> runes[2];  // closure when the next rune is not / is a word rune
    bool matched[2] = {false, false};
    std::vector<uint32_t> next;
    transitions_.assign(2 * num_classes, kDead);
    std::fill(transitions_.begin() + num_classes, transitions_.end(), kAccept);
    end_accept_ = {0, 1};
    for (State s = 2; s - 2 < ids.size(); ++s) {
        if (ids.size() + 2 > kMaxDfaStates || (ids.size() + 2) * num_classes > kMaxDfaCells) {
            return false;
        }
        const uint32_t* k = ids.data(s - 2);
        const uint32_t flags = k[0];
        seeds.assign(k + 1, k + ids.length(s - 2));  // copy: `ids` grows below
        Context ctx;
        ctx.at_begin = (flags & kAtBegin) != 0;
        ctx.prev_word = (flags & kPrevWord) != 0;
        ctx.at_end = true;
        end_accept_.push_back(builder.closure(seeds, ctx, runes[0]) ? 1 : 0);
        ctx.at_end = false;
        // The closure depends on the next rune only through \b and \B.
        for (int w = 0; w < (word ? 2 : 1); ++w) {
            ctx.next_word = w == 1;
            matched[w] = builder.closure(seeds, ctx, runes[w]);
        }
        for (uint32_t c = 0; c < num_classes; ++c) {
            const char32_t r = representative[c];
            const int w = word && is_word_rune(r) ? 1 : 0;
            State target = kDead;
            if (matched[w]) {
                target = kAccept;  // the text so far matches: MatchString is true
            } else {
                builder.step(runes[w], r, next);
                if (!next.empty()) target = intern(w ? kPrevWord : 0, next);
            }
            transitions_.push_back(target);
        }
    }

    minimize();

    // live_[s]: some non-empty continuation from s matches. Propagate
    // backwards from the states that match at the end of the text.
    const size_t n = end_accept_.size();
    std::vector<std::vector<State>> predecessors(n);
    for (State s = 2; s < n; ++s) {
        for (uint32_t c = 0; c < num_classes; ++c) {
            predecessors[transitions_[s * num_classes + c]].push_back(s);
        }
    }
    live_.assign(n, 0);
    live_[kAccept] = 1;
    std::vector<State> queue;
    std::vector<uint8_t> queued(n, 0);
    for (State s = 1; s < n; ++s) {
        if (end_accept_[s]) {
            queue.push_back(s);
            queued[s] = 1;
        }
    }
    while (!queue.empty()) {
        const State t = queue.back();
        queue.pop_back();
        for (const State s : predecessors[t]) {
            live_[s] = 1;
            if (!queued[s]) {
                queued[s] = 1;
                queue.push_back(s);
            }
        }
    }

    // every_child_[s]: every non-empty continuation without '/' matches,
    // i.e. all non-'/' successors are in the largest set U of accepting
    // states closed under non-'/' transitions (kAccept is in U). Start from
    // all accepting states and drop those that leave U until nothing changes.
    std::vector<uint8_t> in_u(end_accept_.begin(), end_accept_.end());
    const auto leaves_u = [&](State s) {
        for (uint32_t c = 0; c < num_classes; ++c) {
            if (c != slash_class && !in_u[transitions_[s * num_classes + c]]) return true;
        }
        return false;
    };
    queue.clear();
    for (State s = 2; s < n; ++s) {
        if (in_u[s] && leaves_u(s)) {
            in_u[s] = 0;
            queue.push_back(s);
        }
    }
    while (!queue.empty()) {
        const State t = queue.back();
        queue.pop_back();
        for (const State s : predecessors[t]) {
            if (in_u[s] && leaves_u(s)) {
                in_u[s] = 0;
                queue.push_back(s);
            }
        }
    }
    every_child_.assign(n, 0);
    every_child_[kAccept] = 1;
    for (State s = 2; s < n; ++s)
        every_child_[s] = leaves_u(s) ? 0 : 1;
    return true;
}

void Automaton::minimize() {
    // Moore's partition refinement: split states by acceptance, then by the
    // blocks their transitions lead to, until nothing splits. kDead and
    // kAccept stay 0 and 1 (every state equivalent to them joins them).
    // Skipped for big DFAs (rare, pathological patterns) to bound the cost.
    const uint32_t nc = classes_.count();
    const size_t n = end_accept_.size();
    if (n > kMaxMinimizedStates) return;
    std::vector<uint32_t> block(n);
    for (size_t s = 0; s < n; ++s)
        block[s] = end_accept_[s];
    size_t num_blocks = 0;
    std::vector<uint32_t> signature(nc + 1);
    ArrayInterner ids;
    std::vector<uint32_t> next_block(n);
    for (;;) {
        ids.clear();
        for (size_t s = 0; s < n; ++s) {
            signature[0] = block[s];
            for (uint32_t c = 0; c < nc; ++c)
                signature[c + 1] = block[transitions_[s * nc + c]];
            next_block[s] = ids.intern(signature);
        }
        block.swap(next_block);
        if (ids.size() == num_blocks) break;
        num_blocks = ids.size();
    }
    if (num_blocks == n) return;

    // Renumber: the blocks of kDead and kAccept first, then by first state.
    std::vector<uint32_t> number(num_blocks, UINT32_MAX);
    number[block[kDead]] = kDead;
    number[block[kAccept]] = kAccept;
    std::vector<State> representative = {kDead, kAccept};
    for (State s = 2; s < n; ++s) {
        if (number[block[s]] == UINT32_MAX) {
            number[block[s]] = static_cast<uint32_t>(representative.size());
            representative.push_back(s);
        }
    }
    std::vector<State> transitions;
    std::vector<uint8_t> end_accept;
    for (const State r : representative) {
        for (uint32_t c = 0; c < nc; ++c)
            transitions.push_back(number[block[transitions_[r * nc + c]]]);
        end_accept.push_back(end_accept_[r]);
    }
    transitions_ = std::move(transitions);
    end_accept_ = std::move(end_accept);
    start_ = number[block[start_]];
}

Automaton::State Automaton::advance(State s, std::string_view text) const {
    const uint32_t n = classes_.count();
    for (size_t i = 0; i < text.size() && s > kAccept;)
        s = transitions_[s * n + classes_.next(text, &i)];
    return s;
}

bool Automaton::matches(std::string_view text) const {
    if (!has_dfa()) return simulate(text, false);
    const State s = advance(start_, text);
    return end_accept_[s] != 0;
}

bool Automaton::matches_or_parent(std::string_view text) const {
    if (!has_dfa()) return simulate(text, true);
    State s = start_;
    for (size_t i = 0; i < text.size();) {
        if (text[i] == '/' && end_accept_[s]) return true;  // text[0, i) matches
        s = next(s, classes_.next(text, &i));
        if (s <= kAccept) return s == kAccept;
    }
    return end_accept_[s] != 0;
}

bool Automaton::simulate(std::string_view text, bool check_parents) const {
    ClosureBuilder builder(program_);
    std::vector<uint32_t> seeds = {program_.start};
    std::vector<uint32_t> runes;
    Context ctx;
    ctx.at_begin = true;
    const auto matches_here = [&] {
        Context end = ctx;
        end.at_end = true;
        end.next_word = false;
        return builder.closure(seeds, end, runes);
    };
    for (size_t i = 0; i < text.size();) {
        if (check_parents && text[i] == '/' && matches_here()) return true;
        const auto [r, width] = go::utf8::decode(text, i);
        ctx.next_word = is_word_rune(r);
        if (builder.closure(seeds, ctx, runes)) return true;
        builder.step(runes, r, seeds);
        if (seeds.empty()) return false;
        ctx.at_begin = false;
        ctx.prev_word = program_.uses_word_boundary && is_word_rune(r);
        i += width;
    }
    return matches_here();
}

}  // namespace strata::frontend::dockerignore_detail
