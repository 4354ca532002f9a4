// The shell-word lexer. Its structure follows BuildKit's shellWord (one
// function per construct, recursing for nested ${...}) so that the order in
// which it consumes input, looks names up and reports errors is the same.
#include "frontend/shell_expander.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/go/strconv.hpp"
#include "base/go/unicode.hpp"
#include "base/go/utf8.hpp"
#include "frontend/shell_pattern.hpp"

namespace strata::frontend {

namespace utf8 = go::utf8;
namespace unicode = go::unicode;

namespace {

// Thrown inside the lexer; expand_word turns it into a ShellError.
struct Failure {
    size_t offset;
    std::string detail;
};

constexpr const char* kMissingBrace = "syntax error: missing '}'";

bool is_special_param(char c) {
    switch (c) {
        case '@':
        case '*':
        case '#':
        case '?':
        case '-':
        case '$':
        case '!':
        case '0':
            return true;
        default:
            return false;
    }
}

bool is_ascii_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

// Collects the words of expand_words. White space splits words only where the
// lexer says it may (unquoted text and `$` results); empty words never count.
class WordSplitter {
  public:
    std::string& current() { return cur_; }

    void add_split(std::string_view s) {
        for (size_t i = 0; i < s.size();) {
            const auto b = static_cast<unsigned char>(s[i]);
            if (b < 0x80) {
                if (is_ascii_space(b)) {
                    flush();
                    ++i;
                    continue;
                }
                size_t end = i + 1;  // a run of ASCII that is not white space
                while (end < s.size() && static_cast<unsigned char>(s[end]) < 0x80 &&
                       !is_ascii_space(static_cast<unsigned char>(s[end]))) {
                    ++end;
                }
                cur_.append(s.substr(i, end - i));
                i = end;
                continue;
            }
            const utf8::Rune r = utf8::decode(s, i);
            if (unicode::is_space(r.rune)) {
                flush();
            } else {
                cur_.append(s.substr(i, r.width));
            }
            i += r.width;
        }
    }

    std::vector<std::string> finish() {
        flush();
        return std::move(words_);
    }

  private:
    void flush() {
        if (cur_.empty()) return;
        words_.push_back(std::move(cur_));
        cur_.clear();
    }

    std::vector<std::string> words_;
    std::string cur_;
};

class Lexer {
  public:
    Lexer(std::string_view src, const Env& env, const ShellOptions& opts, VarRefs& refs)
        : src_(src), env_(env), opts_(opts), refs_(refs), raw_escapes_(opts.raw_escapes) {}

    // Exactly one of out / words receives the result.
    void run(std::string* out, WordSplitter* words) { until(-1, opts_.raw_escapes, out, words); }

  private:
    bool at_end() const { return pos_ >= src_.size(); }

    [[noreturn]] static void fail(size_t offset, std::string detail) {
        throw Failure{offset, std::move(detail)};
    }

    // BuildKit's processStopOn: consumes up to and including `stop` (-1: to
    // the end), expanding as it goes.
    void until(int stop, bool raw_escapes, std::string* out, WordSplitter* words) {
        const bool saved_raw = raw_escapes_;
        raw_escapes_ = raw_escapes;
        const char esc = opts_.escape;
        const bool quotes = !opts_.skip_process_quotes;
        while (!at_end()) {
            const char c = src_[pos_];
            if (stop >= 0 && c == static_cast<char>(stop)) {
                ++pos_;
                raw_escapes_ = saved_raw;
                return;
            }
            if (c == '$') {
                if (words != nullptr) {
                    std::string value;
                    dollar(value);
                    words->add_split(value);
                } else {
                    dollar(*out);
                }
            } else if (quotes && (c == '\'' || c == '"')) {
                std::string& dst = words != nullptr ? words->current() : *out;
                if (c == '\'') {
                    single_quote(dst);
                } else {
                    double_quote(dst);
                }
            } else if (c == esc) {
                std::string& dst = words != nullptr ? words->current() : *out;
                ++pos_;
                if (raw_escapes_) dst += c;
                if (at_end()) break;  // a trailing escape character is dropped
                const size_t len = utf8::decode(src_, pos_).width;
                dst.append(src_.substr(pos_, len));
                pos_ += len;
            } else {
                // A run of ordinary characters.
                size_t end = pos_ + 1;
                while (end < src_.size()) {
                    const char d = src_[end];
                    if (d == '$' || d == esc || (quotes && (d == '\'' || d == '"')) ||
                        (stop >= 0 && d == static_cast<char>(stop))) {
                        break;
                    }
                    ++end;
                }
                const std::string_view run = src_.substr(pos_, end - pos_);
                if (words != nullptr) {
                    words->add_split(run);
                } else {
                    out->append(run);
                }
                pos_ = end;
            }
        }
        raw_escapes_ = saved_raw;
        if (stop >= 0) {
            fail(pos_, fmt::format("unexpected end of statement while looking for matching {}",
                                   static_cast<char>(stop)));
        }
    }

