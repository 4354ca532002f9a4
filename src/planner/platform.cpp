// Platforms in containerd's notation (os/arch[/variant]), as BuildKit's
// TARGETPLATFORM and BUILDPLATFORM args spell them.
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>

#include "base/platform_names.hpp"
#include "planner/build_plan.hpp"

namespace strata::planner {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// containerd's normalizeArch (base/platform_names.hpp).
void normalize_arch(Platform& p) {
    normalize_architecture(p.architecture, p.variant);
}

}  // namespace

std::string Platform::str() const {
    std::string out = os + "/" + architecture;
    if (!variant.empty()) out += "/" + variant;
    return out;
}

Platform host_platform() {
    Platform p;
    struct utsname u {};
    std::string machine = "x86_64";
    if (uname(&u) == 0) machine = u.machine;
    if (machine.rfind("armv", 0) == 0) {  // armv7l, armv6l
        p.architecture = "arm";
        p.variant = {'v', machine.size() > 4 ? machine[4] : '7'};
    } else {
        p.architecture = machine;
    }
    normalize_arch(p);
    return p;
}

std::optional<Platform> parse_platform(std::string_view text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t slash = text.find('/', start);
        parts.push_back(lower(text.substr(start, slash - start)));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    for (const std::string& part : parts) {
        if (part.empty()) return std::nullopt;
        for (char c : part) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
                return std::nullopt;
        }
    }
    Platform p;
    if (parts.size() == 1) {
        p.architecture = parts[0];  // a bare architecture: host OS
    } else if (parts.size() <= 3) {
        p.os = parts[0];
        p.architecture = parts[1];
        if (parts.size() == 3) p.variant = parts[2];
    } else {
        return std::nullopt;
    }
    if (p.os == "macos") p.os = "darwin";
    normalize_arch(p);
    return p;
}

}  // namespace strata::planner
