#include "frontend/shell_pattern.hpp"

#include <optional>

#include "base/go/unicode.hpp"
#include "base/go/utf8.hpp"

namespace strata::frontend::shell_pattern {

namespace {

namespace utf8 = go::utf8;
namespace unicode = go::unicode;

// What an invalid byte (of the value or inside a bracket expression) decodes
// to here: not a code point, so no class range and no letter matches it.
constexpr char32_t kNoRune = 0xFFFFFFFF;

char32_t rune_or_none(const utf8::Rune& r) {
    return r.invalid() ? kNoRune : r.rune;
}

// The POSIX character classes a bracket expression may name ([:digit:]).
// They are ASCII classes, as in the C locale.
enum NamedClass : uint32_t {
    kAlpha = 1u << 0,
    kDigit = 1u << 1,
    kAlnum = 1u << 2,
    kUpper = 1u << 3,
    kLower = 1u << 4,
    kSpace = 1u << 5,
    kBlank = 1u << 6,
    kPunct = 1u << 7,
    kXdigit = 1u << 8,
    kCntrl = 1u << 9,
    kGraph = 1u << 10,
    kPrint = 1u << 11,
};

uint32_t named_class(std::string_view name) {
    static constexpr std::pair<std::string_view, uint32_t> kNames[] = {
        {"alpha", kAlpha},   {"digit", kDigit}, {"alnum", kAlnum}, {"upper", kUpper},
        {"lower", kLower},   {"space", kSpace}, {"blank", kBlank}, {"punct", kPunct},
        {"xdigit", kXdigit}, {"cntrl", kCntrl}, {"graph", kGraph}, {"print", kPrint},
    };
    for (const auto& [n, bit] : kNames) {
        if (n == name) return bit;
    }
    return 0;
}

bool in_named(uint32_t set, char32_t cp) {
    if (cp >= 0x80) return false;
    const bool upper = cp >= 'A' && cp <= 'Z';
    const bool lower = cp >= 'a' && cp <= 'z';
    const bool digit = cp >= '0' && cp <= '9';
    const bool graph = cp > 0x20 && cp < 0x7F;
    return ((set & kAlpha) && (upper || lower)) || ((set & kDigit) && digit) ||
           ((set & kAlnum) && (upper || lower || digit)) || ((set & kUpper) && upper) ||
           ((set & kLower) && lower) ||
           ((set & kSpace) && (cp == ' ' || (cp >= '\t' && cp <= '\r'))) ||
           ((set & kBlank) && (cp == ' ' || cp == '\t')) ||
           ((set & kPunct) && graph && !upper && !lower && !digit) ||
           ((set & kXdigit) && (digit || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'f'))) ||
           ((set & kCntrl) && (cp < 0x20 || cp == 0x7F)) || ((set & kGraph) && graph) ||
           ((set & kPrint) && (graph || cp == ' '));
}

// Go's regexp.Expand for a pattern without capture groups: `$$` is `$`,
// `$0`/`${0}` the match, any other well-formed `$name`/`${name}` nothing, and
// a malformed `$` stays as it is.
void expand_template(std::string& out, std::string_view tmpl, std::string_view match) {
    size_t i = 0;
    while (i < tmpl.size()) {
        const size_t dollar = tmpl.find('$', i);
        if (dollar == std::string_view::npos) break;
        out.append(tmpl.substr(i, dollar - i));
        const std::string_view rest = tmpl.substr(dollar + 1);
        if (!rest.empty() && rest[0] == '$') {
            out += '$';
            i = dollar + 2;
            continue;
        }
        const bool brace = !rest.empty() && rest[0] == '{';
        size_t k = brace ? 1 : 0;
        const size_t name_start = k;
        while (k < rest.size()) {
            const utf8::Rune r = utf8::decode(rest, k);
            if (!unicode::is_letter(r.rune) && !unicode::is_digit(r.rune) && r.rune != '_') break;
            k += r.width;
        }
        const std::string_view name = rest.substr(name_start, k - name_start);
        if (name.empty() || (brace && (k >= rest.size() || rest[k] != '}'))) {
            out += '$';  // malformed: the `$` is plain text
            i = dollar + 1;
            continue;
        }
        if (brace) ++k;
        if (name == "0") out.append(match);  // the only group such a pattern has
        i = dollar + 1 + k;
    }
    if (i < tmpl.size()) out.append(tmpl.substr(i));
}

}  // namespace

