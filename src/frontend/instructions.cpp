// build_ast(): parser-stage Nodes → typed instructions and stages. One small
// handler per instruction in a table, as BuildKit's instructions package
// does; messages follow BuildKit's wording where it has one, with locations.
#include "frontend/instructions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "base/go/strconv.hpp"
#include "base/go/strings.hpp"
#include "base/go/time.hpp"
#include "base/go/utf8.hpp"

namespace strata::frontend {
namespace {

enum class FlagKind { kString, kBool, kList };
struct FlagSpec {
    std::string_view name;
    FlagKind kind;
};

struct Spec {
    std::string_view name;
    std::vector<FlagSpec> flags;
};

const std::vector<Spec>& specs() {
    static const std::vector<Spec> table = {
        {"add",
         {{"chown", FlagKind::kString},
          {"chmod", FlagKind::kString},
          {"link", FlagKind::kBool},
          {"keep-git-dir", FlagKind::kBool},
          {"unpack", FlagKind::kBool},
          {"checksum", FlagKind::kString},
          {"exclude", FlagKind::kList}}},
        {"arg", {}},
        {"cmd", {}},
        {"copy",
         {{"chown", FlagKind::kString},
          {"chmod", FlagKind::kString},
          {"from", FlagKind::kString},
          {"link", FlagKind::kBool},
          {"parents", FlagKind::kBool},
          {"exclude", FlagKind::kList}}},
        {"entrypoint", {}},
        {"env", {}},
        {"expose", {}},
        {"from", {{"platform", FlagKind::kString}}},
        {"healthcheck",
         {{"interval", FlagKind::kString},
          {"timeout", FlagKind::kString},
          {"start-period", FlagKind::kString},
          {"start-interval", FlagKind::kString},
          {"retries", FlagKind::kString}}},
        {"label", {}},
        {"maintainer", {}},
        {"onbuild", {}},
        {"run",
         {{"mount", FlagKind::kList},
          {"network", FlagKind::kString},
          {"security", FlagKind::kString}}},
        {"shell", {}},
        {"stopsignal", {}},
        {"user", {}},
        {"volume", {}},
        {"workdir", {}},
    };
    return table;
}

const Spec* find_spec(std::string_view name) {
    for (const Spec& s : specs()) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Text as it can go into a message: quoted and escaped if it holds control
// characters or invalid UTF-8.
std::string printable(std::string_view s) {
    const std::string quoted = go::strconv::quote(s);
    return quoted.size() == s.size() + 2 ? std::string(s) : quoted;
}

size_t code_points(std::string_view s) {
    return go::utf8::rune_count(s);
}

// Builds one Instruction from a Node; errors are located in the node's line.
class InstructionBuilder {
  public:
    // Warnings about the instruction (an empty flag value) are added to
    // `warnings` when given.
    InstructionBuilder(const ParsedDockerfile& df, const Node& node,
                       std::vector<Diagnostic>* warnings = nullptr)
        : df_(df), node_(node), warnings_(warnings) {}

    Instruction build() {
        ins_.keyword = upper(node_.name);
        ins_.original = std::string(go::strings::trim_space(node_.line.text));
        ins_.range = node_.range;
        ins_.args = node_.args;
        ins_.json = node_.json;
        ins_.heredocs = node_.heredocs;
        spec_ = find_spec(node_.name);
        if (spec_ == nullptr) unknown_instruction();
        parse_flags();
        ins_.command = typed();
        return std::move(ins_);
    }

  private:
    Diagnostic diagnostic_at(size_t offset, size_t length, std::string message,
                             std::string hint) const {
        Diagnostic d;
        d.file = df_.file;
        d.pos = node_.line.pos_at(offset);
        const std::string_view text = node_.line.text;
        d.length = offset < text.size() ? code_points(text.substr(offset, length)) : 1;
        d.message = std::move(message);
        d.hint = std::move(hint);
        d.line_text = df_.line_text(d.pos.line);
        return d;
    }
    [[noreturn]] void fail_at(size_t offset, size_t length, std::string message,
                              std::string hint = {}) const {
        throw ParseError(diagnostic_at(offset, length, std::move(message), std::move(hint)));
    }
    void warn_at(size_t offset, size_t length, std::string message, std::string hint) const {
        if (warnings_ == nullptr) return;
        Diagnostic d = diagnostic_at(offset, length, std::move(message), std::move(hint));
        d.severity = Severity::kWarning;
        warnings_->push_back(std::move(d));
    }
    size_t keyword_offset() const {
        const std::string_view text = node_.line.text;
        const size_t at = text.find(node_.keyword);
        return at == std::string_view::npos ? 0 : at;
    }
    [[noreturn]] void fail_keyword(std::string message, std::string hint = {}) const {
        fail_at(keyword_offset(), node_.keyword.size(), std::move(message), std::move(hint));
    }
    [[noreturn]] void fail_args(std::string message, std::string hint = {}) const {
        const size_t len = node_.line.text.size() > node_.args_offset
                               ? node_.line.text.size() - node_.args_offset
                               : 0;
        if (len == 0) fail_keyword(std::move(message), std::move(hint));
        fail_at(node_.args_offset, len, std::move(message), std::move(hint));
    }
    // Locates an argument by its text in the argument part of the line.
    [[noreturn]] void fail_arg(const std::string& arg, std::string message,
                               std::string hint = {}) const {
        const size_t at = node_.line.text.find(arg, node_.args_offset);
        if (arg.empty() || at == std::string::npos) fail_args(std::move(message), std::move(hint));
        fail_at(at, arg.size(), std::move(message), std::move(hint));
    }

    [[noreturn]] void unknown_instruction() const {
        std::vector<std::string> names;
        for (const Spec& s : specs())
            names.push_back(upper(s.name));
        const std::string best = suggest(node_.keyword, names);
        fail_keyword(fmt::format("unknown instruction: {}", printable(node_.keyword)),
                     best.empty() ? "see the Dockerfile reference for the list of instructions"
                                  : fmt::format("did you mean {}?", best));
    }

    void parse_flags() {
        std::map<std::string, size_t> seen;
        for (const FlagWord& word : node_.flags) {
            std::string_view text = word.text;
            text.remove_prefix(2);  // "--"
            Flag flag;
            const size_t eq = text.find('=');
            flag.name = std::string(text.substr(0, eq));
            if (eq != std::string_view::npos) {
                flag.value = std::string(text.substr(eq + 1));
                flag.has_value = true;
            }
            flag.pos = node_.line.pos_at(word.offset);
            flag.offset = word.offset;
            flag.length = word.length;
            const FlagSpec* fs = nullptr;
            for (const FlagSpec& f : spec_->flags) {
                if (f.name == flag.name) fs = &f;
            }
            if (fs == nullptr) {
                std::vector<std::string> names;
                for (const FlagSpec& f : spec_->flags)
                    names.push_back("--" + std::string(f.name));
                const std::string best = suggest("--" + flag.name, names);
                std::string hint;
                if (!best.empty()) {
                    hint = fmt::format("did you mean {}?", best);
                } else if (names.empty()) {
                    hint = fmt::format("{} takes no flags", ins_.keyword);
                } else {
                    hint = fmt::format("{} accepts {}", ins_.keyword, fmt::join(names, ", "));
                }
                fail_at(word.offset, word.length, fmt::format("unknown flag: --{}", flag.name),
                        hint);
            }
            if (fs->kind != FlagKind::kList && seen.count(flag.name) != 0) {
                fail_at(word.offset, word.length,
                        fmt::format("duplicate flag specified: --{}", flag.name));
            }
            seen[flag.name] = word.offset;
            if (fs->kind == FlagKind::kBool) {
                if (flag.has_value && flag.value != "true" && flag.value != "false") {
                    fail_at(word.offset, word.length,
                            fmt::format("expecting boolean value for flag --{}, not: {}", flag.name,
                                        flag.value));
                }
            } else if (!flag.has_value || (flag.value.empty() && fs->kind == FlagKind::kList)) {
                fail_at(word.offset, word.length,
                        fmt::format("missing a value on flag: --{}", flag.name),
                        fmt::format("write --{}=VALUE", flag.name));
            } else if (flag.value.empty()) {
                // BuildKit takes `--chown=` as no --chown at all; so does
                // strata, and says so.
                warn_at(word.offset, word.length,
                        fmt::format("empty value on flag --{}: the flag is ignored", flag.name),
                        fmt::format("write --{}=VALUE or leave the flag out", flag.name));
            }
            ins_.flags.push_back(std::move(flag));
        }
    }

    const Flag* find_flag(std::string_view name) const {
        for (const Flag& f : ins_.flags) {
            if (f.name == name) return &f;
        }
        return nullptr;
    }
    [[noreturn]] void fail_flag(std::string_view name, std::string message,
                                std::string hint = {}) const {
        const Flag* f = find_flag(name);
        if (f == nullptr) fail_args(std::move(message), std::move(hint));
        fail_at(f->offset, f->length, std::move(message), std::move(hint));
    }
    std::string flag(std::string_view name) const {
        for (const Flag& f : ins_.flags) {
            if (f.name == name) return f.value;
        }
        return {};
    }
    bool bool_flag(std::string_view name) const {
        for (const Flag& f : ins_.flags) {
            if (f.name == name) return !f.has_value || f.value == "true";
        }
        return false;
    }
    std::vector<std::string> list_flag(std::string_view name) const {
        std::vector<std::string> out;
        for (const Flag& f : ins_.flags) {
            if (f.name == name) out.push_back(f.value);
        }
        return out;
    }

    void at_least_one() const {
        if (ins_.args.empty()) {
            fail_keyword(fmt::format("{} requires at least one argument", ins_.keyword));
        }
    }
    void exactly_one() const {
        if (ins_.args.size() != 1) {
            fail_args(fmt::format("{} requires exactly one argument", ins_.keyword),
                      ins_.args.size() > 1 ? "quote the value if it contains spaces" : "");
        }
    }
    CommandLine command_line() const {
        CommandLine c;
        c.args = ins_.args;
        c.shell_form = !ins_.json;
        return c;
    }
    std::vector<KeyValue> key_values() const {
        at_least_one();
        std::vector<KeyValue> out;
        for (size_t i = 0; i + 2 < ins_.args.size(); i += 3) {
            if (ins_.args[i].empty()) {
                fail_args(fmt::format("{} names can not be blank", ins_.keyword));
            }
            out.push_back({ins_.args[i], ins_.args[i + 1]});
        }
        return out;
    }

    Command typed() {
        const std::string& n = node_.name;
        if (n == "from") return from();
        if (n == "run") {
            if (ins_.args.empty() && ins_.heredocs.empty()) at_least_one();
            return RunCmd{command_line(), list_flag("mount"), flag("network"), flag("security")};
        }
        if (n == "cmd") return CmdCmd{command_line()};
        if (n == "entrypoint") return EntrypointCmd{command_line()};
        if (n == "copy" || n == "add") return copy(n == "add");
        if (n == "env") return EnvCmd{key_values()};
        if (n == "label") return LabelCmd{key_values()};
        if (n == "arg") return arg();
        if (n == "expose") {
            at_least_one();
            return ExposeCmd{ins_.args};
        }
        if (n == "volume") {
            at_least_one();
            for (const std::string& v : ins_.args) {
                if (go::strings::trim_space(v).empty())
                    fail_args("VOLUME specified can not be an empty string");
            }
            return VolumeCmd{ins_.args};
        }
        if (n == "user") {
            exactly_one();
            return UserCmd{ins_.args[0]};
        }
        if (n == "workdir") {
            exactly_one();
            return WorkdirCmd{ins_.args[0]};
        }
        if (n == "stopsignal") {
            exactly_one();
            return StopSignalCmd{ins_.args[0]};
        }
        if (n == "maintainer") {
            exactly_one();
            return MaintainerCmd{ins_.args[0]};
        }
        if (n == "shell") {
            if (!ins_.json) {
                fail_args("SHELL requires the arguments to be in JSON form",
                          "write SHELL [\"/bin/sh\", \"-c\"]");
            }
            at_least_one();
            return ShellCmd{ins_.args};
        }
        if (n == "healthcheck") return healthcheck();
        return onbuild();
    }

    FromCmd from() {
        const auto& a = ins_.args;
        FromCmd f;
        if (a.size() == 3 && to_lower_ascii(a[1]) == "as") {
            f.stage_name = to_lower_ascii(a[2]);
            bool ok = !f.stage_name.empty() && f.stage_name[0] >= 'a' && f.stage_name[0] <= 'z';
            for (char c : f.stage_name) {
                ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.');
            }
            if (!ok) {
                fail_arg(a[2],
                         fmt::format("invalid name for build stage: \"{}\", name can't start with "
                                     "a number or contain symbols",
                                     a[2]));
            }
        } else if (a.size() != 1) {
            fail_args("FROM requires either one or three arguments",
                      a.empty() ? "write FROM IMAGE or FROM IMAGE AS NAME"
                                : "write FROM IMAGE [AS NAME]");
        }
        f.image = a[0];
        f.platform = flag("platform");
        return f;
    }

    CopyCmd copy(bool is_add) {
        CopyCmd c;
        c.is_add = is_add;
        if (ins_.args.size() < 2) {
            fail_args(fmt::format("{} requires at least two arguments, but only {} provided. "
                                  "Destination could not be determined.",
                                  ins_.keyword, ins_.args.empty() ? "none was" : "one was"),
                      fmt::format("write {} SOURCE... DESTINATION", ins_.keyword));
        }
        c.dest = ins_.args.back();
        if (c.dest.rfind("<<", 0) == 0 && !heredocs_opened_by("RUN " + c.dest, U'\\').empty()) {
            fail_arg(c.dest,
                     fmt::format("{} cannot have a heredoc as a destination", ins_.keyword));
        }
        for (size_t i = 0; i + 1 < ins_.args.size(); ++i) {
            const std::string& src = ins_.args[i];
            const auto specs = heredocs_opened_by("RUN " + src, U'\\');
            if (!specs.empty() && !ins_.json) {
                const Heredoc* h = nullptr;
                for (const Heredoc& doc : ins_.heredocs) {
                    if (doc.spec.name == specs[0].name) h = &doc;
                }
                InlineSource inl;
                inl.name = specs[0].name;
                inl.expand = specs[0].expand;
                if (h != nullptr) {
                    inl.content = specs[0].chomp ? chomp_heredoc_content(h->content) : h->content;
                }
                c.inline_sources.push_back(std::move(inl));
            } else {
                c.sources.push_back(src);
            }
        }
        c.chown = flag("chown");
        c.chmod = flag("chmod");
        c.link = bool_flag("link");
        c.excludes = list_flag("exclude");
        if (is_add) {
            c.checksum = flag("checksum");
            c.keep_git_dir = bool_flag("keep-git-dir");
            for (const Flag& f : ins_.flags) {
                if (f.name == "unpack") c.unpack = !f.has_value || f.value == "true";
            }
        } else {
            c.from = flag("from");
            c.parents = bool_flag("parents");
        }
        return c;
    }

    ArgCmd arg() {
        at_least_one();
        ArgCmd a;
        for (const std::string& word : ins_.args) {
            ArgDef def;
            const size_t eq = word.find('=');
            def.name = word.substr(0, eq);
            if (eq != std::string::npos) def.default_value = word.substr(eq + 1);
            if (def.name.empty()) fail_arg(word, "ARG names can not be blank");
            a.args.push_back(std::move(def));
        }
        return a;
    }

    HealthcheckCmd healthcheck() {
        at_least_one();
        HealthcheckCmd h;
        const std::string type = upper(ins_.args[0]);
        if (type == "NONE") {
            if (ins_.args.size() != 1) fail_args("HEALTHCHECK NONE takes no arguments");
            if (!ins_.flags.empty()) {
                fail_flag(ins_.flags[0].name, "HEALTHCHECK NONE takes no flags");
            }
            h.none = true;
            h.test = {"NONE"};
            return h;
        }
        if (type != "CMD") {
            fail_arg(ins_.args[0],
                     fmt::format("Unknown type \"{}\" in HEALTHCHECK (try CMD)", ins_.args[0]),
                     "write HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE");
        }
        if (ins_.args.size() < 2) fail_args("Missing command after HEALTHCHECK CMD");
        h.test.push_back(ins_.json ? "CMD" : "CMD-SHELL");
        h.test.insert(h.test.end(), ins_.args.begin() + 1, ins_.args.end());
        auto duration = [&](std::string_view name) -> int64_t {
            const std::string v = flag(name);
            if (v.empty()) return 0;
            const auto d = go::time::parse_duration(v);
            if (!d || *d < 0) {
                fail_flag(name, fmt::format("invalid duration \"{}\" for --{}", v, name),
                          "use a duration such as 30s, 1m30s or 500ms");
            }
            if (*d != 0 && *d < 1'000'000) {  // Docker's minimum: 1ms
                fail_flag(name, fmt::format("Interval \"{}\" cannot be less than 1ms", name));
            }
            return *d;
        };
        h.interval_ns = duration("interval");
        h.timeout_ns = duration("timeout");
        h.start_period_ns = duration("start-period");
        h.start_interval_ns = duration("start-interval");
        const std::string retries = flag("retries");
        if (!retries.empty()) {
            try {
                size_t used = 0;
                const long long r = std::stoll(retries, &used);
                if (used != retries.size()) throw std::invalid_argument("trailing");
                if (r < 0)
                    fail_flag("retries", fmt::format("--retries cannot be negative ({})", r));
                if (r > INT32_MAX) throw std::out_of_range("retries");
                h.retries = static_cast<int>(r);
            } catch (const std::logic_error&) {
                fail_flag("retries", fmt::format("invalid value \"{}\" for --retries", retries),
                          "use a whole number");
            }
        }
        return h;
    }

    OnbuildCmd onbuild() {
        if (!node_.trigger) fail_keyword("ONBUILD requires at least one argument");
        const std::string trigger = upper(node_.trigger->name);
        if (trigger == "ONBUILD") {
            fail_args("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        }
        if (trigger == "MAINTAINER" || trigger == "FROM") {
            fail_args(fmt::format("{} isn't allowed as an ONBUILD trigger", trigger));
        }
        OnbuildCmd o;
        Node trigger_node;  // validate the trigger as an instruction of its own
        trigger_node.keyword = node_.trigger->keyword;
        trigger_node.name = node_.trigger->name;
        trigger_node.flags = node_.trigger->flags;
        trigger_node.args = node_.trigger->args;
        trigger_node.json = node_.trigger->json;
        trigger_node.heredocs = node_.trigger->heredocs;
        trigger_node.line = node_.line;
        trigger_node.args_offset = node_.trigger->args_offset;
        trigger_node.range = node_.range;
        o.trigger =
            std::make_shared<Instruction>(InstructionBuilder(df_, trigger_node, warnings_).build());
        o.expression = std::string(go::strings::trim_space(
            std::string_view(node_.line.text)
                .substr(std::min(node_.args_offset, node_.line.text.size()))));
        for (const Heredoc& h : node_.heredocs)
            o.expression += "\n" + h.content + h.spec.name;
        return o;
    }

    const ParsedDockerfile& df_;
    const Node& node_;
    std::vector<Diagnostic>* warnings_ = nullptr;
    const Spec* spec_ = nullptr;
    Instruction ins_;
};

}  // namespace

std::string with_suggestion(std::string message, std::string_view value,
                            const std::vector<std::string>& options) {
    std::string match;
    size_t best = 3;
    for (const std::string& opt : options) {
        if (opt == value) return message;  // the value is fine: the error is about something else
        std::vector<size_t> prev(opt.size() + 1), cur(opt.size() + 1);
        for (size_t j = 0; j <= opt.size(); ++j)
            prev[j] = j;
        for (size_t i = 1; i <= value.size(); ++i) {
            cur[0] = i;
            for (size_t j = 1; j <= opt.size(); ++j) {
                cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1,
                                   prev[j - 1] + (value[i - 1] == opt[j - 1] ? 0 : 1)});
            }
            std::swap(prev, cur);
        }
        if (prev[opt.size()] < best) {
            best = prev[opt.size()];
            match = opt;
        }
    }
    if (match.empty()) return message;
    return message + " (did you mean " + match + "?)";
}

std::string suggest(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string w = to_lower_ascii(word);
    std::string best;
    size_t best_distance = 3;  // only suggest close matches
    for (const std::string& c : candidates) {
        const std::string lc = to_lower_ascii(c);
        std::vector<size_t> prev(lc.size() + 1), cur(lc.size() + 1);
        for (size_t j = 0; j <= lc.size(); ++j)
            prev[j] = j;
        for (size_t i = 1; i <= w.size(); ++i) {
            cur[0] = i;
            for (size_t j = 1; j <= lc.size(); ++j) {
                cur[j] = std::min(
                    {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (w[i - 1] == lc[j - 1] ? 0 : 1)});
            }
            std::swap(prev, cur);
        }
        const size_t d = prev[lc.size()];
        if (d < best_distance && d < std::max<size_t>(lc.size(), 2)) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

Dockerfile build_ast(const ParsedDockerfile& parsed) {
    Dockerfile df;
    df.file = parsed.file;
    df.escape = parsed.escape;
    df.directives = parsed.directives;
    df.warnings = parsed.warnings;
    for (const Node& node : parsed.nodes) {
        Instruction ins = InstructionBuilder(parsed, node, &df.warnings).build();
        if (auto* from = std::get_if<FromCmd>(&ins.command)) {
            for (const Stage& s : df.stages) {
                if (!from->stage_name.empty() && s.name == from->stage_name) {
                    Diagnostic d;
                    d.file = parsed.file;
                    const size_t at = node.line.text.rfind(node.args.back());
                    d.pos = node.line.pos_at(at == std::string::npos ? 0 : at);
                    d.length = node.args.back().size();
                    d.message = fmt::format("duplicate stage name \"{}\"", from->stage_name);
                    d.hint = fmt::format("the first stage named \"{}\" starts on line {}", s.name,
                                         s.range.start.line);
                    d.line_text = parsed.line_text(d.pos.line);
                    throw ParseError(std::move(d));
                }
            }
            Stage stage;
            stage.index = df.stages.size();
            stage.name = from->stage_name;
            stage.base = from->image;
            stage.platform = from->platform;
            stage.range = ins.range;
            stage.from = std::move(ins);
            df.stages.push_back(std::move(stage));
            continue;
        }
        if (df.stages.empty()) {
            if (std::holds_alternative<ArgCmd>(ins.command)) {
                df.global_args.push_back(std::move(ins));
                continue;
            }
            Diagnostic d;
            d.file = parsed.file;
            d.pos = ins.range.start;
            d.length = node.keyword.size();
            d.message = "no build stage in current context";  // BuildKit's words
            d.hint = fmt::format(
                "only ARG may come before the first FROM; start a stage with FROM IMAGE (or "
                "FROM scratch) before this {}",
                ins.keyword);
            d.line_text = parsed.line_text(d.pos.line);
            throw ParseError(std::move(d));
        }
        df.stages.back().instructions.push_back(std::move(ins));
        if (df.stages.back().range.end.line < node.range.end.line) {
            df.stages.back().range.end = node.range.end;
        }
    }
    if (df.stages.empty()) {
        Diagnostic d;
        d.file = parsed.file;
        d.message = "dockerfile contains no stages to build";  // BuildKit's words
        d.hint = "add FROM IMAGE (or FROM scratch): a Dockerfile needs at least one build stage";
        throw ParseError(std::move(d));
    }
    return df;
}

bool OnbuildCmd::operator==(const OnbuildCmd& o) const {
    if (expression != o.expression || !trigger != !o.trigger) return false;
    return !trigger || *trigger == *o.trigger;
}

Dockerfile load_dockerfile(std::string bytes, std::string file_name) {
    return build_ast(parse_dockerfile(std::move(bytes), std::move(file_name)));
}

}  // namespace strata::frontend
