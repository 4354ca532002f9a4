#include "frontend/dockerignore.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "base/go/strings.hpp"
#include "frontend/dockerignore_go.hpp"
#include "frontend/dockerignore_pattern.hpp"
#include "frontend/dockerignore_product.hpp"

namespace strata::frontend {

namespace di = dockerignore_detail;

namespace {

// bufio.Scanner's default limit: Docker fails on longer lines.
constexpr size_t kMaxLineBytes = 64 * 1024;

// Patterns with a DFA are run together through product automata of at most
// this many states (larger products are split in halves) and of at most this
// many patterns (which bounds the cost of a product that turns out too big).
constexpr size_t kMaxProductStates = 2048;
constexpr size_t kMaxProductParts = 32;

constexpr uint32_t kNoGroup = UINT32_MAX;

bool is_root(std::string_view rel_path) {
    return rel_path.empty() || rel_path == ".";
}

}  // namespace

struct DockerIgnore::Impl {
    struct Group {
        di::ProductDfa dfa;
        std::vector<size_t> members;  // pattern indices, ascending: part k is members[k]
    };
    struct Place {
        uint32_t group = kNoGroup;
        uint32_t part = 0;
    };

    std::string source;
    std::vector<Pattern> patterns;
    std::vector<di::CompiledPattern> compiled;
    std::vector<Group> groups;
    std::vector<Place> places;   // per pattern
    std::vector<size_t> others;  // patterns outside any group, descending
    bool has_exceptions = false;

    void add(std::string_view entry, size_t line) {
        std::optional<di::CompiledPattern> p;
        try {
            p = di::compile_pattern(entry);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::kParse) throw;
            throw Error(ErrorKind::kParse, fmt::format("{}:{}: {}", source, line, e.what()));
        }
        if (!p) return;
        patterns.push_back(Pattern{p->text, p->exception, line});
        has_exceptions = has_exceptions || p->exception;
        compiled.push_back(std::move(*p));
    }

    // Groups the patterns that have a DFA: floating ones (alive in every
    // directory) and anchored ones (usually dead below the first levels)
    // apart, which keeps each product small.
    void finish() {
        places.assign(compiled.size(), Place{});
        std::vector<size_t> floating;
        std::vector<size_t> anchored;
        for (size_t i = 0; i < compiled.size(); ++i) {
            if (compiled[i].dfa() == nullptr) continue;
            (compiled[i].floating ? floating : anchored).push_back(i);
        }
        for (size_t i = compiled.size(); i-- > 0;) {
            if (compiled[i].dfa() == nullptr) others.push_back(i);
        }
        for (const std::vector<size_t>* list : {&floating, &anchored}) {
            for (size_t from = 0; from < list->size(); from += kMaxProductParts) {
                const auto begin = list->begin() + static_cast<ptrdiff_t>(from);
                make_groups({begin, begin + static_cast<ptrdiff_t>(
                                                std::min(kMaxProductParts, list->size() - from))});
            }
        }
    }

    void make_groups(const std::vector<size_t>& members) {
        std::vector<const di::Automaton*> parts;
        for (const size_t i : members) {
            parts.push_back(compiled[i].dfa());
        }
        const size_t limit = members.size() == 1 ? SIZE_MAX : kMaxProductStates;
        std::optional<di::ProductDfa> dfa = di::ProductDfa::build(std::move(parts), limit);
        if (!dfa) {
            const auto mid = members.begin() + static_cast<ptrdiff_t>(members.size() / 2);
            make_groups(std::vector<size_t>(members.begin(), mid));
            make_groups(std::vector<size_t>(mid, members.end()));
            return;
        }
        for (size_t k = 0; k < members.size(); ++k) {
            places[members[k]] =
                Place{static_cast<uint32_t>(groups.size()), static_cast<uint32_t>(k)};
        }
        groups.push_back(Group{std::move(*dfa), members});
    }

    // The pattern that decides for `path`: the last one that matches it or
    // one of its parents (patternmatcher's in-order loop, which skips
    // patterns that cannot change the outcome, amounts to that); -1 if none.
    ptrdiff_t last_match(std::string_view path) const {
        ptrdiff_t best = -1;
        for (const Group& g : groups) {
            const int32_t part = g.dfa.last_matching_or_parent(path);
            if (part >= 0) best = std::max(best, static_cast<ptrdiff_t>(g.members[part]));
        }
        return others_after(best, [&](size_t i) { return compiled[i].matches_or_parent(path); });
    }

    // The highest of `best` and the patterns outside groups that `hit`.
    template <typename Hit>
    ptrdiff_t others_after(ptrdiff_t best, Hit hit) const {
        for (const size_t i : others) {
            if (static_cast<ptrdiff_t>(i) <= best) break;
            if (hit(i)) return static_cast<ptrdiff_t>(i);
        }
        return best;
    }

    bool decides_excluded(ptrdiff_t i) const {
        return i >= 0 && !patterns[static_cast<size_t>(i)].exception;
    }

