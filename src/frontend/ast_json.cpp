#include "frontend/ast_json.hpp"

namespace strata::frontend {
namespace {

using Json = nlohmann::ordered_json;

Json pos_json(SourcePos p) {
    return Json{{"line", p.line}, {"column", p.column}};
}
Json range_json(const SourceRange& r) {
    return Json{{"start", pos_json(r.start)}, {"end", pos_json(r.end)}};
}
Json command_line_json(const CommandLine& c) {
    return Json{{"form", c.shell_form ? "shell" : "exec"}, {"args", c.args}};
}
Json kv_json(const std::vector<KeyValue>& kvs) {
    Json out = Json::array();
    for (const auto& kv : kvs)
        out.push_back(Json{{"key", kv.key}, {"value", kv.value}});
    return out;
}

Json instruction_json(const Instruction& ins);

struct TypedJson {
    Json operator()(const FromCmd& c) const {
        Json j{{"image", c.image}};
        if (!c.stage_name.empty()) j["stage"] = c.stage_name;
        if (!c.platform.empty()) j["platform"] = c.platform;
        return j;
    }
    Json operator()(const RunCmd& c) const {
        Json j{{"command", command_line_json(c.command)}};
        if (!c.mounts.empty()) j["mounts"] = c.mounts;
        if (!c.network.empty()) j["network"] = c.network;
        if (!c.security.empty()) j["security"] = c.security;
        return j;
    }
    Json operator()(const CmdCmd& c) const { return {{"command", command_line_json(c.command)}}; }
    Json operator()(const EntrypointCmd& c) const {
        return {{"command", command_line_json(c.command)}};
    }
    Json operator()(const CopyCmd& c) const {
        Json j{{"sources", c.sources}, {"dest", c.dest}};
        if (!c.inline_sources.empty()) {
            Json inl = Json::array();
            for (const auto& s : c.inline_sources) {
                inl.push_back({{"name", s.name}, {"content", s.content}, {"expand", s.expand}});
            }
            j["inline_sources"] = inl;
        }
        if (!c.from.empty()) j["from"] = c.from;
        if (!c.chown.empty()) j["chown"] = c.chown;
        if (!c.chmod.empty()) j["chmod"] = c.chmod;
        if (!c.checksum.empty()) j["checksum"] = c.checksum;
        if (c.link) j["link"] = true;
        if (c.parents) j["parents"] = true;
        if (c.keep_git_dir) j["keep_git_dir"] = true;
        if (!c.excludes.empty()) j["excludes"] = c.excludes;
        return j;
    }
    Json operator()(const EnvCmd& c) const { return {{"vars", kv_json(c.vars)}}; }
    Json operator()(const LabelCmd& c) const { return {{"labels", kv_json(c.labels)}}; }
    Json operator()(const ArgCmd& c) const {
        Json args = Json::array();
        for (const auto& a : c.args) {
            Json j{{"name", a.name}};
            if (a.default_value) j["default"] = *a.default_value;
            args.push_back(j);
        }
        return {{"args", args}};
    }
    Json operator()(const ExposeCmd& c) const { return {{"ports", c.ports}}; }
    Json operator()(const VolumeCmd& c) const { return {{"paths", c.paths}}; }
    Json operator()(const UserCmd& c) const { return {{"user", c.user}}; }
    Json operator()(const WorkdirCmd& c) const { return {{"path", c.path}}; }
    Json operator()(const StopSignalCmd& c) const { return {{"signal", c.signal}}; }
    Json operator()(const ShellCmd& c) const { return {{"shell", c.shell}}; }
    Json operator()(const MaintainerCmd& c) const { return {{"maintainer", c.name}}; }
    Json operator()(const HealthcheckCmd& c) const {
        Json j{{"test", c.test}};
        if (!c.none) {
            j["interval_ns"] = c.interval_ns;
            j["timeout_ns"] = c.timeout_ns;
            j["start_period_ns"] = c.start_period_ns;
            j["start_interval_ns"] = c.start_interval_ns;
            j["retries"] = c.retries;
        }
        return j;
    }
    Json operator()(const OnbuildCmd& c) const {
        Json j{{"expression", c.expression}};
        if (c.trigger) j["trigger"] = instruction_json(*c.trigger);
        return j;
    }
};

Json instruction_json(const Instruction& ins) {
    Json j{{"instruction", ins.keyword}, {"location", range_json(ins.range)}};
    if (!ins.flags.empty()) {
        Json flags = Json::array();
        for (const Flag& f : ins.flags) {
            Json fj{{"name", f.name}};
            if (f.has_value) fj["value"] = f.value;
            flags.push_back(fj);
        }
        j["flags"] = flags;
    }
    j["args"] = ins.args;
    if (ins.json) j["exec_form"] = true;
    if (!ins.heredocs.empty()) {
        Json docs = Json::array();
        for (const Heredoc& h : ins.heredocs) {
            Json d{{"name", h.spec.name},
                   {"content", h.spec.chomp ? chomp_heredoc_content(h.content) : h.content},
                   {"expand", h.spec.expand},
                   {"chomp", h.spec.chomp}};
            if (h.spec.fd != 0) d["fd"] = h.spec.fd;
            docs.push_back(d);
        }
        j["heredocs"] = docs;
    }
    j["original"] = ins.original;
    j["typed"] = std::visit(TypedJson{}, ins.command);
    return j;
}

}  // namespace

nlohmann::ordered_json to_json(const Dockerfile& df) {
    Json j;
    j["file"] = df.file;
    j["escape"] = std::string(1, static_cast<char>(df.escape));
    Json dirs = Json::array();
    for (const auto& d : df.directives) {
        dirs.push_back({{"name", d.name}, {"value", d.value}, {"location", pos_json(d.pos)}});
    }
    j["directives"] = dirs;
    Json args = Json::array();
    for (const auto& a : df.global_args)
        args.push_back(instruction_json(a));
    j["global_args"] = args;
    Json stages = Json::array();
    for (const Stage& s : df.stages) {
        Json sj{{"index", s.index}};
        if (!s.name.empty()) sj["name"] = s.name;
        sj["base"] = s.base;
        if (!s.platform.empty()) sj["platform"] = s.platform;
        sj["location"] = range_json(s.range);
        Json ins = Json::array();
        ins.push_back(instruction_json(s.from));
        for (const auto& i : s.instructions)
            ins.push_back(instruction_json(i));
        sj["instructions"] = ins;
        stages.push_back(sj);
    }
    j["stages"] = stages;
    return j;
}

}  // namespace strata::frontend
