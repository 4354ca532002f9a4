#include "store/name_index_reference.hpp"

#include <fmt/format.h>

#include <cctype>

#include "base/error.hpp"

namespace strata::store {

namespace {

constexpr size_t kMaxNameLength = 255;

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_hex(char c) {
    return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

// path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
bool valid_path_component(std::string_view s) {
    if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
    size_t i = 0;
    while (i < s.size()) {
        if (is_lower_alnum(s[i])) {
            ++i;
            continue;
        }
        size_t start = i;
        while (i < s.size() && !is_lower_alnum(s[i]))
            ++i;
        std::string_view sep = s.substr(start, i - start);
        bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
        if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    }
    return true;
}

// domain := host[:port]; host := label(.label)* | [ipv6]
bool valid_domain(std::string_view s) {
    if (s.empty()) return false;
    std::string_view host = s;
    bool ipv6 = s.front() == '[';
    if (ipv6) {
        auto close = s.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        for (char c : s.substr(1, close - 1))
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':') return false;
        host = {};
        s = s.substr(close + 1);
        if (s.empty()) return true;
        if (s.front() != ':') return false;
    } else {
        auto colon = s.find(':');
        host = s.substr(0, colon);
        s = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
    }
    if (!s.empty()) {  // ":port"
        auto port = s.substr(1);
        if (port.empty()) return false;
        for (char c : port)
            if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    if (ipv6) return true;
    if (host.empty()) return false;
    size_t start = 0;
    while (start <= host.size()) {
        auto dot = host.find('.', start);
        auto label =
            host.substr(start, dot == std::string_view::npos ? host.size() - start : dot - start);
        if (label.empty() || label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

// tag := [\w][\w.-]{0,127}
bool valid_tag(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (!word(s.front())) return false;
    for (char c : s)
        if (!word(c) && c != '.' && c != '-') return false;
    return true;
}

[[noreturn]] void invalid(std::string_view text, std::string_view why = {}) {
    if (why.empty())
        throw Error(ErrorKind::kUsage, fmt::format("invalid reference format: \"{}\"", text));
    throw Error(ErrorKind::kUsage, fmt::format("invalid reference format: \"{}\": {}", text, why));
}

}  // namespace

Reference Reference::parse(std::string_view text) {
    if (text.empty()) invalid(text, "empty name");
    Reference ref;
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        auto digest = Digest::try_parse(rest.substr(at + 1));
        if (!digest) invalid(text, "bad digest");
        ref.digest = *digest;
        rest = rest.substr(0, at);
    }
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        ref.tag = std::string(rest.substr(colon + 1));
        if (!valid_tag(ref.tag)) invalid(text, "bad tag");
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) invalid(text, "empty name");
    if (rest.size() > kMaxNameLength)
        invalid(text,
                fmt::format("repository name must not be more than {} characters", kMaxNameLength));
    // The first component is a domain when it looks like one (Docker's rule:
    // it has a '.' or a ':', is "localhost", or has upper-case letters).
    std::string_view path = rest;
    auto first = rest.find('/');
    if (first != std::string_view::npos) {
        auto head = rest.substr(0, first);
        bool upper = false;
        for (char c : head)
            upper |= std::isupper(static_cast<unsigned char>(c)) != 0;
        if (head.find_first_of(".:") != std::string_view::npos || head == "localhost" || upper) {
            if (!valid_domain(head)) invalid(text, "bad domain");
            ref.domain = std::string(head);
            path = rest.substr(first + 1);
        }
    }
    if (ref.domain.empty() || ref.domain == "index.docker.io") ref.domain = kDefaultDomain;
    size_t start = 0;
    for (;;) {
        auto end = path.find('/', start);
        auto comp = path.substr(start, end == std::string_view::npos ? end : end - start);
        if (!valid_path_component(comp)) {
            for (char c : comp)
                if (std::isupper(static_cast<unsigned char>(c)))
                    invalid(text, "repository name must be lowercase");
            invalid(text);
        }
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    ref.path = std::string(path);
    if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos)
        ref.path = "library/" + ref.path;
    if (ref.domain == kDefaultDomain && ref.path.size() == 64 + 8 &&
        looks_like_id(std::string_view(ref.path).substr(8)))
        invalid(text, "cannot specify 64-byte hexadecimal strings");
    return ref;
}

std::optional<Reference> Reference::try_parse(std::string_view text) {
    try {
        return parse(text);
    } catch (const Error&) {
        return std::nullopt;
    }
}

Reference Reference::with_default_tag() const {
    Reference r = *this;
    if (r.name_only()) r.tag = std::string(kDefaultTag);
    return r;
}

std::string Reference::repository() const {
    return domain + "/" + path;
}

std::string Reference::familiar_repository() const {
    if (domain != kDefaultDomain) return repository();
    constexpr std::string_view lib = "library/";
    if (path.compare(0, lib.size(), lib) == 0 && path.find('/', lib.size()) == std::string::npos)
        return path.substr(lib.size());
    return path;
}

std::string Reference::str() const {
    std::string s = repository();
    if (!tag.empty()) s += ":" + tag;
    if (digest) s += "@" + digest->str();
    return s;
}

std::string Reference::familiar() const {
    std::string s = familiar_repository();
    if (!tag.empty()) s += ":" + tag;
    if (digest) s += "@" + digest->str();
    return s;
}

bool looks_like_id(std::string_view text) {
    if (text.substr(0, 7) == "sha256:") text.remove_prefix(7);
    if (text.empty() || text.size() > 64) return false;
    for (char c : text)
        if (!is_hex(c)) return false;
    return true;
}

}  // namespace strata::store
