#include "planner/run_mount.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace strata::planner {
namespace {

// encoding/csv, one record: fields split on ',', a field may be quoted with
// '"' (a doubled quote inside is a literal quote).
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

bool parse_bool(const std::string& v, bool& out) {
    static const std::vector<std::string> yes = {"1", "t", "T", "TRUE", "true", "True"};
    static const std::vector<std::string> no = {"0", "f", "F", "FALSE", "false", "False"};
    if (std::find(yes.begin(), yes.end(), v) != yes.end()) {
        out = true;
        return true;
    }
    if (std::find(no.begin(), no.end(), v) != no.end()) {
        out = false;
        return true;
    }
    return false;
}

}  // namespace

MountSpec parse_mount(std::string_view value,
                      const std::function<std::string(const std::string&)>& expand) {
    MountSpec m;
    bool ro_set = false;
    for (const std::string& field : csv_fields(value)) {
        const size_t eq = field.find('=');
        std::string key = field.substr(0, eq);
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (eq == std::string::npos) {
            if (key == "readonly" || key == "ro") {
                m.read_only = ro_set = true;
            } else if (key == "readwrite" || key == "rw") {
                m.read_only = false;
                ro_set = true;
            } else if (key == "required") {
                m.options[key] = "true";
                continue;
            } else {
                throw MountError{fmt::format("invalid field '{}' must be a key=value pair", field)};
            }
            m.options[key == "ro" ? "readonly" : key == "rw" ? "readwrite" : key] = "true";
            continue;
        }
        std::string v = field.substr(eq + 1);
        if (expand) v = expand(v);
        if (key == "type") {
            static const std::vector<std::string> types = {"bind", "cache", "tmpfs", "secret",
                                                           "ssh"};
            if (std::find(types.begin(), types.end(), v) == types.end()) {
                throw MountError{fmt::format("unsupported mount type \"{}\"", v)};
            }
            m.type = v;
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
        } else if (key != "sharing" && key != "mode" && key != "uid" && key != "gid" &&
                   key != "required" && key != "size" && key != "env") {
            throw MountError{fmt::format("unexpected key '{}' in '{}'", key, field)};
        }
        m.options[key] = v;
    }
    if (!ro_set) m.read_only = m.type == "bind" || m.type == "secret" || m.type == "ssh";
    if (m.target.empty() && (m.type == "bind" || m.type == "cache" || m.type == "tmpfs")) {
        throw MountError{fmt::format("mount type {} requires a target (target=PATH)", m.type)};
    }
    return m;
}

}  // namespace strata::planner