    // A nested word of ${...}: up to `stop`. Running out of input there is
    // reported as `eof_message` at the `$` that opened the substitution.
    std::string nested(int stop, bool raw_escapes, size_t start, const char* eof_message) {
        if (depth_ >= kMaxNesting) {
            fail(start, fmt::format("syntax error: substitutions nested more than {} levels deep",
                                    kMaxNesting));
        }
        ++depth_;
        std::string word;
        try {
            until(stop, raw_escapes, &word, nullptr);
        } catch (const Failure&) {
            if (at_end()) fail(start, eof_message);
            throw;
        }
        --depth_;
        return word;
    }

    void single_quote(std::string& out) {
        const size_t start = pos_++;
        const size_t close = src_.find('\'', pos_);
        if (close == std::string_view::npos) {
            pos_ = src_.size();
            fail(start, "unexpected end of statement while looking for matching single-quote");
        }
        if (opts_.raw_quotes) out += '\'';
        out.append(src_.substr(pos_, close - pos_));
        if (opts_.raw_quotes) out += '\'';
        pos_ = close + 1;
    }

    void double_quote(std::string& out) {
        const size_t start = pos_++;
        const char esc = opts_.escape;
        if (opts_.raw_quotes) out += '"';
        while (true) {
            if (at_end()) {
                fail(start, "unexpected end of statement while looking for matching double-quote");
            }
            const char c = src_[pos_];
            if (c == '"') {
                ++pos_;
                if (opts_.raw_quotes) out += '"';
                return;
            }
            if (c == '$') {
                dollar(out);
                continue;
            }
            if (c != esc) {
                size_t end = pos_ + 1;
                while (end < src_.size() && src_[end] != '"' && src_[end] != '$' &&
                       src_[end] != esc) {
                    ++end;
                }
                out.append(src_.substr(pos_, end - pos_));
                pos_ = end;
                continue;
            }
            ++pos_;  // the escape character
            if (raw_escapes_) out += c;
            if (at_end()) continue;  // reported as unterminated on the next turn
            const char next = src_[pos_];
            if (next == '"' || next == '$' || next == esc) {
                out += next;
                ++pos_;
            } else {
                // Other characters keep the escape character. With raw
                // escapes BuildKit writes it a second time; so do we.
                out += c;
            }
        }
    }

    // A name after `$` or `${` (BuildKit's processName); empty when none.
    std::string_view read_name() {
        const size_t begin = pos_;
        if (at_end()) return {};
        utf8::Rune r = utf8::decode(src_, pos_);
        if (unicode::is_digit(r.rune)) {
            while (!at_end() && unicode::is_digit((r = utf8::decode(src_, pos_)).rune)) {
                pos_ += r.width;
            }
            return src_.substr(begin, pos_ - begin);
        }
        if (is_special_param(src_[pos_])) {
            ++pos_;
            return src_.substr(begin, 1);
        }
        while (!at_end()) {
            r = utf8::decode(src_, pos_);
            if (!unicode::is_letter(r.rune) && !unicode::is_digit(r.rune) && r.rune != '_') break;
            pos_ += r.width;
        }
        return src_.substr(begin, pos_ - begin);
    }

