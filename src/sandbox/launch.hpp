// The part of starting a container (Sandbox::start) or a process in one
// (Sandbox::exec) that both share: the process's stdio, the terminal's
// socket, the status pipe and init's spec put in place, then the clone — by
// the zygote when one is given and still there, else here (vfork-style) —
// and the wait until the command runs (or init gave up). Internal to the
// sandbox.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "sandbox/init_spec.hpp"
#include "sandbox/pty.hpp"
#include "sandbox/sandbox.hpp"

namespace strata::sandbox {

class Zygote;

// `j` is init's spec and gets the stdio keys; `extra` holds the descriptors
// it names (closed here once init has its own). Fills st.pid,
// st.status_text, st.out_read and st.pty.
void launch(SandboxProcess::State& st, const std::filesystem::path& init_binary, nlohmann::json& j,
            ExtraFds& extra, const Stdio& io, int clone_flags, int netns_fd, bool new_cgroup_ns,
            const std::vector<int>& cgroup_join, Zygote* zygote = nullptr);

}  // namespace strata::sandbox
