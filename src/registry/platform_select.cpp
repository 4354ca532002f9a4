#include "registry/platform_select.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "base/error.hpp"
#include "base/platform_names.hpp"

namespace strata::registry {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// "v7" → 7; 0 when it is not "v<number>".
int variant_number(const std::string& v) {
    if (v.size() < 2 || v[0] != 'v') return 0;
    int n = 0;
    for (size_t i = 1; i < v.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(v[i])) || n > 100) return 0;
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

store::Platform make(std::string os, std::string arch, std::string variant) {
    store::Platform p;
    p.os = std::move(os);
    p.architecture = std::move(arch);
    p.variant = std::move(variant);
    return p;
}

bool same(const store::Platform& a, const store::Platform& b) {
    return a.os == b.os && a.architecture == b.architecture && a.variant == b.variant;
}

}  // namespace

store::Platform normalize_platform(store::Platform p) {
    p.os = lower(p.os.empty() ? "linux" : p.os);
    if (p.os == "macos") p.os = "darwin";
    p.architecture = lower(p.architecture);
    p.variant = lower(p.variant);
    normalize_architecture(p.architecture, p.variant);
    return p;
}

std::vector<store::Platform> compatible_platforms(const store::Platform& want_in) {
    const store::Platform want = normalize_platform(want_in);
    std::vector<store::Platform> out{want};
    const int n = variant_number(want.variant);
    if (want.architecture == "amd64") {
        for (int i = n - 1; i >= 2; --i)
            out.push_back(make(want.os, "amd64", "v" + std::to_string(i)));
        if (n >= 2) out.push_back(make(want.os, "amd64", ""));
        out.push_back(make(want.os, "386", ""));
    } else if (want.architecture == "arm64") {
        for (int i = 8; i >= 5; --i)
            out.push_back(make(want.os, "arm", "v" + std::to_string(i)));
    } else if (want.architecture == "arm" && n > 5) {
        for (int i = n - 1; i >= 5; --i)
            out.push_back(make(want.os, "arm", "v" + std::to_string(i)));
    }
    return out;
}

store::Descriptor select_manifest(const store::Index& index, const store::Platform& want) {
    for (const store::Platform& p : compatible_platforms(want)) {
        for (const store::Descriptor& d : index.manifests) {
            if (!d.platform || !store::is_manifest_media_type(d.media_type)) continue;
            if (same(normalize_platform(*d.platform), p)) return d;
        }
    }
    throw Error(ErrorKind::kNotFound, "no matching manifest for " + normalize_platform(want).str() +
                                          " in the manifest list entries");
}

}  // namespace strata::registry
