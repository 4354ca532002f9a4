#include "frontend/line_parsers.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

#include "base/go/strings.hpp"
#include "base/go/unicode.hpp"
#include "base/go/utf8.hpp"

namespace strata::frontend {
namespace {

namespace utf8 = go::utf8;
using go::unicode::is_space;

// BuildKit's reWhitespace: [\t\v\f\r ]+
bool is_token_space(char c) {
    return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

std::vector<std::string> split_whitespace(std::string_view rest) {
    std::vector<std::string> out;
    size_t i = 0;
    while (true) {
        size_t j = i;
        while (j < rest.size() && !is_token_space(rest[j]))
            ++j;
        out.emplace_back(rest.substr(i, j - i));
        if (j == rest.size()) break;
        while (j < rest.size() && is_token_space(rest[j]))
            ++j;
        i = j;
    }
    return out;
}

constexpr const char* kNotStringArray =
    "when using JSON array syntax, arrays must be comprised of strings only";

ParsedArgs parse_maybe_json(std::string_view rest) {
    if (rest.empty()) return {};
    if (auto arr = parse_json_string_array(rest)) return {std::move(*arr), true};
    return {{std::string(rest)}, false};
}

ParsedArgs parse_maybe_json_to_list(std::string_view rest) {
    if (auto arr = parse_json_string_array(rest)) return {std::move(*arr), true};
    if (rest.empty()) return {};
    return {split_whitespace(rest), false};
}

ParsedArgs parse_name_val(std::string_view rest, std::string_view keyword, char32_t escape) {
    const std::vector<std::string> words = parse_words(rest, escape);
    if (words.empty()) return {};
    ParsedArgs out;
    if (words[0].find('=') == std::string::npos) {
        // Legacy form: KEY name value
        size_t i = 0;
        while (i < rest.size() && !is_token_space(rest[i]))
            ++i;
        size_t j = i;
        while (j < rest.size() && is_token_space(rest[j]))
            ++j;
        if (i == rest.size()) {
            throw ArgsError{fmt::format("{} must have two arguments",
                                        to_lower_ascii(keyword) == "env" ? "ENV" : "LABEL"),
                            0, rest.size()};
        }
        out.args = {std::string(rest.substr(0, i)), std::string(rest.substr(j)), ""};
        return out;
    }
    for (const std::string& word : words) {
        const size_t eq = word.find('=');
        if (eq == std::string::npos) {
            const size_t at = rest.find(word);
            throw ArgsError{fmt::format("Syntax error - can't find = in \"{}\". Must be of the "
                                        "form: name=value",
                                        word),
                            at == std::string_view::npos ? 0 : at, word.size()};
        }
        out.args.push_back(word.substr(0, eq));
        out.args.push_back(word.substr(eq + 1));
        out.args.emplace_back("=");
    }
    return out;
}

ParsedArgs parse_healthcheck(std::string_view rest) {
    size_t sep = 0;
    while (sep < rest.size() && !is_space_ascii(rest[sep]))
        ++sep;
    if (sep == 0) return {};
    size_t next = sep;
    while (next < rest.size() && is_space_ascii(rest[next]))
        ++next;
    ParsedArgs cmd = parse_maybe_json(rest.substr(next));
    ParsedArgs out;
    out.args.emplace_back(rest.substr(0, sep));
    for (auto& a : cmd.args)
        out.args.push_back(std::move(a));
    out.json = cmd.json;
    return out;
}

}  // namespace

bool is_space_ascii(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

std::string to_lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

CommandSplit split_command(std::string_view line) {
    CommandSplit out;
    const std::string_view trimmed = go::strings::trim_space(line);
    const size_t base = static_cast<size_t>(trimmed.data() - line.data());
    size_t i = 0;
    while (i < trimmed.size() && !is_token_space(trimmed[i]))
        ++i;
    out.keyword = std::string(trimmed.substr(0, i));
    while (i < trimmed.size() && is_token_space(trimmed[i]))
        ++i;
    const std::string_view rest = trimmed.substr(i);
    const size_t rest_base = base + i;

    // Flags: words starting with `--` before the arguments, up to an optional
    // `--` that ends them. Quotes group, backslash escapes (always `\` here).
    size_t pos = 0;
    size_t remaining = rest.size();
    while (true) {
        while (pos < rest.size() && is_space_ascii(rest[pos]))
            ++pos;
        if (pos == rest.size()) {
            remaining = pos;
            break;
        }
        if (rest[pos] != '-' || pos + 1 == rest.size() || rest[pos + 1] != '-') {
            remaining = pos;
            break;
        }
        const size_t start = pos;
        std::string word;
        bool blank_ok = false;
        char quote = 0;
        while (pos < rest.size()) {
            char ch = rest[pos];
            if (quote != 0) {
                if (ch == quote) {
                    quote = 0;
                    ++pos;
                    continue;
                }
            } else {
                if (is_space_ascii(ch)) break;
                if (ch == '\'' || ch == '"') {
                    quote = ch;
                    blank_ok = true;
                    ++pos;
                    continue;
                }
            }
            if (ch == '\\') {
                if (pos + 1 == rest.size()) {
                    ++pos;
                    continue;
                }
                ch = rest[++pos];
            }
            word.push_back(ch);
            ++pos;
        }
        if (word == "--") {
            remaining = pos;
            break;
        }
        if (blank_ok || !word.empty()) {
            out.flags.push_back({std::move(word), rest_base + start, pos - start});
        }
        if (pos == rest.size()) {
            remaining = pos;
            break;
        }
    }
    const std::string_view args = go::strings::trim_space(rest.substr(remaining));
    out.args = std::string(args);
    out.args_offset = args.empty() ? line.size() : static_cast<size_t>(args.data() - line.data());
    return out;
}

std::vector<std::string> parse_words(std::string_view rest, char32_t escape) {
    enum Phase { kInSpaces, kInWord, kInQuote };
    std::vector<std::string> words;
    Phase phase = kInSpaces;
    char32_t quote = 0;
    bool blank_ok = false;
    std::string word;
    auto append = [&](size_t at, size_t width) { word.append(rest.substr(at, width)); };
    for (size_t pos = 0; pos <= rest.size();) {
        if (pos == rest.size()) {
            if (phase != kInSpaces && (blank_ok || !word.empty())) words.push_back(word);
            break;
        }
        utf8::Rune r = utf8::decode(rest, pos);
        if (phase == kInSpaces) {
            if (is_space(r.rune)) {
                pos += r.width;
                continue;
            }
            phase = kInWord;
        }
        if (phase == kInWord) {
            if (is_space(r.rune)) {
                phase = kInSpaces;
                if (blank_ok || !word.empty()) words.push_back(word);
                word.clear();
                blank_ok = false;
                pos += r.width;
                continue;
            }
            if (r.rune == '\'' || r.rune == '"') {
                quote = r.rune;
                blank_ok = true;
                phase = kInQuote;
            }
            if (r.rune == escape) {
                if (pos + r.width == rest.size()) {
                    pos += r.width;  // an escape at the very end is dropped
                    continue;
                }
                append(pos, r.width);
                pos += r.width;
                r = utf8::decode(rest, pos);
            }
            append(pos, r.width);
            pos += r.width;
            continue;
        }
        // kInQuote
        if (r.rune == quote) phase = kInWord;
        if (r.rune == escape && quote != '\'') {
            if (pos + r.width == rest.size()) {
                phase = kInWord;
                pos += r.width;
                continue;
            }
            append(pos, r.width);
            pos += r.width;
            r = utf8::decode(rest, pos);
        }
        append(pos, r.width);
        pos += r.width;
    }
    return words;
}

std::optional<std::vector<std::string>> parse_json_string_array(std::string_view text) {
    size_t b = 0;
    while (b < text.size()) {
        const utf8::Rune r = utf8::decode(text, b);
        if (!is_space(r.rune)) break;
        b += r.width;
    }
    text.remove_prefix(b);
    if (text.empty() || text.front() != '[') return std::nullopt;
    nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_array()) return std::nullopt;
    std::vector<std::string> out;
    out.reserve(doc.size());
    for (const auto& el : doc) {
        if (!el.is_string()) throw ArgsError{kNotStringArray, 0, text.size()};
        out.push_back(el.get<std::string>());
    }
    return out;
}

ArgSyntax arg_syntax_of(std::string_view k) {
    static const std::array<std::pair<std::string_view, ArgSyntax>, 18> table{{
        {"add", ArgSyntax::kMaybeJsonToList},
        {"arg", ArgSyntax::kNameOrNameVal},
        {"cmd", ArgSyntax::kMaybeJson},
        {"copy", ArgSyntax::kMaybeJsonToList},
        {"entrypoint", ArgSyntax::kMaybeJson},
        {"env", ArgSyntax::kNameVal},
        {"expose", ArgSyntax::kWhitespaceList},
        {"from", ArgSyntax::kWhitespaceList},
        {"healthcheck", ArgSyntax::kHealthcheck},
        {"label", ArgSyntax::kNameVal},
        {"maintainer", ArgSyntax::kString},
        {"onbuild", ArgSyntax::kSubCommand},
        {"run", ArgSyntax::kMaybeJson},
        {"shell", ArgSyntax::kMaybeJson},
        {"stopsignal", ArgSyntax::kString},
        {"user", ArgSyntax::kString},
        {"volume", ArgSyntax::kMaybeJsonToList},
        {"workdir", ArgSyntax::kString},
    }};
    for (const auto& [name, syntax] : table) {
        if (name == k) return syntax;
    }
    return ArgSyntax::kIgnore;
}

ParsedArgs parse_args(ArgSyntax syntax, std::string_view args, std::string_view keyword,
                      char32_t escape) {
    switch (syntax) {
        case ArgSyntax::kIgnore:
        case ArgSyntax::kSubCommand:
            return {};
        case ArgSyntax::kString:
            if (args.empty()) return {};
            return {{std::string(args)}, false};
        case ArgSyntax::kWhitespaceList:
            if (args.empty()) return {};
            return {split_whitespace(args), false};
        case ArgSyntax::kMaybeJson:
            return parse_maybe_json(args);
        case ArgSyntax::kMaybeJsonToList:
            return parse_maybe_json_to_list(args);
        case ArgSyntax::kNameVal:
            return parse_name_val(args, keyword, escape);
        case ArgSyntax::kNameOrNameVal:
            return {parse_words(args, escape), false};
        case ArgSyntax::kHealthcheck:
            return parse_healthcheck(args);
    }
    return {};
}

}  // namespace strata::frontend
