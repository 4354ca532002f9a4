#include "frontend/dockerignore_product.hpp"

#include "frontend/dockerignore_interner.hpp"

#include <algorithm>
#include <utility>

namespace strata::frontend::dockerignore_detail {

std::optional<ProductDfa> ProductDfa::build(std::vector<const Automaton*> parts,
                                            size_t max_states) {
    ProductDfa p;
    p.parts_ = std::move(parts);
    const size_t k = p.parts_.size();

    // Input classes: runes that no part can tell apart.
    std::vector<char32_t> cuts;
    for (const Automaton* a : p.parts_) {
        cuts.insert(cuts.end(), a->classes().starts().begin(), a->classes().starts().end());
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    ArrayInterner signatures;
    std::vector<uint16_t> ids;
    std::vector<uint32_t> sig(k);
    for (const char32_t r : cuts) {
        for (size_t i = 0; i < k; ++i)
            sig[i] = p.parts_[i]->classes().of(r);
        ids.push_back(static_cast<uint16_t>(signatures.intern(sig)));
    }
    const auto num_classes = static_cast<uint32_t>(signatures.size());
    // part_class[c * k + i]: part i's class for product class c.
    const std::vector<uint32_t> part_class = signatures.release_keys();
    p.classes_ = RuneClasses(std::move(cuts), std::move(ids), num_classes);
    p.row_ = num_classes + 1;

    // Breadth-first over reachable tuples of part states; rows are appended
    // in state-number order, so state n's row starts at n * row_.
    ArrayInterner tuples;
    std::vector<Automaton::State> tuple(k);
    for (size_t i = 0; i < k; ++i)
        tuple[i] = p.parts_[i]->start();
    p.start_ = tuples.intern(tuple) * p.row_;
    std::vector<Automaton::State> next(k);
    for (uint32_t n = 0; n < tuples.size(); ++n) {
        if (tuples.size() > max_states) return std::nullopt;
        std::copy_n(tuples.data(n), k, tuple.begin());
        for (uint32_t c = 0; c < num_classes; ++c) {
            const uint32_t* classes = &part_class[c * k];
            for (size_t i = 0; i < k; ++i)
                next[i] = p.parts_[i]->next(tuple[i], classes[i]);
            p.table_.push_back(tuples.intern(next) * p.row_);
        }
        uint32_t meta = kAllDead;
        for (size_t i = 0; i < k; ++i) {
            if (tuple[i] != Automaton::kDead) meta &= ~kAllDead;
            if (p.parts_[i]->accepts_at_end(tuple[i])) meta = (meta & kAllDead) | (i + 1);
        }
        p.table_.push_back(meta);
    }
    p.tuples_ = tuples.release_keys();
    return p;
}

int32_t ProductDfa::last_matching_or_parent(std::string_view text) const {
    int32_t best = -1;
    State s = start_;
    for (size_t i = 0; i < text.size();) {
        if (text[i] == '/') best = std::max(best, last_accepting(s));  // text[0, i) is a parent
        if (all_dead(s)) return best;
        s = table_[s + classes_.next(text, &i)];
    }
    return std::max(best, last_accepting(s));
}

}  // namespace strata::frontend::dockerignore_detail