// A Pike VM: all threads advance together over the value, kept in priority
// order, so that the first match to survive is the one Go's leftmost-first
// engine reports. Threads are pattern positions; a star's thread loops.
class Pattern::Matcher {
  public:
    Matcher(const Pattern& p, std::string_view value, bool reversed, bool greedy)
        : p_(p), reversed_(reversed), greedy_(greedy) {
        units_.reserve(value.size() + 1);
        for (size_t pos = 0; pos < value.size();) {
            const utf8::Rune r = utf8::decode(value, pos);
            units_.push_back({pos, rune_or_none(r)});
            pos += r.width;
        }
        units_.push_back({value.size(), 0});  // sentinel: end offset of the last unit
        value_ = value;
        mark_.assign(p.tokens_.size() + 1, 0);
        cur_.reserve(p.tokens_.size() + 1);
        next_.reserve(p.tokens_.size() + 1);
    }

    size_t size() const { return units_.size() - 1; }

    // Byte offset in the value of the boundary before unit `k` (counted in
    // the direction of the search).
    size_t offset(size_t k) const { return units_[reversed_ ? size() - k : k].off; }

    std::optional<Span> search(size_t from, bool anchored) {
        const size_t n = size();
        const auto m = static_cast<uint32_t>(p_.tokens_.size());
        std::optional<Span> best;
        cur_.clear();
        ++stamp_;
        for (size_t pos = from;; ++pos) {
            if (!best && (!anchored || pos == from)) add(cur_, 0, pos);
            if (cur_.empty()) break;
            next_.clear();
            ++stamp_;
            for (const Thread& t : cur_) {
                if (t.state == m) {
                    best = Span{t.start, pos};
                    break;  // lower-priority threads lose to this match
                }
                if (pos == n) continue;
                const Token& tok = token(t.state);
                if (consumes(tok, pos)) {
                    add(next_, tok.kind == Kind::kStar ? t.state : t.state + 1, t.start);
                }
            }
            cur_.swap(next_);
            if (pos == n) break;
        }
        return best;
    }

  private:
    struct Thread {
        uint32_t state;  // token index; == tokens_.size() means "matched"
        size_t start;    // unit where this thread's match began
    };

    const Token& token(uint32_t i) const {
        return p_.tokens_[reversed_ ? p_.tokens_.size() - 1 - i : i];
    }

    bool consumes(const Token& tok, size_t k) const {
        const size_t idx = reversed_ ? size() - 1 - k : k;
        const char32_t cp = units_[idx].cp;
        switch (tok.kind) {
            case Kind::kAny:
            case Kind::kStar:
                return cp != '\n';  // Go's `.`
            case Kind::kClass:
                return p_.class_matches(p_.classes_[tok.a], cp);
            case Kind::kLiteral: {
                const size_t len = units_[idx + 1].off - units_[idx].off;
                return len == tok.b &&
                       value_.compare(units_[idx].off, len, p_.bytes_, tok.a, tok.b) == 0;
            }
        }
        return false;
    }

    // Adds the threads reachable from `state` without consuming input, in
    // priority order: a greedy star prefers looping, a lazy one moving on.
    void add(std::vector<Thread>& list, uint32_t state, size_t start) {
        const auto m = static_cast<uint32_t>(p_.tokens_.size());
        deferred_.clear();
        uint32_t j = state;
        for (; j < m && token(j).kind == Kind::kStar; ++j) {
            if (greedy_) {
                push(list, j, start);
            } else {
                deferred_.push_back(j);
            }
        }
        push(list, j, start);
        for (auto it = deferred_.rbegin(); it != deferred_.rend(); ++it)
            push(list, *it, start);
    }

    void push(std::vector<Thread>& list, uint32_t state, size_t start) {
        if (mark_[state] == stamp_) return;  // already there with a higher priority
        mark_[state] = stamp_;
        list.push_back({state, start});
    }

    const Pattern& p_;
    std::string_view value_;
    bool reversed_;
    bool greedy_;
    std::vector<Unit> units_;
    std::vector<uint64_t> mark_;
    uint64_t stamp_ = 0;
    std::vector<Thread> cur_, next_;
    std::vector<uint32_t> deferred_;
};

