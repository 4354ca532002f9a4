#include "planner/run_mount.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/go/path.hpp"
#include "base/go/strconv.hpp"
#include "base/go/units.hpp"
#include "frontend/instructions.hpp"
#include "frontend/line_parsers.hpp"

namespace strata::planner {
std::vector<std::string> csv_fields(std::string_view text) {
    std::vector<std::string> out;
    std::string field;
    size_t i = 0;
    bool start = true;
    while (i <= text.size()) {
        if (i == text.size() || (text[i] == ',')) {
            out.push_back(field);
            field.clear();
            start = true;
            ++i;
            continue;
        }
        if (start && text[i] == '"') {
            ++i;
            while (i < text.size()) {
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += text[i++];
            }
            start = false;
            continue;
        }
        start = false;
        field += text[i++];
    }
    return out;
}

namespace {

bool parse_bool(const std::string& v, bool& out) {
    const std::optional<bool> b = go::strconv::parse_bool(v);
    if (b) out = *b;
    return b.has_value();
}

// strconv.ParseUint(v, base, 32) for base 8 or 10: digits of the base only.
std::optional<uint32_t> parse_uint32(const std::string& v, unsigned base) {
    if (v.empty()) return std::nullopt;
    uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c >= static_cast<char>('0' + base)) return std::nullopt;
        n = n * base + static_cast<unsigned>(c - '0');
        if (n > UINT32_MAX) return std::nullopt;
    }
    return static_cast<uint32_t>(n);
}

}  // namespace

