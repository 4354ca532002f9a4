#include "registry/api_url.hpp"

#include <cctype>

#include "base/error.hpp"

namespace strata::registry {

namespace {

bool is_alnum_lower(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// scheme "://" authority, or "" when `url` is not absolute.
std::string_view origin(std::string_view url) {
    const size_t s = url.find("://");
    if (s == std::string_view::npos) return {};
    const size_t end = url.find_first_of("/?#", s + 3);
    return url.substr(0, end == std::string_view::npos ? url.size() : end);
}

}  // namespace

void check_repository(std::string_view repo) {
    // path-component: [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*, joined by '/'
    bool ok = !repo.empty() && repo.size() <= 255;
    size_t start = 0;
    while (ok && start <= repo.size()) {
        size_t slash = repo.find('/', start);
        if (slash == std::string_view::npos) slash = repo.size();
        std::string_view comp = repo.substr(start, slash - start);
        ok = !comp.empty() && is_alnum_lower(comp.front()) && is_alnum_lower(comp.back());
        for (size_t i = 0; ok && i < comp.size(); ++i) {
            const char c = comp[i];
            ok = is_alnum_lower(c) || c == '.' || c == '_' || c == '-';
        }
        start = slash + 1;
        if (slash == repo.size()) break;
    }
    if (!ok)
        throw Error(ErrorKind::kUsage,
                    "invalid repository name '" + std::string(repo) +
                        "': lowercase letters, digits and separators (. _ -) in components "
                        "joined by '/'");
}

std::string api_root_url(const Endpoint& endpoint) {
    return endpoint.base_url() + "/v2/";
}

std::string repository_url(const Endpoint& endpoint, std::string_view repo,
                           std::string_view suffix) {
    check_repository(repo);
    return api_root_url(endpoint) + std::string(repo) + "/" + std::string(suffix);
}

std::string resolve_location(std::string_view request_url, std::string_view location) {
    while (!location.empty() && (location.front() == ' '))
        location.remove_prefix(1);
    if (location.find("://") != std::string_view::npos &&
        location.find("://") < location.find_first_of("/?#"))
        return std::string(location);
    const std::string_view base = origin(request_url);
    if (location.starts_with("//")) {
        return std::string(base.substr(0, base.find("://") + 1)) + std::string(location);
    }
    if (location.starts_with("/")) return std::string(base) + std::string(location);
    // Relative to the request's directory (RFC 3986 merge, without dot
    // segments: registries do not send those).
    std::string_view path = request_url.substr(base.size());
    path = path.substr(0, path.find_first_of("?#"));
    const size_t slash = path.rfind('/');
    std::string dir =
        slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash + 1));
    return std::string(base) + dir + std::string(location);
}

std::string add_query(std::string_view url, std::string_view key, std::string_view value) {
    static const char* hex = "0123456789ABCDEF";
    std::string out(url);
    out += url.find('?') == std::string_view::npos ? '?' : '&';
    out += key;
    out += '=';
    for (char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string url_authority(std::string_view url) {
    std::string_view o = origin(url);
    if (o.empty()) return {};
    o.remove_prefix(o.find("://") + 3);
    if (const size_t at = o.rfind('@'); at != std::string_view::npos) o.remove_prefix(at + 1);
    std::string out(o);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string without_query(std::string_view url) {
    return std::string(url.substr(0, url.find_first_of("?#")));
}

}  // namespace strata::registry
