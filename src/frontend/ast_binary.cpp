#include "frontend/ast_binary.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <type_traits>
#include <utility>

#include "base/error.hpp"

namespace strata::frontend {
namespace {

using Json = nlohmann::json;

// A new command, or a new field in one of these structs, must be encoded
// below: these catch the change where the layout is known (the sizes are
// libstdc++'s on x86_64; update them once the field is encoded).
static_assert(std::variant_size_v<Command> == 17, "encode and decode the new command");
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(Flag) == 96 && sizeof(CopyCmd) == 248 && sizeof(RunCmd) == 120 &&
                  sizeof(HealthcheckCmd) == 72 && sizeof(Instruction) == 416 &&
                  sizeof(Stage) == 560 && sizeof(Dockerfile) == 136 && sizeof(Heredoc) == 96 &&
                  sizeof(Diagnostic) == 152 && sizeof(DirectiveEntry) == 72,
              "a field was added to the AST: encode it in ast_binary.cpp");
#endif

// The format's own version: a change of layout makes old bytes fail to
// decode (a miss), never decode wrongly.
constexpr int kVersion = 1;

[[noreturn]] void bad(const char* what) {
    throw Error(ErrorKind::kParse, std::string("malformed encoded AST: ") + what);
}

// --- encode ------------------------------------------------------------------

Json pos(SourcePos p) {
    return Json::array({p.line, p.column});
}
Json range(const SourceRange& r) {
    return Json::array({r.start.line, r.start.column, r.end.line, r.end.column});
}
Json command_line(const CommandLine& c) {
    return Json::array({c.args, c.shell_form});
}
Json key_values(const std::vector<KeyValue>& kvs) {
    Json out = Json::array();
    for (const auto& kv : kvs)
        out.push_back(Json::array({kv.key, kv.value}));
    return out;
}

Json instruction(const Instruction& ins);

struct EncodeCommand {
    Json operator()(const FromCmd& c) const {
        return Json::array({c.image, c.stage_name, c.platform});
    }
    Json operator()(const RunCmd& c) const {
        return Json::array({command_line(c.command), c.mounts, c.network, c.security});
    }
    Json operator()(const CmdCmd& c) const { return Json::array({command_line(c.command)}); }
    Json operator()(const EntrypointCmd& c) const { return Json::array({command_line(c.command)}); }
    Json operator()(const CopyCmd& c) const {
        Json inl = Json::array();
        for (const auto& s : c.inline_sources)
            inl.push_back(Json::array({s.name, s.content, s.expand}));
        return Json::array({c.is_add, c.sources, inl, c.dest, c.from, c.chown, c.chmod, c.checksum,
                            c.link, c.parents, c.keep_git_dir, c.unpack ? Json(*c.unpack) : Json(),
                            c.excludes});
    }
    Json operator()(const EnvCmd& c) const { return Json::array({key_values(c.vars)}); }
    Json operator()(const LabelCmd& c) const { return Json::array({key_values(c.labels)}); }
    Json operator()(const ArgCmd& c) const {
        Json args = Json::array();
        for (const auto& a : c.args)
            args.push_back(
                Json::array({a.name, a.default_value ? Json(*a.default_value) : Json()}));
        return Json::array({args});
    }
    Json operator()(const ExposeCmd& c) const { return Json::array({c.ports}); }
    Json operator()(const VolumeCmd& c) const { return Json::array({c.paths}); }
    Json operator()(const UserCmd& c) const { return Json::array({c.user}); }
    Json operator()(const WorkdirCmd& c) const { return Json::array({c.path}); }
    Json operator()(const StopSignalCmd& c) const { return Json::array({c.signal}); }
    Json operator()(const ShellCmd& c) const { return Json::array({c.shell}); }
    Json operator()(const MaintainerCmd& c) const { return Json::array({c.name}); }
    Json operator()(const HealthcheckCmd& c) const {
        return Json::array({c.none, c.test, c.interval_ns, c.timeout_ns, c.start_period_ns,
                            c.start_interval_ns, c.retries});
    }
    Json operator()(const OnbuildCmd& c) const {
        return Json::array({c.expression, c.trigger ? instruction(*c.trigger) : Json()});
    }
};

Json instruction(const Instruction& ins) {
    Json flags = Json::array();
    for (const Flag& f : ins.flags)
        flags.push_back(
            Json::array({f.name, f.value, f.has_value, pos(f.pos), f.offset, f.length}));
    Json docs = Json::array();
    for (const Heredoc& h : ins.heredocs)
        docs.push_back(
            Json::array({h.spec.name, h.spec.fd, h.spec.chomp, h.spec.expand, h.spec.offset,
                         h.spec.length, h.content, h.terminated, h.first_line}));
    return Json::array({ins.keyword, ins.original, range(ins.range), flags, ins.args, ins.json,
                        docs, ins.command.index(), std::visit(EncodeCommand{}, ins.command)});
}

Json diagnostic(const Diagnostic& d) {
    return Json::array({static_cast<int>(d.severity), d.file, pos(d.pos), d.length, d.message,
                        d.hint, d.line_text});
}

// --- decode ------------------------------------------------------------------
// Every access is checked: a wrong type or a short array throws (nlohmann's
// exceptions become bad() in decode_ast).

const Json& at(const Json& a, size_t i) {
    if (!a.is_array() || i >= a.size()) bad("short array");
    return a[i];
}
template <typename T>
T get(const Json& a, size_t i) {
    return at(a, i).get<T>();
}
SourcePos to_pos(const Json& j) {
    return {get<uint32_t>(j, 0), get<uint32_t>(j, 1)};
}
SourceRange to_range(const Json& j) {
    return {{get<uint32_t>(j, 0), get<uint32_t>(j, 1)}, {get<uint32_t>(j, 2), get<uint32_t>(j, 3)}};
}
CommandLine to_command_line(const Json& j) {
    return {get<std::vector<std::string>>(j, 0), get<bool>(j, 1)};
}
std::vector<KeyValue> to_key_values(const Json& j) {
    std::vector<KeyValue> out;
    if (!j.is_array()) bad("key/value list");
    for (const Json& kv : j)
        out.push_back({get<std::string>(kv, 0), get<std::string>(kv, 1)});
    return out;
}
std::optional<std::string> optional_string(const Json& j) {
    if (j.is_null()) return std::nullopt;
    return j.get<std::string>();
}

Instruction to_instruction(const Json& j, int depth);

Command to_command(size_t index, const Json& c, int depth) {
    switch (index) {
        case 0:
            return FromCmd{get<std::string>(c, 0), get<std::string>(c, 1), get<std::string>(c, 2)};
        case 1:
            return RunCmd{to_command_line(at(c, 0)), get<std::vector<std::string>>(c, 1),
                          get<std::string>(c, 2), get<std::string>(c, 3)};
        case 2:
            return CmdCmd{to_command_line(at(c, 0))};
        case 3:
            return EntrypointCmd{to_command_line(at(c, 0))};
        case 4: {
            CopyCmd cp;
            cp.is_add = get<bool>(c, 0);
            cp.sources = get<std::vector<std::string>>(c, 1);
            if (!at(c, 2).is_array()) bad("inline sources");
            for (const Json& s : at(c, 2))
                cp.inline_sources.push_back(
                    {get<std::string>(s, 0), get<std::string>(s, 1), get<bool>(s, 2)});
            cp.dest = get<std::string>(c, 3);
            cp.from = get<std::string>(c, 4);
            cp.chown = get<std::string>(c, 5);
            cp.chmod = get<std::string>(c, 6);
            cp.checksum = get<std::string>(c, 7);
            cp.link = get<bool>(c, 8);
            cp.parents = get<bool>(c, 9);
            cp.keep_git_dir = get<bool>(c, 10);
            if (!at(c, 11).is_null()) cp.unpack = at(c, 11).get<bool>();
            cp.excludes = get<std::vector<std::string>>(c, 12);
            return cp;
        }
        case 5:
            return EnvCmd{to_key_values(at(c, 0))};
        case 6:
            return LabelCmd{to_key_values(at(c, 0))};
        case 7: {
            ArgCmd a;
            if (!at(c, 0).is_array()) bad("ARG list");
            for (const Json& d : at(c, 0))
                a.args.push_back({get<std::string>(d, 0), optional_string(at(d, 1))});
            return a;
        }
        case 8:
            return ExposeCmd{get<std::vector<std::string>>(c, 0)};
        case 9:
            return VolumeCmd{get<std::vector<std::string>>(c, 0)};
        case 10:
            return UserCmd{get<std::string>(c, 0)};
        case 11:
            return WorkdirCmd{get<std::string>(c, 0)};
        case 12:
            return StopSignalCmd{get<std::string>(c, 0)};
        case 13:
            return ShellCmd{get<std::vector<std::string>>(c, 0)};
        case 14:
            return MaintainerCmd{get<std::string>(c, 0)};
        case 15:
            return HealthcheckCmd{get<bool>(c, 0),    get<std::vector<std::string>>(c, 1),
                                  get<int64_t>(c, 2), get<int64_t>(c, 3),
                                  get<int64_t>(c, 4), get<int64_t>(c, 5),
                                  get<int>(c, 6)};
        case 16: {
            OnbuildCmd o;
            o.expression = get<std::string>(c, 0);
            if (!at(c, 1).is_null()) {
                // BuildKit refuses ONBUILD ONBUILD: one level is all there is.
                if (depth > 0) bad("nested trigger");
                o.trigger =
                    std::make_shared<const Instruction>(to_instruction(at(c, 1), depth + 1));
            }
            return o;
        }
        default:
            bad("unknown instruction kind");
    }
}

Instruction to_instruction(const Json& j, int depth) {
    Instruction ins;
    ins.keyword = get<std::string>(j, 0);
    ins.original = get<std::string>(j, 1);
    ins.range = to_range(at(j, 2));
    if (!at(j, 3).is_array()) bad("flags");
    for (const Json& f : at(j, 3))
        ins.flags.push_back({get<std::string>(f, 0), get<std::string>(f, 1), get<bool>(f, 2),
                             to_pos(at(f, 3)), get<size_t>(f, 4), get<size_t>(f, 5)});
    ins.args = get<std::vector<std::string>>(j, 4);
    ins.json = get<bool>(j, 5);
    if (!at(j, 6).is_array()) bad("heredocs");
    for (const Json& h : at(j, 6)) {
        Heredoc d;
        d.spec = {get<std::string>(h, 0), get<unsigned>(h, 1), get<bool>(h, 2),
                  get<bool>(h, 3),        get<size_t>(h, 4),   get<size_t>(h, 5)};
        d.content = get<std::string>(h, 6);
        d.terminated = get<bool>(h, 7);
        d.first_line = get<uint32_t>(h, 8);
        ins.heredocs.push_back(std::move(d));
    }
    ins.command = to_command(get<size_t>(j, 7), at(j, 8), depth);
    return ins;
}

Diagnostic to_diagnostic(const Json& j) {
    Diagnostic d;
    const int severity = get<int>(j, 0);
    if (severity != static_cast<int>(Severity::kError) &&
        severity != static_cast<int>(Severity::kWarning))
        bad("severity");
    d.severity = static_cast<Severity>(severity);
    d.file = get<std::string>(j, 1);
    d.pos = to_pos(at(j, 2));
    d.length = get<size_t>(j, 3);
    d.message = get<std::string>(j, 4);
    d.hint = get<std::string>(j, 5);
    d.line_text = get<std::string>(j, 6);
    return d;
}

std::vector<Instruction> to_instructions(const Json& j) {
    if (!j.is_array()) bad("instruction list");
    std::vector<Instruction> out;
    for (const Json& i : j)
        out.push_back(to_instruction(i, 0));
    return out;
}

}  // namespace

