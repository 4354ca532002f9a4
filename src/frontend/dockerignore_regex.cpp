#include "frontend/dockerignore_regex.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>

#include "base/error.hpp"
#include "base/go/utf8.hpp"

namespace strata::frontend::dockerignore_detail {

namespace {

struct Node {
    enum class Kind : uint8_t { kClass, kEmpty, kStar, kPlus, kQuest, kConcat, kAlt };
    Kind kind = Kind::kConcat;
    uint8_t empty = 0;
    RuneClass cls;
    std::vector<Node> subs;
};

[[noreturn]] void fail(std::string_view code, std::string_view expr) {
    throw Error(ErrorKind::kParse, fmt::format("error parsing regexp: {}: `{}`", code, expr));
}

[[noreturn]] void internal(std::string_view what, std::string_view regex) {
    throw Error(ErrorKind::kInternal,
                fmt::format("dockerignore: unexpected {} in translated pattern `{}`", what, regex));
}

RuneClass normalized(RuneClass cls) {
    std::sort(cls.begin(), cls.end(),
              [](const RuneRange& a, const RuneRange& b) { return a.lo < b.lo; });
    RuneClass out;
    for (const RuneRange& r : cls) {
        if (!out.empty() && r.lo <= out.back().hi + 1) {
            out.back().hi = std::max(out.back().hi, r.hi);
        } else {
            out.push_back(r);
        }
    }
    return out;
}

RuneClass negated(const RuneClass& cls) {  // cls must be normalized
    RuneClass out;
    char32_t next = 0;
    for (const RuneRange& r : cls) {
        if (r.lo > next) out.push_back({next, r.lo - 1});
        next = r.hi + 1;
    }
    if (next <= go::utf8::kMaxRune) out.push_back({next, go::utf8::kMaxRune});
    return out;
}

// Go's Perl (\d \s \w) and POSIX ([:alpha:]) groups; all ASCII.
RuneClass perl_group(char letter) {
    switch (letter) {
        case 'd':
            return {{'0', '9'}};
        case 's':
            return {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
        case 'w':
            return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
        default:
            return {};
    }
}

bool posix_group(std::string_view name, RuneClass* out) {
    struct Group {
        std::string_view name;
        RuneClass cls;
    };
    static const Group kGroups[] = {
        {"alnum", {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}},
        {"alpha", {{'A', 'Z'}, {'a', 'z'}}},
        {"ascii", {{0, 0x7F}}},
        {"blank", {{'\t', '\t'}, {' ', ' '}}},
        {"cntrl", {{0, 0x1F}, {0x7F, 0x7F}}},
        {"digit", {{'0', '9'}}},
        {"graph", {{'!', '~'}}},
        {"lower", {{'a', 'z'}}},
        {"print", {{' ', '~'}}},
        {"punct", {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}}},
        {"space", {{'\t', '\r'}, {' ', ' '}}},
        {"upper", {{'A', 'Z'}}},
        {"word", {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}},
        {"xdigit", {{'0', '9'}, {'A', 'F'}, {'a', 'f'}}},
    };
    const bool negate = !name.empty() && name[0] == '^';
    if (negate) name.remove_prefix(1);
    for (const Group& g : kGroups) {
        if (g.name == name) {
            *out = negate ? negated(g.cls) : g.cls;
            return true;
        }
    }
    return false;
}

int unhex(char32_t c) {
    if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
    return -1;
}

bool is_alnum(char32_t c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_perl_class_letter(char c) {
    return c == 'd' || c == 'D' || c == 's' || c == 'S' || c == 'w' || c == 'W';
}

RuneClass perl_class(char letter) {  // \d \D \s \S \w \W
    const bool upper = letter >= 'A' && letter <= 'Z';
    RuneClass cls = perl_group(static_cast<char>(upper ? letter - 'A' + 'a' : letter));
    return upper ? negated(cls) : cls;
}

// Parser for Go regexp syntax with the Perl flags (ClassNL | OneLine | PerlX |
// UnicodeGroups): `.` excludes \n, negated classes include it, ^ and $ anchor
// the whole text.
class Parser {
  public:
    explicit Parser(std::string_view regex) : whole_(regex) {}

    Node parse() {
        std::vector<std::vector<Node>> frames(1);  // one per open group
        std::string_view t = whole_;
        std::string_view last_repeat;
        while (!t.empty()) {
            std::string_view repeat;
            std::vector<Node>& items = frames.back();
            switch (t[0]) {
                case '(':
                    if (t.size() >= 2 && t[1] == '?') internal("flag group", whole_);
                    frames.emplace_back();
                    t.remove_prefix(1);
                    break;
                case ')': {
                    if (frames.size() < 2) fail("unexpected )", whole_);
                    Node group = concat(std::move(frames.back()));
                    frames.pop_back();
                    frames.back().push_back(std::move(group));
                    t.remove_prefix(1);
                    break;
                }
                case '|':
                    internal("alternation", whole_);
                case '^':
                    items.push_back(empty_node(kBeginText));
                    t.remove_prefix(1);
                    break;
                case '$':
                    items.push_back(empty_node(kEndText));
                    t.remove_prefix(1);
                    break;
                case '.':
                    items.push_back(class_node({{0, '\n' - 1}, {'\n' + 1, go::utf8::kMaxRune}}));
                    t.remove_prefix(1);
                    break;
                case '[':
                    t = parse_class(t, items);
                    break;
                case '*':
                case '+':
                case '?': {
                    const std::string_view before = t;
                    std::string_view after = t.substr(1);
                    if (!after.empty() && after[0] == '?') after.remove_prefix(1);  // non-greedy
                    if (!last_repeat.empty()) {
                        fail("invalid nested repetition operator",
                             last_repeat.substr(0, last_repeat.size() - after.size()));
                    }
                    if (items.empty()) {
                        fail("missing argument to repetition operator",
                             before.substr(0, before.size() - after.size()));
                    }
                    Node rep;
                    rep.kind = t[0] == '*'   ? Node::Kind::kStar
                               : t[0] == '+' ? Node::Kind::kPlus
                                             : Node::Kind::kQuest;
                    rep.subs.push_back(std::move(items.back()));
                    items.back() = std::move(rep);
                    repeat = before;
                    t = after;
                    break;
                }
                case '{':
                    if (t.size() >= 2 && t[1] >= '0' && t[1] <= '9') {
                        internal("counted repetition", whole_);
                    }
                    items.push_back(literal('{'));
                    t.remove_prefix(1);
                    break;
                case '\\':
                    parse_backslash(t, items);
                    break;
                default:
                    items.push_back(literal(next_rune(t)));
                    break;
            }
            last_repeat = repeat;
        }
        if (frames.size() != 1) fail("missing closing )", whole_);
        return concat(std::move(frames[0]));
    }

    bool uses_word_boundary() const { return uses_word_boundary_; }

  private:
    static Node empty_node(uint8_t flag) {
        Node n;
        n.kind = Node::Kind::kEmpty;
        n.empty = flag;
        return n;
    }
    static Node class_node(RuneClass cls) {
        Node n;
        n.kind = Node::Kind::kClass;
        n.cls = std::move(cls);
        return n;
    }
    static Node literal(char32_t r) { return class_node({{r, r}}); }
    static Node concat(std::vector<Node> items) {
        Node n;
        n.kind = Node::Kind::kConcat;
        n.subs = std::move(items);
        return n;
    }

    // Go's nextRune: an empty input yields U+FFFD without error.
    static char32_t next_rune(std::string_view& t) {
        if (t.empty()) return go::utf8::kRuneError;
        const go::utf8::Rune r = go::utf8::decode(t);
        if (r.invalid()) fail("invalid UTF-8", t);
        t.remove_prefix(r.width);
        return r.rune;
    }

    void parse_backslash(std::string_view& t, std::vector<Node>& items) {
        if (t.size() >= 2) {
            switch (t[1]) {
                case 'A':
                    items.push_back(empty_node(kBeginText));
                    t.remove_prefix(2);
                    return;
                case 'z':
                    items.push_back(empty_node(kEndText));
                    t.remove_prefix(2);
                    return;
                case 'b':
                case 'B':
                    items.push_back(empty_node(t[1] == 'b' ? kWordBoundary : kNoWordBoundary));
                    uses_word_boundary_ = true;
                    t.remove_prefix(2);
                    return;
                case 'C':
                    fail("invalid escape sequence", t.substr(0, 2));
                case 'Q': {
                    // \Q...\E: everything up to \E (or the end) is literal.
                    std::string_view lit = t.substr(2);
                    const size_t end = lit.find("\\E");
                    t = end == std::string_view::npos ? std::string_view() : lit.substr(end + 2);
                    if (end != std::string_view::npos) lit = lit.substr(0, end);
                    while (!lit.empty())
                        items.push_back(literal(next_rune(lit)));
                    return;
                }
                case 'p':
                case 'P':
                    unicode_class(t);
                default:
                    break;
            }
            if (is_perl_class_letter(t[1])) {
                items.push_back(class_node(perl_class(t[1])));
                t.remove_prefix(2);
                return;
            }
        }
        items.push_back(literal(parse_escape(t)));
    }

    [[noreturn]] static void unicode_class(std::string_view t) {
        throw Error(ErrorKind::kParse,
                    fmt::format("Unicode character classes (`{}`) are not supported in "
                                ".dockerignore patterns by strata",
                                t.substr(0, std::min<size_t>(t.size(), 3))));
    }

    // Go's parseEscape: `s` starts with a backslash.
    static char32_t parse_escape(std::string_view& s) {
        std::string_view t = s.substr(1);
        if (t.empty()) fail("trailing backslash at end of expression", "");
        char32_t c = next_rune(t);
        switch (c) {
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
                // A single non-zero digit would be a backreference: invalid.
                if (t.empty() || t[0] < '0' || t[0] > '7') break;
                [[fallthrough]];
            case '0': {
                char32_t r = c - '0';
                for (int i = 1; i < 3 && !t.empty() && t[0] >= '0' && t[0] <= '7'; ++i) {
                    r = r * 8 + static_cast<char32_t>(t[0] - '0');
                    t.remove_prefix(1);
                }
                s = t;
                return r;
            }
            case 'x': {
                if (t.empty()) break;
                c = next_rune(t);
                if (c == '{') {
                    char32_t r = 0;
                    int digits = 0;
                    bool closed = false;
                    while (!t.empty()) {
                        c = next_rune(t);
                        if (c == '}') {
                            closed = true;
                            break;
                        }
                        const int v = unhex(c);
                        if (v < 0) break;
                        r = r * 16 + static_cast<char32_t>(v);
                        if (r > go::utf8::kMaxRune) break;
                        ++digits;
                    }
                    if (!closed || digits == 0) break;
                    s = t;
                    return r;
                }
                const int x = unhex(c);
                const int y = unhex(next_rune(t));
                if (x < 0 || y < 0) break;
                s = t;
                return static_cast<char32_t>(x * 16 + y);
            }
            case 'a':
                s = t;
                return '\a';
            case 'f':
                s = t;
                return '\f';
            case 'n':
                s = t;
                return '\n';
            case 'r':
                s = t;
                return '\r';
            case 't':
                s = t;
                return '\t';
            case 'v':
                s = t;
                return '\v';
            default:
                if (c < 0x80 && !is_alnum(c)) {  // escaped punctuation is itself
                    s = t;
                    return c;
                }
                break;
        }
        fail("invalid escape sequence", s.substr(0, s.size() - t.size()));
    }

    static char32_t parse_class_char(std::string_view& t, std::string_view whole_class) {
        if (t.empty()) fail("missing closing ]", whole_class);
        if (t[0] == '\\') return parse_escape(t);
        return next_rune(t);
    }

    // Go's parseClass; `s` starts with '['. Returns the text after the class.
    std::string_view parse_class(std::string_view s, std::vector<Node>& items) {
        std::string_view t = s.substr(1);
        bool negate = false;
        if (!t.empty() && t[0] == '^') {
            negate = true;
            t.remove_prefix(1);
        }
        RuneClass cls;
        bool first = true;  // ']' is a literal when it comes first
        while (t.empty() || t[0] != ']' || first) {
            first = false;
            if (t.size() > 2 && t[0] == '[' && t[1] == ':') {
                // Go looks for the closing ":]" anywhere in the rest of the regex.
                const size_t close = t.find(":]", 2);
                if (close != std::string_view::npos) {
                    const std::string_view name = t.substr(0, close + 2);
                    RuneClass group;
                    if (!posix_group(name.substr(2, name.size() - 4), &group)) {
                        fail("invalid character class range", name);
                    }
                    cls.insert(cls.end(), group.begin(), group.end());
                    t.remove_prefix(name.size());
                    continue;
                }
            }
            if (t.size() >= 2 && t[0] == '\\' && (t[1] == 'p' || t[1] == 'P')) unicode_class(t);
            if (t.size() >= 2 && t[0] == '\\' && is_perl_class_letter(t[1])) {
                const RuneClass group = perl_class(t[1]);
                cls.insert(cls.end(), group.begin(), group.end());
                t.remove_prefix(2);
                continue;
            }
            const std::string_view range_text = t;
            const char32_t lo = parse_class_char(t, s);
            char32_t hi = lo;
            if (t.size() >= 2 && t[0] == '-' && t[1] != ']') {  // "a-]" is 'a' and '-'
                t.remove_prefix(1);
                hi = parse_class_char(t, s);
                if (hi < lo) {
                    fail("invalid character class range",
                         range_text.substr(0, range_text.size() - t.size()));
                }
            }
            cls.push_back({lo, hi});
        }
        t.remove_prefix(1);  // ']'
        cls = normalized(std::move(cls));
        items.push_back(class_node(negate ? negated(cls) : cls));
        return t;
    }

    std::string_view whole_;
    bool uses_word_boundary_ = false;
};

class Compiler {
  public:
    explicit Compiler(Program& program) : p_(program) {}

    // Compiles `n` so that it continues at `next`; returns its entry.
    uint32_t compile(const Node& n, uint32_t next) {
        switch (n.kind) {
            case Node::Kind::kClass: {
                Inst inst;
                inst.op = InstOp::kRunes;
                inst.cls = class_index(n.cls);
                inst.out = next;
                return emit(inst);
            }
            case Node::Kind::kEmpty: {
                Inst inst;
                inst.op = InstOp::kEmpty;
                inst.empty = n.empty;
                inst.out = next;
                return emit(inst);
            }
            case Node::Kind::kConcat:
                for (auto it = n.subs.rbegin(); it != n.subs.rend(); ++it) {
                    next = compile(*it, next);
                }
                return next;
            case Node::Kind::kAlt: {
                const uint32_t first = compile(n.subs[0], next);
                const uint32_t second = compile(n.subs[1], next);
                Inst inst;
                inst.op = InstOp::kSplit;
                inst.out = first;
                inst.out1 = second;
                return emit(inst);
            }
            case Node::Kind::kQuest: {
                const uint32_t body = compile(n.subs[0], next);
                Inst inst;
                inst.op = InstOp::kSplit;
                inst.out = body;
                inst.out1 = next;
                return emit(inst);
            }
            case Node::Kind::kStar:
            case Node::Kind::kPlus: {
                Inst split;
                split.op = InstOp::kSplit;
                const uint32_t loop = emit(split);
                const uint32_t body = compile(n.subs[0], loop);
                p_.insts[loop].out = body;
                p_.insts[loop].out1 = next;
                return n.kind == Node::Kind::kStar ? loop : body;
            }
        }
        return next;
    }

    uint32_t emit(const Inst& inst) {
        p_.insts.push_back(inst);
        return static_cast<uint32_t>(p_.insts.size() - 1);
    }

  private:
    uint32_t class_index(const RuneClass& cls) {
        for (size_t i = 0; i < p_.classes.size(); ++i) {
            const RuneClass& c = p_.classes[i];
            if (c.size() == cls.size() &&
                std::equal(c.begin(), c.end(), cls.begin(), [](const auto& a, const auto& b) {
                    return a.lo == b.lo && a.hi == b.hi;
                })) {
                return static_cast<uint32_t>(i);
            }
        }
        p_.classes.push_back(cls);
        return static_cast<uint32_t>(p_.classes.size() - 1);
    }

    Program& p_;
};

}  // namespace

bool class_contains(const RuneClass& cls, char32_t r) {
    for (const RuneRange& range : cls) {
        if (r < range.lo) return false;
        if (r <= range.hi) return true;
    }
    return false;
}

bool is_word_rune(char32_t r) {
    return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || r == '_';
}

namespace {

Program compile_node(const Node& root, bool uses_word_boundary) {
    Program program;
    program.uses_word_boundary = uses_word_boundary;
    Compiler compiler(program);
    Inst match;
    match.op = InstOp::kMatch;
    const uint32_t match_index = compiler.emit(match);
    program.start = compiler.compile(root, match_index);
    return program;
}

Node make_node(Node::Kind kind, std::vector<Node> subs = {}) {
    Node n;
    n.kind = kind;
    n.subs = std::move(subs);
    return n;
}

Node literal_node(std::u32string_view runes, bool at_end) {
    Node n = make_node(Node::Kind::kConcat);
    for (const char32_t r : runes) {
        Node c = make_node(Node::Kind::kClass);
        c.cls = {{r, r}};
        n.subs.push_back(std::move(c));
    }
    if (at_end) {
        Node end = make_node(Node::Kind::kEmpty);
        end.empty = kEndText;
        n.subs.push_back(std::move(end));
    }
    return n;
}

}  // namespace

Program compile_go_regex(std::string_view regex) {
    Parser parser(regex);
    const Node root = parser.parse();
    return compile_node(root, parser.uses_word_boundary());
}

Program literal_program(std::u32string_view literal, LiteralShape shape) {
    switch (shape) {
        case LiteralShape::kExact:
            return compile_node(literal_node(literal, true), false);
        case LiteralShape::kPrefix:
            return compile_node(literal_node(literal, false), false);
        case LiteralShape::kSuffix:
            break;
    }
    Node any = make_node(Node::Kind::kClass);
    any.cls = {{0, go::utf8::kMaxRune}};
    Node ends_with = literal_node(literal, true);
    ends_with.subs.insert(ends_with.subs.begin(), make_node(Node::Kind::kStar, {std::move(any)}));
    if (literal.empty() || literal[0] != '/') return compile_node(ends_with, false);
    // "**/foo" also matches "foo" itself.
    return compile_node(
        make_node(Node::Kind::kAlt, {std::move(ends_with), literal_node(literal.substr(1), true)}),
        false);
}

}  // namespace strata::frontend::dockerignore_detail