    std::optional<std::string_view> lookup(std::string_view name) {
        const std::optional<std::string_view> value = env_.get(name);
        auto note = [name](std::vector<std::string>& list) {
            if (std::find(list.begin(), list.end(), name) != list.end()) return;
            if (list.capacity() == 0) list.reserve(4);  // words rarely name more
            list.emplace_back(name);
        };
        note(refs_.referenced);
        if (!value) note(refs_.unset);
        return value;
    }

    void dollar(std::string& out) {
        const size_t start = pos_++;
        if (at_end() || src_[pos_] != '{') {
            const std::string_view name = read_name();
            if (name.empty()) {
                out += '$';
                return;
            }
            const auto value = lookup(name);
            if (value) {
                out.append(*value);
            } else if (opts_.skip_unset_env) {
                out.append("$").append(name);
            }
            return;
        }
        ++pos_;  // '{'
        if (at_end()) fail(start, kMissingBrace);
        if (const char c = src_[pos_]; c == '{' || c == '}' || c == ':') {
            fail(start, "syntax error: bad substitution");
        }
        const std::string_view name = read_name();
        if (at_end()) fail(start, kMissingBrace);
        const size_t mod_at = pos_;
        const char mod = src_[pos_];
        pos_ += utf8::decode(src_, pos_).width;
        switch (mod) {
            case '}': {
                const auto value = lookup(name);
                if (value) {
                    out.append(*value);
                } else if (opts_.skip_unset_env) {
                    out.append("${").append(name).append("}");
                }
                return;
            }
            case ':': {
                if (at_end()) fail(start, kMissingBrace);
                const char op = src_[pos_];
                pos_ += utf8::decode(src_, pos_).width;
                const std::string_view mods = src_.substr(mod_at, pos_ - mod_at);
                if (op == '#' || op == '%') {
                    fail(mod_at, fmt::format("unsupported modifier ({}) in substitution", mods));
                }
                modifier(out, start, mod_at, name, op, mods, true);
                return;
            }
            case '+':
            case '-':
            case '?':
            case '#':
            case '%':
                modifier(out, start, mod_at, name, mod, src_.substr(mod_at, 1), false);
                return;
            case '/':
                substitute(out, start, name);
                return;
            default:
                fail(mod_at, fmt::format("unsupported modifier ({}) in substitution",
                                         src_.substr(mod_at, pos_ - mod_at)));
        }
    }

    // ${name<mods>word} for the operators - + ? # % (mods: "-", ":-", ...).
    void modifier(std::string& out, size_t start, size_t mod_at, std::string_view name, char op,
                  std::string_view mods, bool null_is_unset) {
        std::string word = nested('}', op == '#' || op == '%', start, kMissingBrace);
        const auto value = lookup(name);
        if (!value && opts_.skip_unset_env) {
            out.append("${").append(name).append(mods).append(word).append("}");
            return;
        }
        const bool unset_or_null = !value || (null_is_unset && value->empty());
        switch (op) {
            case '-':
                out.append(unset_or_null ? std::string_view(word) : *value);
                return;
            case '+':
                if (!unset_or_null) out.append(word);
                return;
            case '?':
                if (!value) {
                    fail(start, fmt::format("{}: {}", name,
                                            word.empty() ? "is not allowed to be unset" : word));
                }
                if (unset_or_null) {
                    fail(start, fmt::format("{}: {}", name,
                                            word.empty() ? "is not allowed to be empty" : word));
                }
                out.append(*value);
                return;
            case '#':
            case '%': {
                // `#`/`%` remove the shortest match, `##`/`%%` the longest.
                const bool longest = !word.empty() && word[0] == op;
                const std::string_view pat = std::string_view(word).substr(longest ? 1 : 0);
                const shell_pattern::Pattern p = compile(pat, start);
                const std::string_view v = value.value_or(std::string_view());
                out.append(op == '#' ? p.trim_prefix(v, longest) : p.trim_suffix(v, longest));
                return;
            }
            default:
                fail(mod_at, fmt::format("unsupported modifier ({}) in substitution", mods));
        }
    }