MountSpec parse_mount(std::string_view value,
                      const std::function<std::string(const std::string&)>& expand) {
    MountSpec m;
    bool ro_set = false;
    bool type_later = false;  // type=$VAR, unexpanded: what depends on the type waits
    for (const std::string& field : csv_fields(value)) {
        const size_t eq = field.find('=');
        std::string key = frontend::to_lower_ascii(field.substr(0, eq));
        if (eq == std::string::npos) {
            if (key == "readonly" || key == "ro") {
                m.read_only = ro_set = true;
            } else if (key == "readwrite" || key == "rw") {
                m.read_only = false;
                ro_set = true;
            } else if (key == "required") {
                if (m.type != "secret" && m.type != "ssh" && !type_later)
                    throw MountError{
                        fmt::format("unexpected key '{}' for mount type '{}'", key, m.type)};
                m.required = true;
                m.options[key] = "true";
                continue;
            } else {
                throw MountError{fmt::format("invalid field '{}' must be a key=value pair", field)};
            }
            m.options[key == "ro" ? "readonly" : key == "rw" ? "readwrite" : key] = "true";
            continue;
        }
        std::string v = field.substr(eq + 1);
        if (expand) {
            v = expand(v);
        } else if (key == "from") {
            // BuildKit resolves from= before any variable is known, and says
            // so (a '$' as the last character is a literal).
            const size_t dollar = v.find('$');
            if (dollar != std::string::npos && dollar + 1 != v.size())
                throw MountError{
                    "'from' doesn't support variable expansion, define alias stage instead"};
        }
        // Unexpanded (the planner's first look, for from=): a value with a
        // variable in it is checked once it is expanded.
        const bool later = !expand && v.find('$') != std::string::npos;
        static const std::vector<std::string> checked = {"type", "readonly", "ro",   "readwrite",
                                                         "rw",   "required", "size", "sharing",
                                                         "mode", "uid",      "gid"};
        if (later && std::find(checked.begin(), checked.end(), key) != checked.end()) {
            if (key == "type") type_later = true;
            m.options[key] = v;
            continue;
        }
        if (key == "type") {
            static const std::vector<std::string> types = {"bind", "cache", "tmpfs", "secret",
                                                           "ssh"};
            // As BuildKit: compared (and kept) lower-cased, named as written.
            const std::string lower = frontend::to_lower_ascii(v);
            if (std::find(types.begin(), types.end(), lower) == types.end()) {
                throw MountError{frontend::with_suggestion(
                    fmt::format("unsupported mount type \"{}\"", v), v, types)};
            }
            m.type = v = lower;
        } else if (key == "from") {
            m.from = v;
        } else if (key == "source" || key == "src") {
            key = "source";
            m.source = v;
        } else if (key == "target" || key == "dst" || key == "destination") {
            key = "target";
            m.target = v;
        } else if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
            bool b = false;
            if (!parse_bool(v, b)) {
                throw MountError{fmt::format("invalid value for {}: {}", key, v)};
            }
            const bool rw = key == "readwrite" || key == "rw";
            m.read_only = rw ? !b : b;
            ro_set = true;
            key = rw ? "readwrite" : "readonly";
        } else if (key == "id") {
            m.id = v;
        } else if (key == "required") {
            if (m.type != "secret" && m.type != "ssh" && !type_later)
                throw MountError{
                    fmt::format("unexpected key '{}' for mount type '{}'", key, m.type)};
            if (!parse_bool(v, m.required))
                throw MountError{fmt::format("invalid value for {}: {}", key, v)};
            v = m.required ? "true" : "false";
        } else if (key == "size") {
            if (m.type != "tmpfs" && !type_later)
                throw MountError{
                    fmt::format("unexpected key '{}' for mount type '{}'", key, m.type)};
            if (!later) {
                std::string err;
                const auto n = go::units::ram_in_bytes(v, &err);
                if (!n) throw MountError{fmt::format("invalid value for {}: {}: {}", key, v, err)};
                m.size_bytes = *n;
            }
        } else if (key == "sharing") {
            const std::string lower = frontend::to_lower_ascii(v);
            if (lower != "shared" && lower != "private" && lower != "locked")
                throw MountError{
                    frontend::with_suggestion(fmt::format("unsupported sharing value \"{}\"", v), v,
                                              {"shared", "private", "locked"})};
            v = lower;
        } else if (key == "mode" || key == "uid" || key == "gid") {
            const auto n = parse_uint32(v, key == "mode" ? 8 : 10);
            if (!n) throw MountError{fmt::format("invalid value {} for {}", v, key)};
            (key == "mode" ? m.mode : key == "uid" ? m.uid : m.gid) = *n;
        } else if (key == "env") {
            m.env = v;
        } else {
            throw MountError{frontend::with_suggestion(
                fmt::format("unexpected key '{}' in '{}'", key, field), key,
                {"type", "from", "source", "target", "readonly", "id", "sharing", "required",
                 "mode", "uid", "gid", "src", "dst", "ro", "rw", "readwrite"})};
        }
        m.options[key] = v;
    }
    if (type_later) return m;  // checked again once expanded
    if (m.type != "secret" && m.type != "ssh" && m.type != "cache") {
        for (const char* k : {"mode", "uid", "gid"}) {
            if (m.options.count(k))
                throw MountError{fmt::format("{} not allowed for \"{}\" type mounts", k, m.type)};
        }
    }
    if (!ro_set) m.read_only = m.type == "bind" || m.type == "secret" || m.type == "ssh";
    if (m.type == "secret") {
        if (!m.from.empty()) throw MountError{"secret mount should not have a from"};
        if (m.options.count("sharing")) throw MountError{"secret mount should not define sharing"};
        if (m.source.empty() && m.target.empty() && m.id.empty())
            throw MountError{
                "invalid secret mount. one of source, target required (name the secret with "
                "id=ID)"};
        if (!m.source.empty() && !m.id.empty()) throw MountError{"both source and id can't be set"};
    }
    if (m.options.count("sharing") && m.type != "cache")
        throw MountError{fmt::format("invalid cache sharing set for {} mount", m.type)};
    if (m.target.empty() && (m.type == "bind" || m.type == "cache" || m.type == "tmpfs")) {
        throw MountError{fmt::format("mount type {} requires a target (target=PATH)", m.type)};
    }
    return m;
}

SecretMountInfo secret_mount_info(const MountSpec& m, size_t ssh_index) {
    SecretMountInfo out;
    out.required = m.required;
    out.uid = m.uid.value_or(0);
    out.gid = m.gid.value_or(0);
    out.target = m.target;
    if (m.type == "ssh") {
        if (!m.source.empty()) throw MountError{"ssh does not support source"};
        out.id = m.id.empty() ? "default" : m.id;
        if (out.target.empty()) out.target = fmt::format("/run/buildkit/ssh_agent.{}", ssh_index);
        out.mode = m.mode.value_or(0600);
        return out;
    }
    out.id = m.source.empty() ? m.id : m.source;
    if (out.id.empty()) out.id = go::path::base(m.target);
    out.mode = m.mode.value_or(0400);
    if (m.env) {
        // env= with an empty name: the variable is named after the secret.
        out.env = m.env->empty() ? out.id : *m.env;
    } else if (out.target.empty()) {
        out.target = "/run/secrets/" + go::path::base(out.id);
    }
    return out;
}

}  // namespace strata::planner