std::string encode_ast(const Dockerfile& df) {
    Json dirs = Json::array();
    for (const auto& d : df.directives)
        dirs.push_back(Json::array({d.name, d.value, pos(d.pos)}));
    Json args = Json::array();
    for (const auto& a : df.global_args)
        args.push_back(instruction(a));
    Json stages = Json::array();
    for (const Stage& s : df.stages) {
        Json ins = Json::array();
        for (const auto& i : s.instructions)
            ins.push_back(instruction(i));
        stages.push_back(Json::array(
            {s.index, s.name, s.base, s.platform, range(s.range), instruction(s.from), ins}));
    }
    Json warnings = Json::array();
    for (const auto& w : df.warnings)
        warnings.push_back(diagnostic(w));
    const Json j = Json::array(
        {kVersion, df.file, static_cast<uint32_t>(df.escape), dirs, args, stages, warnings});
    const std::vector<uint8_t> cbor = Json::to_cbor(j);
    return std::string(cbor.begin(), cbor.end());
}

Dockerfile decode_ast(std::string_view bytes) {
    try {
        const Json j = Json::from_cbor(bytes.begin(), bytes.end());
        if (get<int>(j, 0) != kVersion) bad("version");
        Dockerfile df;
        df.file = get<std::string>(j, 1);
        df.escape = get<uint32_t>(j, 2);
        if (!at(j, 3).is_array()) bad("directives");
        for (const Json& d : at(j, 3))
            df.directives.push_back(
                {get<std::string>(d, 0), get<std::string>(d, 1), to_pos(at(d, 2))});
        df.global_args = to_instructions(at(j, 4));
        if (!at(j, 5).is_array()) bad("stages");
        for (const Json& s : at(j, 5)) {
            Stage st;
            st.index = get<size_t>(s, 0);
            st.name = get<std::string>(s, 1);
            st.base = get<std::string>(s, 2);
            st.platform = get<std::string>(s, 3);
            st.range = to_range(at(s, 4));
            st.from = to_instruction(at(s, 5), 0);
            st.instructions = to_instructions(at(s, 6));
            df.stages.push_back(std::move(st));
        }
        if (!at(j, 6).is_array()) bad("warnings");
        for (const Json& w : at(j, 6))
            df.warnings.push_back(to_diagnostic(w));
        return df;
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::kParse, std::string("malformed encoded AST: ") + e.what());
    }
}

}  // namespace strata::frontend
