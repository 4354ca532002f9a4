#include "cli/build_contexts.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "store/name_index_reference.hpp"

namespace strata::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kImagePrefix = "docker-image://";

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// The sources BuildKit reads that strata does not (OCI layouts, bake
// targets): named so, not taken for a directory that does not exist.
bool unsupported_source(std::string_view value) {
    return value.find("://") != std::string_view::npos || starts_with(value, "git@") ||
           starts_with(value, "target:") || starts_with(value, "input:");
}

// A Git URL (an existing directory of that name wins, as in buildx).
std::optional<frontend::GitRef> git_ref(const std::string& name, const std::string& value) {
    std::error_code ec;
    if (fs::is_directory(value, ec)) return std::nullopt;
    try {
        return frontend::parse_git_ref(value);
    } catch (const Error& e) {
        throw Error(ErrorKind::kUsage, fmt::format("invalid Git context {}: {}", name, e.what()));
    }
}

}  // namespace

void BuildContexts::forget(const std::string& key) {
    dirs.erase(key);
    git.erase(key);
    http.erase(key);
}

std::optional<std::string> context_key(const std::string& name) {
    const auto ref = store::Reference::try_parse(name);
    if (!ref) return std::nullopt;
    std::string key = ref->familiar();
    constexpr std::string_view kLatest = ":latest";
    if (key.size() > kLatest.size() && key.compare(key.size() - kLatest.size(), kLatest.size(),
                                                   kLatest.data(), kLatest.size()) == 0)
        key.resize(key.size() - kLatest.size());
    return key;
}

BuildContexts parse_build_contexts(const std::vector<std::string>& specs) {
    BuildContexts out;
    for (const std::string& spec : specs) {
        if (spec.empty()) continue;  // as buildx
        const size_t eq = spec.find('=');
        if (eq == std::string::npos)
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid context value: {}, expected key=value",
                                    frontend::redact_url_credentials(spec)));
        const std::string name = spec.substr(0, eq);
        const std::string value = spec.substr(eq + 1);
        std::optional<std::string> key;
        try {
            store::Reference::parse(name);
            key = context_key(name);
        } catch (const Error& e) {
            throw Error(ErrorKind::kUsage,
                        fmt::format("invalid context name {}: {}", name, e.what()));
        }
        planner::NamedContext nc;
        if (starts_with(value, kImagePrefix)) {
            const std::string ref = value.substr(kImagePrefix.size());
            if (ref == "scratch") {
                nc.kind = planner::NamedContext::Kind::kScratch;
            } else {
                try {
                    store::Reference::parse(ref);
                } catch (const Error& e) {
                    throw Error(ErrorKind::kUsage,
                                fmt::format("invalid context {}={}: {}", name, value, e.what()));
                }
                nc.kind = planner::NamedContext::Kind::kImage;
                nc.image = ref;
            }
            out.forget(*key);
        } else if (std::optional<frontend::GitRef> git = git_ref(name, value)) {
            nc.kind = planner::NamedContext::Kind::kLocal;  // the checkout, once fetched
            out.forget(*key);
            out.git[*key] = std::move(*git);
        } else if (starts_with(value, "http://") || starts_with(value, "https://")) {
            nc.kind = planner::NamedContext::Kind::kLocal;  // the download, once fetched
            out.forget(*key);
            out.http[*key] = value;
        } else if (unsupported_source(value)) {
            throw Error(ErrorKind::kUsage,
                        fmt::format("--build-context {}={}: strata reads a local directory, a "
                                    "Git or HTTP(S) URL or docker-image://REF; oci-layout:// and "
                                    "target: sources are not supported",
                                    name, frontend::redact_url_credentials(value)));
        } else {
            std::error_code ec;
            const fs::file_status st = fs::status(value, ec);
            if (!fs::exists(st))
                throw Error(ErrorKind::kUsage,
                            fmt::format("failed to get build context {}: path \"{}\" not found",
                                        name, value));
            if (!fs::is_directory(st))
                throw Error(
                    ErrorKind::kUsage,
                    fmt::format("failed to get build context path {}: not a directory", value));
            nc.kind = planner::NamedContext::Kind::kLocal;
            out.forget(*key);
            out.dirs[*key] = fs::absolute(value, ec).lexically_normal();
        }
        out.named[*key] = nc;
    }
    return out;
}

}  // namespace strata::cli
