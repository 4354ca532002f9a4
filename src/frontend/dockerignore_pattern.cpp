#include "frontend/dockerignore_pattern.hpp"

#include <fmt/format.h>

#include <utility>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "base/go/strings.hpp"
#include "base/go/utf8.hpp"
#include "frontend/dockerignore_regex.hpp"

namespace strata::frontend::dockerignore_detail {

namespace {

bool suffix_matches(std::string_view suffix, std::string_view path) {
    if (path.ends_with(suffix)) return true;
    // "**/foo" also matches "foo" itself.
    return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
}

}  // namespace

bool CompiledPattern::matches(std::string_view path) const {
    switch (kind) {
        case MatchKind::kExact:
            return path == literal;
        case MatchKind::kPrefix:
            return path.starts_with(literal);
        case MatchKind::kSuffix:
            return suffix_matches(literal, path);
        case MatchKind::kRegex:
            return automaton->matches(path);
    }
    return false;
}

bool CompiledPattern::matches_or_parent(std::string_view path) const {
    switch (kind) {
        case MatchKind::kExact:
            return path.starts_with(literal) &&
                   (path.size() == literal.size() || path[literal.size()] == '/');
        case MatchKind::kPrefix:
            return path.starts_with(literal);  // a parent's prefix is the path's prefix
        case MatchKind::kSuffix:
            for (size_t i = path.find('/'); i != std::string_view::npos;
                 i = path.find('/', i + 1)) {
                if (suffix_matches(literal, path.substr(0, i))) return true;
            }
            return suffix_matches(literal, path);
        case MatchKind::kRegex:
            return automaton->matches_or_parent(path);
    }
    return false;
}

bool CompiledPattern::matches_all_below(std::string_view dir, uint32_t state) const {
    switch (kind) {
        case MatchKind::kExact:
            return false;
        case MatchKind::kPrefix:  // "<dir>/**"
            return literal.size() == dir.size() + 1 && starts_with_dir(literal, dir);
        case MatchKind::kSuffix:  // "**"
            return literal.empty();
        case MatchKind::kRegex:
            return dfa() != nullptr && automaton->matches_every_child(state);
    }
    return false;
}

bool CompiledPattern::could_match_below(std::string_view dir, uint32_t state) const {
    switch (kind) {
        case MatchKind::kExact:
            return literal.size() > dir.size() + 1 && starts_with_dir(literal, dir);
        case MatchKind::kPrefix:
            // Some "<dir>/<rest>" starts with the literal iff one of "<dir>/"
            // and the literal is a prefix of the other.
            if (literal.size() > dir.size()) return starts_with_dir(literal, dir);
            return dir.starts_with(literal);
        case MatchKind::kSuffix:
            return true;  // "<dir>/<suffix>" always works
        case MatchKind::kRegex:
            return dfa() == nullptr || automaton->can_match_longer(state);
    }
    return true;
}

std::optional<CompiledPattern> compile_pattern(std::string_view entry) {
    const std::string_view trimmed = go::strings::trim_space(entry);
    if (trimmed.empty()) return std::nullopt;
    CompiledPattern p;
    p.text = go::path::clean(trimmed);
    if (p.text[0] == '!') {
        if (p.text.size() == 1) {
            throw Error(ErrorKind::kParse, "illegal exclusion pattern: \"!\"");
        }
        p.exception = true;
        p.text.erase(0, 1);
    }
    const auto invalid = [&](std::string_view why) {
        return Error(ErrorKind::kParse, fmt::format("invalid pattern \"{}\": {}", entry, why));
    };
    if (!go::path::is_valid_pattern(p.text)) throw invalid("syntax error in pattern");

    Translation t = translate_pattern(p.text);
    p.kind = t.kind;
    p.floating = t.kind == MatchKind::kSuffix || t.regex.starts_with("^(.*/)?");
    switch (t.kind) {
        case MatchKind::kExact:
            p.literal = p.text;
            break;
        case MatchKind::kPrefix:
            p.literal = p.text.substr(0, p.text.size() - 2);
            break;
        case MatchKind::kSuffix:
            p.literal = p.text.substr(2);
            break;
        case MatchKind::kRegex:
            try {
                p.automaton.emplace(compile_go_regex(t.regex));
            } catch (const Error& e) {
                if (e.kind() != ErrorKind::kParse) throw;
                throw invalid(e.what());
            }
            return p;
    }
    // A literal kind is matched on bytes. When the literal is valid UTF-8
    // without U+FFFD, matching its runes is the same (decoding resynchronises
    // at a lead byte, and no invalid byte can match), so it also gets an
    // automaton and can run together with the other patterns.
    std::u32string runes;
    for (size_t i = 0; i < p.literal.size();) {
        const go::utf8::Rune r = go::utf8::decode(p.literal, i);
        if (r.rune == go::utf8::kRuneError) return p;
        runes.push_back(r.rune);
        i += r.width;
    }
    const LiteralShape shape = t.kind == MatchKind::kExact    ? LiteralShape::kExact
                               : t.kind == MatchKind::kPrefix ? LiteralShape::kPrefix
                                                              : LiteralShape::kSuffix;
    p.automaton.emplace(literal_program(runes, shape));
    return p;
}

}  // namespace strata::frontend::dockerignore_detail
