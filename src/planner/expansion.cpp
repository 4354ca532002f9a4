// Expander: the planner's adapter over the frontend's shell-word expander
// (BuildKit's shell.Lex), with BuildKit's options for each use.
#include "planner/expansion.hpp"

#include "frontend/shell_expander.hpp"

namespace strata::planner {
namespace {

frontend::Env to_env(const EnvList& list) {
    frontend::Env env;
    for (const auto& [name, value] : list.vars())
        env.set(name, value);
    return env;
}

frontend::ShellOptions options(char32_t escape) {
    frontend::ShellOptions opts;
    opts.escape = escape == U'`' ? '`' : '\\';
    opts.bracket_patterns = false;  // BuildKit's patterns have no bracket expressions
    return opts;
}

template <typename Result>
Expanded convert(Result&& r) {
    Expanded out;
    out.used = std::move(r.referenced);
    return out;
}

}  // namespace

Expanded Expander::word(std::string_view text, const EnvList& env) const {
    try {
        auto r = frontend::expand_word(text, to_env(env), options(escape_));
        Expanded out = convert(r);
        out.value = std::move(r.word);
        return out;
    } catch (const frontend::ShellError& e) {
        throw ExpandError{e.what()};
    }
}

Expanded Expander::words(std::string_view text, const EnvList& env) const {
    try {
        auto r = frontend::expand_words(text, to_env(env), options(escape_));
        Expanded out = convert(r);
        out.words = std::move(r.words);
        return out;
    } catch (const frontend::ShellError& e) {
        throw ExpandError{e.what()};
    }
}

Expanded Expander::raw(std::string_view text, const EnvList& env) const {
    frontend::ShellOptions opts = options(U'\\');  // heredoc content: always '\'
    opts.skip_process_quotes = true;
    try {
        auto r = frontend::expand_word(text, to_env(env), opts);
        Expanded out = convert(r);
        out.value = std::move(r.word);
        return out;
    } catch (const frontend::ShellError& e) {
        throw ExpandError{e.what()};
    }
}

std::string Expander::display(std::string_view text, const EnvList& env, bool run) const {
    frontend::ShellOptions opts = options(escape_);
    opts.raw_quotes = run;
    opts.skip_unset_env = run;
    try {
        return frontend::expand_word(text, to_env(env), opts).word;
    } catch (const frontend::ShellError&) {
        return std::string(text);
    }
}

}  // namespace strata::planner
