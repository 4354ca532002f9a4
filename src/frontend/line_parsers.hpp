// The per-instruction argument parsers of the Dockerfile language: how the
// text after an instruction keyword becomes its flags and arguments. These
// reproduce BuildKit's parser stage exactly (the conformance corpus in
// ../shared/conformance/buildkit-parser checks it), e.g. exec form only for a
// valid JSON array of strings with a fallback to the shell form, ENV/LABEL's
// two syntaxes, HEALTHCHECK's type word.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::frontend {

// A `--name[=value]` word before the arguments; offset/length locate the raw
// word in the logical line.
struct FlagWord {
    std::string text;  // quotes and backslash escapes processed, e.g. "--chown=a b"
    size_t offset = 0;
    size_t length = 0;
};

struct CommandSplit {
    std::string keyword;  // as written
    std::vector<FlagWord> flags;
    std::string args;  // the rest, trimmed
    size_t args_offset = 0;
};

// Splits a logical line into keyword, flags and the argument text.
CommandSplit split_command(std::string_view line);

// The result of an argument parser. `args` corresponds to BuildKit's Node.Next
// chain; for ONBUILD the trigger instruction is parsed separately.
struct ParsedArgs {
    std::vector<std::string> args;
    bool json = false;  // exec form
};

// Thrown for errors the parser stage reports (e.g. ENV without a value).
struct ArgsError {
    std::string message;
    size_t offset = 0;  // within the argument text
    size_t length = 0;
};

enum class ArgSyntax {
    kIgnore,           // unknown instruction: no arguments
    kString,           // the rest as one argument
    kWhitespaceList,   // FROM, EXPOSE
    kMaybeJson,        // RUN, CMD, ENTRYPOINT, SHELL
    kMaybeJsonToList,  // COPY, ADD, VOLUME
    kNameVal,          // ENV, LABEL
    kNameOrNameVal,    // ARG
    kHealthcheck,      // HEALTHCHECK
    kSubCommand,       // ONBUILD
};

// The argument syntax of a (lower-case) instruction keyword.
ArgSyntax arg_syntax_of(std::string_view lower_keyword);

// Parses `args` with `syntax`; throws ArgsError. kSubCommand is not handled
// here (the caller parses the trigger as a line of its own).
ParsedArgs parse_args(ArgSyntax syntax, std::string_view args, std::string_view keyword,
                      char32_t escape);

// BuildKit's parseWords: splits on white space outside quotes, keeping quotes
// and escapes in the words.
std::vector<std::string> parse_words(std::string_view rest, char32_t escape);

// Parses a JSON array of strings. nullopt if `text` is not a JSON array;
// throws ArgsError if it is an array with an element that is not a string.
std::optional<std::vector<std::string>> parse_json_string_array(std::string_view text);

std::string to_lower_ascii(std::string_view s);
bool is_space_ascii(char c);

}  // namespace strata::frontend
