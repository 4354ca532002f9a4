#include "frontend/heredoc.hpp"

#include "frontend/line_parsers.hpp"

namespace strata::frontend {
namespace {

struct RawWord {
    std::string text;
    size_t offset;
};

// Splits on unquoted white space, keeping quotes and backslash escapes in the
// words (BuildKit runs its shell lexer with raw quotes and raw escapes here,
// always with `\` as the escape character).
std::vector<RawWord> split_raw_words(std::string_view line) {
    std::vector<RawWord> words;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space_ascii(line[i]))
            ++i;
        if (i == line.size()) break;
        const size_t start = i;
        char quote = 0;
        while (i < line.size()) {
            const char c = line[i];
            if (quote == 0 && is_space_ascii(c)) break;
            if (c == '\\' && quote != '\'' && i + 1 < line.size()) {
                i += 2;
                continue;
            }
            if (quote == 0 && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == quote) {
                quote = 0;
            }
            ++i;
        }
        words.push_back({std::string(line.substr(start, i - start)), start});
    }
    return words;
}

// Removes quotes and escapes from a heredoc name the way the shell lexer does
// without raw quotes. Returns false if the name is not a single word.
bool unquote_name(std::string_view raw, std::string& out) {
    char quote = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (quote == 0) {
            if (is_space_ascii(c)) return false;
            if (c == '\'' || c == '"') {
                quote = c;
                continue;
            }
            if (c == '\\' && i + 1 < raw.size()) {
                out.push_back(raw[++i]);
                continue;
            }
            out.push_back(c);
        } else if (c == quote) {
            quote = 0;
        } else if (quote == '"' && c == '\\' && i + 1 < raw.size() &&
                   (raw[i + 1] == '"' || raw[i + 1] == '\\' || raw[i + 1] == '$')) {
            out.push_back(raw[++i]);
        } else {
            out.push_back(c);
        }
    }
    return !out.empty();
}

size_t count_quotes(std::string_view s) {
    size_t n = 0;
    for (char c : s)
        n += (c == '\'' || c == '"');
    return n;
}

bool opens_heredocs(std::string_view line) {
    CommandSplit split = split_command(line);
    std::string keyword = to_lower_ascii(split.keyword);
    if (keyword == "onbuild") {
        split = split_command(split.args);
        keyword = to_lower_ascii(split.keyword);
    }
    if (keyword != "run" && keyword != "copy" && keyword != "add") return false;
    try {
        // Exec form never has heredocs.
        return !parse_args(arg_syntax_of(keyword), split.args, keyword, U'\\').json;
    } catch (const ArgsError&) {
        return false;  // the real parse reports it
    }
}

}  // namespace

std::vector<HeredocSpec> heredocs_opened_by(std::string_view logical_line, char32_t) {
    std::vector<HeredocSpec> specs;
    if (logical_line.find("<<") == std::string_view::npos || !opens_heredocs(logical_line)) {
        return specs;
    }
    for (const RawWord& word : split_raw_words(logical_line)) {
        // [fd]<<[-]NAME
        std::string_view w = word.text;
        size_t i = 0;
        while (i < w.size() && w[i] >= '0' && w[i] <= '9')
            ++i;
        if (w.substr(i, 2) != "<<") continue;
        const std::string_view digits = w.substr(0, i);
        i += 2;
        HeredocSpec spec;
        if (i < w.size() && w[i] == '-') {
            spec.chomp = true;
            ++i;
        }
        const std::string_view rest = w.substr(i);
        if (rest.empty() || rest.find('<') != std::string_view::npos) continue;
        if (!unquote_name(rest, spec.name)) continue;
        spec.expand = count_quotes(spec.name) == count_quotes(rest);
        unsigned fd = 0;
        for (char c : digits)
            fd = fd * 10 + static_cast<unsigned>(c - '0');
        spec.fd = digits.size() > 9 ? 0 : fd;
        spec.offset = word.offset;
        spec.length = word.text.size();
        specs.push_back(std::move(spec));
    }
    return specs;
}

std::string chomp_heredoc_content(std::string_view content) {
    std::string out;
    out.reserve(content.size());
    bool line_start = true;
    for (char c : content) {
        if (line_start && c == '\t') continue;
        line_start = (c == '\n');
        out.push_back(c);
    }
    return out;
}

}  // namespace strata::frontend
