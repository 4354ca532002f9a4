// init's spec: the JSON document strata-init reads from its descriptor 4
// (runtime/init.hpp reads it), and the descriptors it names. The pieces that
// Sandbox::start() and exec() put into it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"
#include "sandbox/isolation_setup.hpp"
#include "sandbox/spec.hpp"

namespace strata::sandbox {

// init's fixed descriptors: 0-2 the process's stdio (by default /dev/null
// and the output pipe twice), 3 the status pipe, 4 the spec; the spec names
// the rest (5, 6, ...).
inline constexpr int kFirstExtraFd = 5;

// The descriptors init gets beyond 0-4, numbered from kFirstExtraFd in the
// order they are added.
class ExtraFds {
  public:
    // Closes strata's copies (after the clone: init has its own).
    void clear() { fds_.clear(); }
    int add(UniqueFd fd) {
        fds_.push_back(std::move(fd));
        return kFirstExtraFd + static_cast<int>(fds_.size()) - 1;
    }
    std::vector<int> sources() const {
        std::vector<int> s;
        for (const auto& f : fds_)
            s.push_back(f.get());
        return s;
    }

  private:
    std::vector<UniqueFd> fds_;
};

// An anonymous in-memory file holding `content`: how the spec, secrets and
// the seccomp program reach init without touching the disk.
UniqueFd memfd_with(const char* name, std::string_view content);

// Layer directories, lowest first, as init's "lower" list (topmost first).
nlohmann::json lowers_json(const std::vector<std::filesystem::path>& lowest_first);

// What one mount becomes in init's spec; its directories are made under
// `scratch`, the overlay of its source layers is added to `overlays`.
nlohmann::json mount_json(const Mount& m, size_t index, const std::filesystem::path& scratch,
                          nlohmann::json& overlays, ExtraFds& fds);

// The process part of init's spec (run and exec alike).
void add_process_json(nlohmann::json& j, const Process& p);

// Capabilities, seccomp, no_new_privs, privileged, rlimits (run and exec alike).
void add_isolation_json(nlohmann::json& j, const IsolationSetup& iso, const Isolation& isolation,
                        ExtraFds& extra);

}  // namespace strata::sandbox
