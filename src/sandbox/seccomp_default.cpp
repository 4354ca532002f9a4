// default_seccomp_bpf: the program compiled when strata was built for
// Docker's default capabilities (seccomp_embed_main.cpp writes it into
// docker_seccomp_default_bpf.cpp), else a compile per set, memoized.
#include <map>
#include <mutex>

#include "sandbox/capabilities.hpp"
#include "sandbox/seccomp_embedded.hpp"
#include "sandbox/seccomp_profile.hpp"

namespace strata::sandbox {

const std::string& default_seccomp_bpf(const std::vector<std::string>& caps) {
    static std::mutex mu;
    static std::map<std::vector<std::string>, std::string> compiled;  // nodes never move
    auto key = canonical_capabilities(caps);
    // Held while compiling: threads asking for the same set wait for the
    // first one's result instead of compiling it again.
    std::lock_guard lock(mu);
    auto it = compiled.find(key);
    if (it != compiled.end()) return it->second;
    const EmbeddedSeccomp& e = embedded_default_seccomp();
    // The build-time program holds on every kernel at least as new as the
    // newest minKernel of the profile (it was compiled as if on that one).
    std::string bpf = key == canonical_capabilities(default_capabilities()) &&
                              (e.min_kernel.empty() || running_kernel_at_least(e.min_kernel))
                          ? std::string(e.bpf)
                          : compile_seccomp_profile(docker_default_seccomp_profile(), key,
                                                    "src/sandbox/docker-seccomp-default.json");
    return compiled.emplace(std::move(key), std::move(bpf)).first->second;
}

}  // namespace strata::sandbox
