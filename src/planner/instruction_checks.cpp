#include "planner/instruction_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "base/go/path.hpp"
#include "base/signal_names.hpp"

namespace strata::planner {
namespace {

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// strconv.ParseUint(s, 10, 16)
std::optional<uint64_t> parse_port(std::string_view s) {
    if (!is_digits(s)) return std::nullopt;
    uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v > 65535) return std::nullopt;
    return v;
}

struct Range {
    uint64_t start = 0, end = 0;
};
std::optional<Range> parse_port_range(std::string_view s) {
    const size_t dash = s.find('-');
    if (dash == std::string_view::npos) {
        const auto p = parse_port(s);
        if (!p) return std::nullopt;
        return Range{*p, *p};
    }
    if (s.find('-', dash + 1) != std::string_view::npos) return std::nullopt;
    const auto a = parse_port(s.substr(0, dash));
    const auto b = parse_port(s.substr(dash + 1));
    if (!a || !b || *b < *a) return std::nullopt;
    return Range{*a, *b};
}

}  // namespace

bool is_valid_signal(std::string_view signal) {
    // Docker's check takes any non-zero number; names by the one table.
    int64_t number = 0;
    const auto [ptr, ec] = std::from_chars(signal.data(), signal.data() + signal.size(), number);
    if (ec == std::errc() && ptr == signal.data() + signal.size()) return number != 0;
    return signal_number(signal).has_value();
}

PortsOrError parse_port_spec(std::string_view spec) {
    PortsOrError out;
    // [ip:]hostPort:containerPort — IPv6 hosts are bracketed; the container
    // port is always the last field.
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
        const size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    const std::string_view container = parts.back();
    const std::string_view host_port = parts.size() >= 2 ? parts[parts.size() - 2] : "";
    const size_t slash = container.find('/');
    const std::string_view port = container.substr(0, slash);
    std::string proto =
        slash == std::string_view::npos ? "" : std::string(container.substr(slash + 1));
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (port.empty()) {
        out.error = fmt::format("no port specified: {}<empty>", container);
        return out;
    }
    if (proto.empty()) proto = "tcp";
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
        out.error = "invalid proto: " + proto;
        return out;
    }
    const auto range = parse_port_range(port);
    if (!range) {
        out.error = fmt::format("invalid containerPort: {}", port);
        return out;
    }
    if (!host_port.empty()) {
        const auto host = parse_port_range(host_port);
        if (!host) {
            out.error = fmt::format("invalid hostPort: {}", host_port);
            return out;
        }
        if (range->end - range->start != host->end - host->start && range->end != range->start) {
            out.error =
                fmt::format("invalid ranges specified for container and host Ports: {} and {}",
                            port, host_port);
            return out;
        }
    }
    for (uint64_t p = range->start; p <= range->end; ++p)
        out.ports.push_back(fmt::format("{}/{}", p, proto));
    return out;
}

std::string check_chmod(std::string_view mode) {
    const std::string octal_error = fmt::format(
        "invalid chmod parameter: '{}'. it should be octal string and between 0 and 07777", mode);
    // BuildKit takes a value that starts with a digit as octal ("7a5", "0o755"
    // and "10000" all get the octal message) and anything else as symbolic.
    if (!mode.empty() && mode[0] >= '0' && mode[0] <= '9') {
        if (!is_digits(mode)) return octal_error;
        for (char c : mode) {
            if (c > '7') return octal_error;
        }
        uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(mode.data(), mode.data() + mode.size(), v, 8);
        if (ec != std::errc() || v > 07777) return octal_error;
        return {};
    }
    // Symbolic: clause[,clause…], clause = [ugoa]* (op [rwxXst]* | op [ugo])+.
    // BuildKit's mode parser has a single word for any mistake here.
    const std::string symbolic_error = "invalid syntax";
    size_t i = 0;
    while (true) {
        while (i < mode.size() && std::string_view("ugoa").find(mode[i]) != std::string_view::npos)
            ++i;
        bool any_op = false;
        while (i < mode.size() && std::string_view("+-=").find(mode[i]) != std::string_view::npos) {
            any_op = true;
            ++i;
            if (i < mode.size() &&
                std::string_view("ugo").find(mode[i]) != std::string_view::npos) {
                ++i;
                continue;
            }
            while (i < mode.size() &&
                   std::string_view("rwxXst").find(mode[i]) != std::string_view::npos)
                ++i;
        }
        if (!any_op) return symbolic_error;
        if (i == mode.size()) return {};
        if (mode[i] != ',') return symbolic_error;
        ++i;
    }
}

std::string normalize_shell_spacing(std::string_view command) {
    std::string out;
    bool pending_space = false;
    char quote = 0;
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    for (size_t i = 0; i < command.size(); ++i) {
        const char c = command[i];
        if (quote == 0 && blank(c)) {
            pending_space = true;
            continue;
        }
        if (quote == 0 && c == '\n') {
            out += c;
            pending_space = false;
            continue;
        }
        if (pending_space && !out.empty() && out.back() != '\n') out += ' ';
        pending_space = false;
        out += c;
        if (c == '\\' && quote != '\'' && i + 1 < command.size()) {
            out += command[++i];  // escaped: literal, even a blank
        } else if (quote == 0 && (c == '\'' || c == '"')) {
            quote = c;
        } else if (quote != 0 && c == quote) {
            quote = 0;
        }
    }
    // Blanks before a newline.
    std::string trimmed;
    for (char c : out) {
        if (c == '\n') {
            while (!trimmed.empty() && trimmed.back() == ' ')
                trimmed.pop_back();
        }
        trimmed += c;
    }
    return trimmed;
}

std::string normalize_workdir(std::string_view current, std::string_view requested) {
    // BuildKit's system.NormalizePath for Linux: a relative path is joined to
    // the current one; an absolute one is used as written.
    std::string parent = current.empty() ? "/" : std::string(current);
    if (parent[0] != '/') parent = go::path::join("/", parent);
    if (requested.empty()) return parent;
    if (requested[0] == '/') return std::string(requested);
    return go::path::join(parent, requested);
}

}  // namespace strata::planner
