#include "sandbox/init_spec.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/user_namespace.hpp"

namespace strata::sandbox {

namespace fs = std::filesystem;
using nlohmann::json;

UniqueFd memfd_with(const char* name, std::string_view content) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_create, name, MFD_CLOEXEC)));
    if (!fd) throw system_error("memfd_create", name);
    for (size_t off = 0; off < content.size();) {
        const ssize_t w = ::write(fd.get(), content.data() + off, content.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw system_error("write", name);
        off += static_cast<size_t>(w);
    }
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw system_error("lseek", name);
    return fd;
}

json lowers_json(const std::vector<fs::path>& lowest_first) {
    json a = json::array();
    for (auto it = lowest_first.rbegin(); it != lowest_first.rend(); ++it)
        a.push_back(it->string());
    return a;
}

json mount_json(const Mount& m, size_t index, const fs::path& scratch, json& overlays,
                ExtraFds& fds) {
    json j{{"target", m.target}};
    switch (m.kind) {
        case Mount::Kind::kTmpfs:
            j["type"] = "tmpfs";
            if (m.size_bytes) j["size"] = *m.size_bytes;
            if (m.tmpfs_mode) j["mode"] = *m.tmpfs_mode & 07777;
            return j;
        case Mount::Kind::kSecret:
            j["type"] = "secret";
            j["fd"] = fds.add(memfd_with("strata-secret", m.content));
            j["mode"] = m.mode;
            j["uid"] = m.uid;
            j["gid"] = m.gid;
            j["tmp"] = (scratch / fmt::format("secret-{}", index)).string();
            fs::create_directories(j["tmp"].get<std::string>());
            return j;
        case Mount::Kind::kSocket:
            j["type"] = "socket";
            j["source"] = m.socket.string();
            return j;
        case Mount::Kind::kBind:
            break;
    }
    j["type"] = "bind";
    // The root the source path is resolved in: a trusted host directory, or
    // the read-only overlay of a stage's layers that init mounts first.
    fs::path root;
    if (!m.source_root.empty()) {
        root = m.source_root;
    } else {
        root = scratch / fmt::format("mount-{}", index);
        fs::create_directories(root);
        if (!m.source_layers.empty())
            overlays.push_back(
                {{"lower", lowers_json(m.source_layers)}, {"target", root.string()}});
    }
    j["root"] = root.string();
    j["path"] = m.source_path;
    j["readonly"] = m.read_only;
    if (m.discard_writes) {
        const fs::path base = scratch / fmt::format("rw-{}", index);
        for (const char* d : {"upper", "work", "merged"})
            fs::create_directories(base / d);
        j["discard"] = {{"upper", (base / "upper").string()},
                        {"work", (base / "work").string()},
                        {"merged", (base / "merged").string()}};
    }
    return j;
}

void add_process_json(json& j, const Process& p) {
    j["env"] = p.env;
    j["argv"] = p.argv;
    j["user"] = p.user;
    j["cwd"] = p.cwd.empty() ? std::string("/") : p.cwd;
}

void add_isolation_json(json& j, const IsolationSetup& iso, const Isolation& isolation,
                        ExtraFds& extra) {
    json caps = json::array();
    for (const auto& c : iso.capabilities())
        if (auto n = capability_number(c)) caps.push_back(*n);
    j["caps"] = caps;
    if (!iso.seccomp_bpf().empty())
        j["seccomp_fd"] = extra.add(memfd_with("strata-seccomp", iso.seccomp_bpf()));
    j["no_new_privileges"] = isolation.no_new_privileges;
    j["privileged"] = isolation.privileged;
    j["rlimit_nofile"] = {kNofileSoft, kNofileHard};
    // In a user namespace (rootless): init binds device nodes, binds the
    // host's /sys, mounts overlays with `userxattr`.
    j["rootless"] = in_user_namespace();
}

}  // namespace strata::sandbox