    // ${name/pattern/replacement} and ${name//pattern/replacement}.
    void substitute(std::string& out, size_t start, std::string_view name) {
        const bool all = !at_end() && src_[pos_] == '/';
        if (all) ++pos_;
        const std::string pattern = nested('/', true, start, "syntax error: missing '/' in ${}");
        const std::string replacement = nested('}', true, start, kMissingBrace);
        const auto value = lookup(name);
        if (!value && opts_.skip_unset_env) {
            out.append("${").append(name).append(all ? "//" : "/").append(pattern);
            out.append("/").append(replacement).append("}");
            return;
        }
        const shell_pattern::Pattern p = compile(pattern, start);
        out.append(p.replace(value.value_or(std::string_view()), replacement, all));
    }

    shell_pattern::Pattern compile(std::string_view pattern, size_t start) const {
        try {
            return shell_pattern::Pattern::compile(pattern, opts_.bracket_patterns);
        } catch (const shell_pattern::PatternError& e) {
            fail(start, fmt::format("invalid pattern ({}) in substitution: {}", pattern, e.what));
        }
    }

    std::string_view src_;
    size_t pos_ = 0;
    const Env& env_;
    const ShellOptions& opts_;
    VarRefs& refs_;
    bool raw_escapes_;
    int depth_ = 0;
};

// True when `word` has nothing the lexer would change (plain text).
bool is_plain(std::string_view word, const ShellOptions& opts) {
    for (const char c : word) {
        if (c == '$' || c == opts.escape ||
            (!opts.skip_process_quotes && (c == '\'' || c == '"'))) {
            return false;
        }
    }
    return true;
}

void finish_refs(VarRefs& refs) {
    std::sort(refs.referenced.begin(), refs.referenced.end());
    std::sort(refs.unset.begin(), refs.unset.end());
}

// Go's %q for the input in messages; long inputs are cut (at a character
// boundary) so that one bad 1 MB word does not make a 1 MB message.
std::string quote(std::string_view s) {
    constexpr size_t kMaxQuoted = 256;
    size_t cut = 0;
    while (cut < s.size() && cut < kMaxQuoted)
        cut += utf8::decode(s, cut).width;
    std::string out = go::strconv::quote(s.substr(0, cut));
    if (cut < s.size()) out += "...";
    return out;
}

// Go's text/scanner, which BuildKit reads a word with, skips a byte order
// mark at the start of its input.
size_t bom_length(std::string_view word) {
    return word.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
}

}  // namespace

ShellError::ShellError(std::string_view input, size_t offset, std::string detail)
    : Error(ErrorKind::kParse, fmt::format("failed to process {}: {}", quote(input), detail)),
      offset_(offset),
      detail_(std::move(detail)) {}

ExpansionResult expand_word(std::string_view word, const Env& env, const ShellOptions& opts) {
    ExpansionResult result;
    const size_t skip = bom_length(word);
    const std::string_view text = word.substr(skip);
    if (is_plain(text, opts)) {
        result.word.assign(text);
        return result;
    }
    result.word.reserve(text.size());
    try {
        Lexer(text, env, opts, result).run(&result.word, nullptr);
    } catch (const Failure& f) {
        throw ShellError(word, skip + f.offset, f.detail);
    }
    finish_refs(result);
    return result;
}

WordsExpansionResult expand_words(std::string_view word, const Env& env, const ShellOptions& opts) {
    WordsExpansionResult result;
    WordSplitter splitter;
    const size_t skip = bom_length(word);
    const std::string_view text = word.substr(skip);
    if (is_plain(text, opts)) {
        splitter.add_split(text);
    } else {
        try {
            Lexer(text, env, opts, result).run(nullptr, &splitter);
        } catch (const Failure& f) {
            throw ShellError(word, skip + f.offset, f.detail);
        }
        finish_refs(result);
    }
    result.words = splitter.finish();
    return result;
}

}  // namespace strata::frontend
