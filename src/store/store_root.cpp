#include "store/store_root.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace strata::store {

namespace fs = std::filesystem;

fs::path resolve_store_root(const StoreRootInputs& in) {
    auto raw_env = [&](const char* name) -> std::optional<std::string> {
        if (in.getenv) return in.getenv(name);
        if (const char* s = std::getenv(name)) return std::string(s);
        return std::nullopt;
    };
    auto env = [&](const char* name) {
        std::optional<std::string> v = raw_env(name);
        if (v && v->empty()) v.reset();
        return v;
    };
    // Inside rootless strata's user namespace geteuid() is 0, but the store
    // is the invoking user's.
    const std::optional<std::string> rootless = raw_env(kRootlessEnv);
    fs::path root;
    if (!in.flag.empty()) {
        root = in.flag;
    } else if (auto r = env("STRATA_ROOT")) {
        root = *r;
    } else if (rootless && !rootless->empty()) {
        root = *rootless;
    } else if (!rootless && in.is_root.value_or(::geteuid() == 0)) {
        root = "/var/lib/strata";
    } else if (auto xdg = env("XDG_DATA_HOME"); xdg && fs::path(*xdg).is_absolute()) {
        // The XDG spec says relative values are invalid and must be ignored.
        root = fs::path(*xdg) / "strata";
    } else if (auto home = env("HOME")) {
        root = fs::path(*home) / ".local" / "share" / "strata";
    } else {
        throw Error(
            ErrorKind::kUsage,
            "cannot find a store directory: pass --root or set STRATA_ROOT (HOME is unset)");
    }
    fs::path out = fs::absolute(root).lexically_normal();
    if (!out.has_filename() && out != out.root_path()) out = out.parent_path();  // "dir/" → "dir"
    return out;
}

fs::path resolve_store_root(std::string_view flag) {
    StoreRootInputs in;
    in.flag = std::string(flag);
    return resolve_store_root(in);
}

std::string prepare_store_root(const fs::path& root) {
    std::error_code ec;
    if (root.has_parent_path()) {
        fs::create_directories(root.parent_path(), ec);
        if (ec) throw system_error("create directory", root.parent_path().string(), ec.value());
    }
    bool created = false;
    if (::mkdir(root.c_str(), kStoreRootMode) == 0)
        created = true;
    else if (errno != EEXIST)
        throw system_error("create store directory", root.string());
    UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw system_error("open store directory", root.string());
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw system_error("stat", root.string());
    const unsigned mode = st.st_mode & 07777;
    if (created) {
        // mkdir's mode went through the umask, which may have taken more.
        if (mode != kStoreRootMode && ::fchmod(fd.get(), kStoreRootMode) != 0)
            throw system_error("chmod", root.string());
        return "";
    }
    if ((mode & 077) == 0) return "";
    if (st.st_uid != ::geteuid())
        throw Error(ErrorKind::kUsage,
                    fmt::format("store directory {} is owned by uid {} and open to other users "
                                "(mode {:04o}): layers in it would hand their setuid files and "
                                "device nodes to every local user; have its owner run 'chmod "
                                "{:o} {}', or use another store with --root or STRATA_ROOT",
                                root.string(), st.st_uid, mode, kStoreRootMode, root.string()));
    const unsigned tightened = mode & ~077u;
    if (::fchmod(fd.get(), tightened) != 0) throw system_error("chmod", root.string());
    return fmt::format(
        "warning: store directory {} had mode {:04o}; changed to {:04o} so that other users "
        "cannot reach the files of its layers",
        root.string(), mode, tightened);
}

}  // namespace strata::store
