#include "frontend/git_url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <regex>
#include <vector>

#include "base/error.hpp"
#include "base/go/strconv.hpp"

namespace strata::frontend {

namespace {

bool is_hex(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    });
}

std::string percent_decoded(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && is_hex(s.substr(i + 1, 2))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

void apply_query(GitRef& g, std::string_view query) {
    std::map<std::string, std::vector<std::optional<std::string>>> values;
    size_t start = 0;
    while (start <= query.size()) {
        const size_t amp = query.find('&', start);
        const std::string_view part = query.substr(
            start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
        if (!part.empty()) {
            const size_t eq = part.find('=');
            const std::string key = percent_decoded(part.substr(0, eq));
            values[key].push_back(eq == std::string_view::npos
                                      ? std::nullopt
                                      : std::optional(percent_decoded(part.substr(eq + 1))));
        }
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    auto one = [&](const std::string& key, bool bare_ok) -> std::optional<std::string> {
        const auto it = values.find(key);
        if (it == values.end()) return std::nullopt;
        if (it->second.size() > 1)
            throw Error(ErrorKind::kUsage, fmt::format("query \"{}\" has multiple values", key));
        const auto& v = it->second.front();
        if (!v || v->empty()) {
            if (bare_ok) return std::string();
            throw Error(ErrorKind::kUsage, fmt::format("query \"{}\" has no value", key));
        }
        return *v;
    };
    for (const auto& entry : values) {
        const std::string& key = entry.first;
        static const char* known[] = {"ref",      "tag",    "branch",       "subdir",
                                      "checksum", "commit", "keep-git-dir", "submodules"};
        if (std::none_of(std::begin(known), std::end(known),
                         [&](const char* k) { return key == k; }))
            throw Error(ErrorKind::kUsage, fmt::format("unexpected query \"{}\"", key));
    }
    auto set_ref = [&](const std::string& r) {
        if (!g.ref.empty() && g.ref != r)
            throw Error(ErrorKind::kUsage,
                        fmt::format("ref conflicts: \"{}\" vs \"{}\"", g.ref, r));
        g.ref = r;
    };
    const auto tag = one("tag", false), branch = one("branch", false), ref = one("ref", false);
    if (tag && branch) throw Error(ErrorKind::kUsage, "branch conflicts with tag");
    if (ref) set_ref(*ref);
    if (tag) set_ref(tag->rfind("refs/tags/", 0) == 0 ? *tag : "refs/tags/" + *tag);
    if (branch) set_ref(branch->rfind("refs/heads/", 0) == 0 ? *branch : "refs/heads/" + *branch);
    if (const auto subdir = one("subdir", false)) {
        if (!g.subdir.empty() && g.subdir != *subdir)
            throw Error(ErrorKind::kUsage,
                        fmt::format("subdir conflicts: \"{}\" vs \"{}\"", g.subdir, *subdir));
        g.subdir = *subdir;
    }
    auto checksum = one("checksum", false);
    if (const auto commit = one("commit", false)) checksum = commit;
    if (checksum) {
        if (!is_hex(*checksum))
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid checksum {} for Git URL, expected hex commit hash",
                                    *checksum));
        g.checksum = *checksum;
        if (g.ref.empty()) g.ref = *checksum;
    }
    if (const auto keep = one("keep-git-dir", true)) {
        const auto b = keep->empty() ? std::optional(true) : go::strconv::parse_bool(*keep);
        if (!b)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid keep-git-dir value: \"{}\"", *keep));
        g.keep_git_dir = *b;
    }
    if (const auto sub = one("submodules", true)) {
        const auto b = sub->empty() ? std::optional(true) : go::strconv::parse_bool(*sub);
        if (!b)
            throw Error(ErrorKind::kUsage, fmt::format("invalid submodules value: \"{}\"", *sub));
        g.submodules = *b;
    }
}

}  // namespace

std::string redact_url_credentials(std::string url) {
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const size_t start = scheme + 3;
    const size_t end = url.find_first_of("/?#", start);
    const size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
    if (at == std::string::npos || at < start) return url;
    const size_t colon = url.find(':', start);
    if (colon != std::string::npos && colon < at)
        return url.replace(colon + 1, at - colon - 1, "xxxxx");
    std::string proto = url.substr(0, scheme);
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (proto == "http" || proto == "https") return url.replace(start, at - start, "xxxxx");
    return url;
}

std::optional<GitRef> parse_git_ref(std::string_view text) {
    const std::string s(text);
    if (s.rfind("./", 0) == 0 || s.rfind("../", 0) == 0) return std::nullopt;
    const size_t hash = s.find('#');
    const std::string fragment = hash == std::string::npos ? "" : s.substr(hash + 1);
    std::string remote = s.substr(0, hash);
    const size_t q = remote.find('?');
    const std::string query = q == std::string::npos ? "" : remote.substr(q + 1);
    remote = remote.substr(0, q);

    static const std::regex scheme_re("^([a-zA-Z0-9]+)://([^/]*)(.*)$");
    // user@host:path (never an option: the user starts with a letter or digit).
    static const std::regex scp_re("^([a-zA-Z0-9][a-zA-Z0-9_-]*)@([a-zA-Z0-9.-]+):(.*)$");
    std::smatch m;
    bool local_like = false;
    if (remote.rfind("github.com/", 0) == 0) {
        remote = "https://" + remote;
        local_like = true;
    } else if (std::regex_match(remote, m, scheme_re)) {
        std::string scheme = m[1];
        std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (scheme == "http" || scheme == "https") {
            if (!std::string(m[3]).ends_with(".git")) return std::nullopt;
        } else if (scheme != "ssh" && scheme != "git") {
            return std::nullopt;
        }
    } else if (!std::regex_match(remote, m, scp_re)) {
        return std::nullopt;
    }

    GitRef g;
    g.remote = remote;
    g.indistinguishable_from_local = local_like;
    g.shown = redact_url_credentials(s);
    const size_t colon = fragment.find(':');
    g.ref = fragment.substr(0, colon);
    if (colon != std::string::npos) g.subdir = fragment.substr(colon + 1);
    if (!query.empty()) apply_query(g, query);
    if (g.ref.rfind('-', 0) == 0)
        throw Error(ErrorKind::kUsage, fmt::format("invalid refspec: {}", g.ref));
    return g;
}

bool is_git_url(std::string_view text) {
    try {
        const std::optional<GitRef> g = parse_git_ref(text);
        return g && !g->indistinguishable_from_local;
    } catch (const Error&) {
        return true;  // a Git URL with a bad fragment or query
    }
}

}  // namespace strata::frontend
