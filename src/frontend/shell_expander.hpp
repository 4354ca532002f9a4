// Dockerfile shell-word expansion: what ENV, ARG, FROM, COPY, ADD, WORKDIR,
// EXPOSE, VOLUME, USER, LABEL, STOPSIGNAL ... do to their arguments (RUN's
// text goes to the shell instead).
//
// The rules are BuildKit's (frontend/dockerfile/shell/lex.go), error
// messages included:
//
// - `$name` and `${name}`; a name is a letter or `_` followed by letters,
//   digits and `_` (Unicode letters and digits, as Go's unicode package sees
//   them), or a run of digits (`$1`, `$001`), or one of `@ * # ? - $ ! 0`.
//   Positional and special parameters are never set unless the Env has them.
//   A `$` followed by anything else is a literal `$`.
// - `${name:-word}` `${name-word}` `${name:+word}` `${name+word}`
//   `${name:?msg}` `${name?msg}` (with `:`, empty counts as unset);
//   `${name#pat}` `${name##pat}` `${name%pat}` `${name%%pat}`
//   `${name/pat/rep}` `${name//pat/rep}` (patterns: see shell_pattern.hpp).
//   `word`, `pat` and `rep` are expanded themselves (nested ${...}), and in
//   `pat`/`rep` escape characters are kept for the pattern to see.
// - Single quotes take everything up to the next `'` literally. Double quotes
//   expand `$` and let the escape character escape `"`, `$` and itself only
//   (`"a\b"` keeps its backslash).
// - Outside quotes the escape character (`\`, or `` ` `` under
//   `# escape=``) makes the next character literal; at the very end it is
//   dropped.
// - Word splitting (expand_words): unquoted white space separates words,
//   white space that comes out of a `$` expansion too; quoted or escaped
//   white space does not. Empty words are dropped (`""` alone gives none).
// - A byte order mark at the very start of the word is dropped (BuildKit
//   reads words with Go's text/scanner, which does that).
//
// Deliberate differences from BuildKit, all in corners: invalid UTF-8 passes
// through byte for byte (Go turns it into U+FFFD); `${name` at the end says
// "missing '}'" (BuildKit: "unsupported modifier (\uFFFD)"); with
// skip_unset_env a `${name//p/r}` is kept with both slashes; substitutions
// nest at most kMaxNesting deep; patterns understand bracket expressions
// unless ShellOptions::bracket_patterns is off (BuildKit has none).
//
// Everything here is a pure function of its arguments and safe to call from
// several threads at once.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace strata::frontend {

// Variables visible to an expansion: an ordered list of name → value. Names
// are case-sensitive (Linux). Setting a name that exists replaces its value
// in place; a name that is set to "" is set (distinct from absent).
class Env {
  public:
    struct Entry {
        std::string name;
        std::string value;
    };

    Env() = default;
    Env(std::initializer_list<std::pair<std::string_view, std::string_view>> entries);

    // From "NAME=value" strings, as a container's environment is written; a
    // string without '=' sets NAME to "". Later entries override earlier ones.
    static Env from_list(const std::vector<std::string>& list);

    void set(std::string_view name, std::string_view value);
    bool erase(std::string_view name);  // false when it was not set

    std::optional<std::string_view> get(std::string_view name) const;
    bool contains(std::string_view name) const { return get(name).has_value(); }

    const std::vector<Entry>& entries() const { return entries_; }  // in first-set order
    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }

  private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::vector<Entry> entries_;
    std::unordered_map<std::string, size_t, Hash, std::equal_to<>> index_;  // name → entries_ index
};

struct ShellOptions {
    char escape = '\\';                // the Dockerfile's escape character: '\\' or '`'
    bool raw_quotes = false;           // keep the quote characters in the result
    bool raw_escapes = false;          // keep the escape characters in the result
    bool skip_unset_env = false;       // leave references to unset names as written
    bool skip_process_quotes = false;  // quotes are ordinary characters
    bool bracket_patterns = true;      // `[...]` in #/%// patterns (BuildKit: literal)
};

// Which names an expansion looked up: all of them (sorted, unique), and those
// that were not set. A name counts as soon as the text refers to it, even when
// the result did not need its value (`${A:-$B}` with A set still refers to
// B), which is what BuildKit reports too; a name the text never mentions is
// never listed, so unrelated variables cannot change a cache key.
struct VarRefs {
    std::vector<std::string> referenced;
    std::vector<std::string> unset;  // subset of referenced
};

struct ExpansionResult : VarRefs {
    std::string word;
};

struct WordsExpansionResult : VarRefs {
    std::vector<std::string> words;
};

// Deeper `${...}` nesting than this is an error rather than a deep recursion.
inline constexpr int kMaxNesting = 128;

// An expansion that failed: what() is BuildKit's message,
// `failed to process "<input>": <detail>`; offset() is the byte in the input
// where the offending construct starts (the `$` of a bad `${...}`, the opening
// quote of an unterminated string).
class ShellError : public Error {
  public:
    ShellError(std::string_view input, size_t offset, std::string detail);
    size_t offset() const noexcept { return offset_; }
    const std::string& detail() const noexcept { return detail_; }  // without the prefix

  private:
    size_t offset_;
    std::string detail_;
};

// Expands `word` as one word (white space kept). Throws ShellError.
ExpansionResult expand_word(std::string_view word, const Env& env, const ShellOptions& opts = {});

// Expands `word` and splits the result into words. Throws ShellError.
WordsExpansionResult expand_words(std::string_view word, const Env& env,
                                  const ShellOptions& opts = {});

}  // namespace strata::frontend
