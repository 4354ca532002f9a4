#include "store/store_root.hpp"

#include <unistd.h>

#include <cstdlib>

#include "base/error.hpp"

namespace strata::store {

namespace fs = std::filesystem;

fs::path resolve_store_root(const StoreRootInputs& in) {
    auto env = [&](const char* name) -> std::optional<std::string> {
        std::optional<std::string> v;
        if (in.getenv) {
            v = in.getenv(name);
        } else if (const char* s = std::getenv(name)) {
            v = std::string(s);
        }
        if (v && v->empty()) v.reset();
        return v;
    };
    fs::path root;
    if (!in.flag.empty()) {
        root = in.flag;
    } else if (auto r = env("STRATA_ROOT")) {
        root = *r;
    } else if (in.is_root.value_or(::geteuid() == 0)) {
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

}  // namespace strata::store
