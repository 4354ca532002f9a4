// `--change` instructions for `strata import` (Docker's `import -c`): a small
// subset of Dockerfile syntax that only edits the image config.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "base/error.hpp"
#include "store/canonical_json.hpp"
#include "store/image_import.hpp"

namespace strata::store {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

[[noreturn]] void bad(std::string_view instruction, std::string_view why) {
    throw Error(ErrorKind::kUsage, fmt::format("--change \"{}\": {}", instruction, why));
}

// The exec form: a JSON array of strings; nullopt when `rest` is not one.
std::optional<std::vector<std::string>> json_array(std::string_view rest) {
    if (rest.empty() || rest.front() != '[') return std::nullopt;
    try {
        auto j = nlohmann::json::parse(rest.begin(), rest.end());
        if (!j.is_array()) return std::nullopt;
        std::vector<std::string> out;
        for (const auto& v : j) {
            if (!v.is_string()) return std::nullopt;
            out.push_back(v.get<std::string>());
        }
        return out;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

// Splits on unquoted whitespace; quotes are removed, backslash escapes the
// next character (outside single quotes), as Dockerfile key=value lists do.
std::vector<std::string> words(std::string_view s, std::string_view instruction) {
    std::vector<std::string> out;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
                cur += s[++i];
            } else {
                cur += c;
            }
            continue;
        }
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) out.push_back(std::move(cur));
            cur.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '\\' && i + 1 < s.size()) {
            cur += s[++i];
        } else {
            cur += c;
        }
    }
    if (quote) bad(instruction, "unterminated quote");
    if (in_word) out.push_back(std::move(cur));
    return out;
}

std::vector<std::pair<std::string, std::string>> key_values(std::string_view rest,
                                                            std::string_view instruction) {
    std::vector<std::pair<std::string, std::string>> out;
    auto ws = words(rest, instruction);
    if (ws.empty()) bad(instruction, "needs at least one argument");
    if (ws.front().find('=') == std::string::npos) {
        // Legacy "KEY value with spaces".
        auto sp = rest.find_first_of(" \t");
        if (sp == std::string_view::npos) bad(instruction, "needs KEY=VALUE or KEY VALUE");
        out.emplace_back(ws.front(), std::string(trim(rest.substr(sp))));
        return out;
    }
    for (const auto& w : ws) {
        auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0)
            bad(instruction, fmt::format("\"{}\" is not KEY=VALUE", w));
        out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
    }
    return out;
}

std::vector<std::string> command(const ContainerConfig& config, std::string_view rest) {
    if (auto exec = json_array(rest)) return *exec;
    std::vector<std::string> cmd =
        config.shell ? *config.shell : std::vector<std::string>{"/bin/sh", "-c"};
    cmd.emplace_back(rest);
    return cmd;
}

}  // namespace

void apply_config_change(ContainerConfig& config, std::string_view instruction_in) {
    std::string_view instruction = trim(instruction_in);
    auto sp = instruction.find_first_of(" \t");
    std::string keyword(instruction.substr(0, sp));
    std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::string_view rest = sp == std::string_view::npos ? "" : trim(instruction.substr(sp));
    if (rest.empty()) bad(instruction, "missing argument");

    if (keyword == "CMD") {
        config.cmd = command(config, rest);
    } else if (keyword == "ENTRYPOINT") {
        config.entrypoint = command(config, rest);
    } else if (keyword == "SHELL") {
        auto exec = json_array(rest);
        if (!exec || exec->empty()) bad(instruction, "SHELL needs a JSON array");
        config.shell = *exec;
    } else if (keyword == "ENV") {
        for (const auto& [k, v] : key_values(rest, instruction))
            config.set_env(k, v);
    } else if (keyword == "LABEL") {
        for (const auto& [k, v] : key_values(rest, instruction))
            config.labels[k] = v;
    } else if (keyword == "EXPOSE") {
        for (auto port : words(rest, instruction)) {
            auto slash = port.find('/');
            std::string number = port.substr(0, slash);
            std::string proto = slash == std::string::npos ? "tcp" : port.substr(slash + 1);
            std::transform(proto.begin(), proto.end(), proto.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            bool digits = !number.empty() && std::all_of(number.begin(), number.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
            });
            if (!digits || (proto != "tcp" && proto != "udp" && proto != "sctp"))
                bad(instruction, fmt::format("invalid port \"{}\"", port));
            config.exposed_ports.insert(number + "/" + proto);
        }
    } else if (keyword == "VOLUME") {
        auto list = json_array(rest);
        for (const auto& v : list ? *list : words(rest, instruction)) {
            if (v.empty()) bad(instruction, "empty volume");
            config.volumes.insert(v);
        }
    } else if (keyword == "WORKDIR") {
        std::string dir(rest);
        if (dir.front() != '/') {
            std::string base = config.working_dir.empty() ? "/" : config.working_dir;
            dir = (base.back() == '/' ? base : base + "/") + dir;
        }
        config.working_dir = dir;
    } else if (keyword == "USER") {
        config.user = std::string(rest);
    } else if (keyword == "STOPSIGNAL") {
        config.stop_signal = std::string(rest);
    } else if (keyword == "ONBUILD") {
        config.on_build.emplace_back(rest);
    } else {
        bad(instruction,
            "unsupported instruction (supported: CMD, ENTRYPOINT, ENV, EXPOSE, "
            "LABEL, ONBUILD, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)");
    }
}

}  // namespace strata::store