    // Whether every path strictly below `dir` is excluded. `hit(k)`: pattern
    // k matches dir or a parent; `state_of(k)`: pattern k's DFA state after
    // "<dir>/". Both are only asked for when needed.
    //
    // Take the last include pattern I that matches every path below or one
    // of its parents (it hits dir or a parent, or it matches every child of
    // dir). A path below stays excluded unless a later exception matches it
    // or one of its parents: one that hits dir (or a parent), or one that
    // can match something below dir.
    template <typename Hit, typename StateOf>
    bool subtree_excluded(std::string_view dir, Hit hit, StateOf state_of) const {
        if (is_root(dir)) return false;
        const size_t n = compiled.size();
        size_t cover = n;
        for (size_t i = n; i-- > 0;) {
            if (!patterns[i].exception &&
                (hit(i) || compiled[i].matches_all_below(dir, state_of(i)))) {
                cover = i;
                break;
            }
        }
        if (cover == n) return false;
        for (size_t k = cover + 1; k < n; ++k) {
            if (patterns[k].exception &&
                (hit(k) || compiled[k].could_match_below(dir, state_of(k)))) {
                return false;
            }
        }
        return true;
    }

    // Pattern k's DFA state after "<dir>/" (0 for patterns without a DFA).
    uint32_t state_after_dir(size_t k, std::string_view dir) const {
        const di::Automaton* a = compiled[k].dfa();
        return a == nullptr ? 0 : a->advance(a->advance(a->start(), dir), "/");
    }

    void check_owner(const DirState& dir) const {
        if (dir.owner_ != this) {
            throw Error(ErrorKind::kInternal, "dockerignore: DirState of another matcher");
        }
    }

    // The part of `rel_path` after "<dir.path>/"; it must be a single name.
    std::string_view child_name(const DirState& dir, std::string_view rel_path) const {
        check_owner(dir);
        std::string_view name = rel_path;
        if (!dir.path_.empty()) {
            if (!di::starts_with_dir(rel_path, dir.path_))
                name = {};
            else
                name.remove_prefix(dir.path_.size() + 1);
        }
        if (name.empty() || name.find('/') != std::string_view::npos) {
            throw Error(ErrorKind::kInternal,
                        fmt::format("dockerignore: '{}' is not an entry of directory '{}'",
                                    rel_path, dir.path_));
        }
        return name;
    }
};

DockerIgnore::DockerIgnore() : impl_(std::make_shared<const Impl>()) {}