Pattern Pattern::compile(std::string_view text, bool brackets) {
    Pattern p;
    auto literal = [&p](std::string_view bytes) {
        p.tokens_.push_back({Kind::kLiteral, static_cast<uint32_t>(p.bytes_.size()),
                             static_cast<uint32_t>(bytes.size())});
        p.bytes_.append(bytes);
    };
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '*') {
            p.tokens_.push_back({Kind::kStar});
            ++i;
        } else if (c == '?') {
            p.tokens_.push_back({Kind::kAny});
            ++i;
        } else if (c == '\\') {
            if (i + 1 >= text.size()) throw PatternError{"invalid escape '\\' at end of pattern"};
            const char next = text[i + 1];
            if (next == '}' || next == '/') {
                ++i;  // the escape only kept `}` or `/` inside ${...}
                continue;
            }
            const size_t len = utf8::decode(text, i + 1).width;
            const bool ok = next == '*' || next == '?' || next == '\\' ||
                            (brackets && (next == '[' || next == ']'));
            if (!ok) {
                throw PatternError{"invalid escape '\\" + std::string(text.substr(i + 1, len)) +
                                   "'"};
            }
            literal(text.substr(i + 1, len));
            i += 1 + len;
        } else if (c == '[' && brackets && p.parse_bracket(text, i)) {
            // parse_bracket advanced i past the closing ']'
        } else {
            const size_t len = utf8::decode(text, i).width;
            literal(text.substr(i, len));
            i += len;
        }
    }
    return p;
}

// Parses the bracket expression at text[pos] == '['. On success appends a
// class token and moves pos past the closing ']'; without a closing ']' the
// '[' is an ordinary character and nothing changes.
bool Pattern::parse_bracket(std::string_view text, size_t& pos) {
    Class cls;
    size_t j = pos + 1;
    if (j < text.size() && (text[j] == '!' || text[j] == '^')) {
        cls.negated = true;
        ++j;
    }
    // Reads one (possibly escaped) character of the expression.
    auto read_char = [&](size_t& at) -> char32_t {
        if (text[at] == '\\' && at + 1 < text.size()) ++at;
        const utf8::Rune r = utf8::decode(text, at);
        at += r.width;
        return rune_or_none(r);
    };
    bool first = true;
    while (j < text.size()) {
        if (text[j] == ']' && !first) {
            pos = j + 1;
            classes_.push_back(std::move(cls));
            tokens_.push_back({Kind::kClass, static_cast<uint32_t>(classes_.size() - 1)});
            return true;
        }
        first = false;
        if (text.compare(j, 2, "[:") == 0) {
            const size_t close = text.find(":]", j + 2);
            const uint32_t bit = close == std::string_view::npos
                                     ? 0
                                     : named_class(text.substr(j + 2, close - j - 2));
            if (bit != 0) {
                cls.named |= bit;
                j = close + 2;
                continue;
            }
        }
        const char32_t lo = read_char(j);
        if (j + 1 < text.size() && text[j] == '-' && text[j + 1] != ']') {
            ++j;
            const char32_t hi = read_char(j);
            cls.ranges.push_back({lo, hi});
        } else {
            cls.ranges.push_back({lo, lo});
        }
    }
    return false;
}

bool Pattern::class_matches(const Class& c, char32_t cp) const {
    bool in = in_named(c.named, cp);
    for (size_t i = 0; !in && i < c.ranges.size(); ++i) {
        in = cp != kNoRune && cp >= c.ranges[i].lo && cp <= c.ranges[i].hi;
    }
    return in != c.negated;
}

std::string_view Pattern::trim_prefix(std::string_view value, bool longest) const {
    Matcher m(*this, value, false, longest);
    const auto span = m.search(0, true);
    return span ? value.substr(m.offset(span->end)) : value;
}

std::string_view Pattern::trim_suffix(std::string_view value, bool longest) const {
    Matcher m(*this, value, true, longest);
    const auto span = m.search(0, true);
    return span ? value.substr(0, m.offset(span->end)) : value;
}

std::string Pattern::replace(std::string_view value, std::string_view replacement, bool all) const {
    Matcher m(*this, value, false, true);
    std::string out;
    if (!all) {
        const auto span = m.search(0, false);
        if (!span) return std::string(value);
        const size_t b = m.offset(span->begin), e = m.offset(span->end);
        out.reserve(value.size() + replacement.size());
        out.append(value.substr(0, b)).append(replacement).append(value.substr(e));
        return out;
    }
    // Go's Regexp.ReplaceAllString: no replacement for an empty match right
    // after a previous match, and at least one character of progress per
    // search.
    const size_t n = m.size();
    size_t last_end = 0;
    for (size_t search = 0; search <= n;) {
        const auto span = m.search(search, false);
        if (!span) break;
        const size_t b = m.offset(span->begin), e = m.offset(span->end);
        out.append(value.substr(m.offset(last_end), b - m.offset(last_end)));
        if (span->end > last_end || span->begin == 0) {
            expand_template(out, replacement, value.substr(b, e - b));
        }
        last_end = span->end;
        search = span->end > search ? span->end : search + 1;
    }
    out.append(value.substr(m.offset(last_end)));
    return out;
}

}  // namespace strata::frontend::shell_pattern