DockerIgnore::DockerIgnore(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

DockerIgnore DockerIgnore::parse(std::string_view text, std::string_view source_name) {
    auto impl = std::make_shared<Impl>();
    impl->source = source_name;
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
        const size_t nl = text.find('\n', pos);
        std::string_view line =
            nl == std::string_view::npos ? text.substr(pos) : text.substr(pos, nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        if (line.size() >= kMaxLineBytes) {
            throw Error(ErrorKind::kParse,
                        fmt::format("{}:{}: line too long ({} bytes, the limit is {})", source_name,
                                    line_no, line.size(), kMaxLineBytes - 1));
        }
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
        if (line.starts_with('#')) continue;  // only at the very start of the line

        // ignorefile.ReadAll: trim, split off '!', clean, drop a leading '/'.
        std::string_view pattern = go::strings::trim_space(line);
        if (pattern.empty()) continue;
        const bool invert = pattern[0] == '!';
        if (invert) pattern = go::strings::trim_space(pattern.substr(1));
        std::string entry;
        if (!pattern.empty()) {
            entry = go::path::clean(pattern);
            if (entry.size() > 1 && entry[0] == '/') entry.erase(0, 1);
        }
        if (invert) entry.insert(0, 1, '!');
        impl->add(entry, line_no);
    }
    impl->finish();
    return DockerIgnore(std::move(impl));
}

DockerIgnore DockerIgnore::from_patterns(const std::vector<std::string>& patterns,
                                         std::string_view source_name) {
    auto impl = std::make_shared<Impl>();
    impl->source = source_name;
    for (size_t i = 0; i < patterns.size(); ++i)
        impl->add(patterns[i], i + 1);
    impl->finish();
    return DockerIgnore(std::move(impl));
}

bool DockerIgnore::empty() const {
    return impl_->patterns.empty();
}
bool DockerIgnore::has_exceptions() const {
    return impl_->has_exceptions;
}
const std::vector<DockerIgnore::Pattern>& DockerIgnore::patterns() const {
    return impl_->patterns;
}
const std::string& DockerIgnore::source() const {
    return impl_->source;
}

bool DockerIgnore::excluded(std::string_view rel_path) const {
    return !is_root(rel_path) && impl_->decides_excluded(impl_->last_match(rel_path));
}

bool DockerIgnore::subtree_excluded(std::string_view rel_dir) const {
    const Impl& impl = *impl_;
    const auto hit = [&](size_t k) { return impl.compiled[k].matches_or_parent(rel_dir); };
    const auto state_of = [&](size_t k) { return impl.state_after_dir(k, rel_dir); };
    return impl.subtree_excluded(rel_dir, hit, state_of);
}

bool DockerIgnore::can_skip_dir(std::string_view rel_dir) const {
    return excluded(rel_dir) && subtree_excluded(rel_dir);
}

bool DockerIgnore::pattern_matches(size_t index, std::string_view path) const {
    return impl_->compiled.at(index).matches(path);
}

DockerIgnore::DirState DockerIgnore::root() const {
    DirState root;
    root.owner_ = impl_.get();
    for (const Impl::Group& g : impl_->groups) {
        root.group_states_.push_back(g.dfa.start());
    }
    root.hits_.assign(impl_->compiled.size(), 0);
    return root;
}

DockerIgnore::DirState DockerIgnore::enter(const DirState& parent, std::string_view rel_dir) const {
    const Impl& impl = *impl_;
    const std::string_view name = impl.child_name(parent, rel_dir);
    DirState dir;
    dir.owner_ = parent.owner_;
    dir.path_ = rel_dir;
    dir.hits_ = parent.hits_;
    dir.group_states_.reserve(impl.groups.size());
    for (size_t g = 0; g < impl.groups.size(); ++g) {
        const Impl::Group& group = impl.groups[g];
        const di::ProductDfa::State s = group.dfa.advance(parent.group_states_[g], name);
        const di::Automaton::State* parts = group.dfa.part_states(s);
        for (size_t k = 0; k < group.members.size(); ++k) {
            const size_t i = group.members[k];
            if (impl.compiled[i].dfa()->accepts_at_end(parts[k])) dir.hits_[i] = 1;
        }
        dir.group_states_.push_back(group.dfa.advance(s, "/"));
    }
    for (const size_t i : impl.others) {
        if (!dir.hits_[i] && impl.compiled[i].matches(rel_dir)) dir.hits_[i] = 1;
    }
    for (size_t i = dir.hits_.size(); i-- > 0;) {
        if (dir.hits_[i]) {
            dir.last_hit_ = static_cast<ptrdiff_t>(i);
            break;
        }
    }
    return dir;
}

bool DockerIgnore::excluded(const DirState& parent, std::string_view rel_path) const {
    const Impl& impl = *impl_;
    const std::string_view name = impl.child_name(parent, rel_path);
    // Patterns that hit the directory or a parent hit the entry too; of the
    // others, one pass of each group's automaton over the name.
    ptrdiff_t best = parent.last_hit_;
    for (size_t g = 0; g < impl.groups.size(); ++g) {
        const Impl::Group& group = impl.groups[g];
        const di::ProductDfa::State s = parent.group_states_[g];
        if (group.dfa.all_dead(s)) continue;
        const int32_t part = group.dfa.last_accepting(group.dfa.advance(s, name));
        if (part >= 0) best = std::max(best, static_cast<ptrdiff_t>(group.members[part]));
    }
    best = impl.others_after(best, [&](size_t i) { return impl.compiled[i].matches(rel_path); });
    return impl.decides_excluded(best);
}

bool DockerIgnore::excluded(const DirState& dir) const {
    impl_->check_owner(dir);
    return impl_->decides_excluded(dir.last_hit_);
}

bool DockerIgnore::subtree_excluded(const DirState& dir) const {
    const Impl& impl = *impl_;
    impl.check_owner(dir);
    const auto hit = [&](size_t k) { return dir.hits_[k] != 0; };
    const auto state_of = [&](size_t k) -> uint32_t {
        const Impl::Place place = impl.places[k];
        if (place.group == kNoGroup) return 0;
        const Impl::Group& group = impl.groups[place.group];
        return group.dfa.part_states(dir.group_states_[place.group])[place.part];
    };
    return impl.subtree_excluded(dir.path_, hit, state_of);
}

bool DockerIgnore::can_skip(const DirState& dir) const {
    return excluded(dir) && subtree_excluded(dir);
}

namespace {

// A regular file (following symlinks) at `p`? Missing is no; an error that
// leaves the question open is thrown.
bool is_regular_file_at(const std::filesystem::path& p) {
    std::error_code ec;
    const auto st = std::filesystem::status(p, ec);
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
        throw system_error("stat", p.string(), ec.value());
    }
    return !ec && std::filesystem::is_regular_file(st);
}

}  // namespace

std::optional<std::filesystem::path> find_ignore_file(const std::filesystem::path& context_dir,
                                                      const std::filesystem::path& dockerfile) {
    if (!dockerfile.empty()) {
        std::filesystem::path specific = dockerfile;
        specific += ".dockerignore";
        if (is_regular_file_at(specific)) return specific;
    }
    std::filesystem::path shared = context_dir / ".dockerignore";
    if (is_regular_file_at(shared)) return shared;
    return std::nullopt;
}

DockerIgnore read_ignore_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw system_error("open", file.string());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw system_error("read", file.string());
    return DockerIgnore::parse(text, file.string());
}

DockerIgnore load_dockerignore(const std::filesystem::path& context_dir,
                               const std::filesystem::path& dockerfile) {
    const auto file = find_ignore_file(context_dir, dockerfile);
    return file ? read_ignore_file(*file) : DockerIgnore();
}

}  // namespace strata::frontend
