#include "planner/copy_dest.hpp"

#include "base/go/path.hpp"

namespace strata::planner {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// system.NormalizePath(parent, p, "linux", keepSlash=true). An absolute p is
// taken as written (BuildKit does not clean it here; cleanPath does later).
std::string normalize_keep_slash(std::string_view parent, std::string_view p) {
    std::string dir = parent.empty() ? "/" : std::string(parent);
    if (dir[0] != '/') dir = go::path::join("/", dir);
    std::string out = p.empty() ? dir : std::string(p);
    if (out[0] != '/') out = go::path::join(dir, out);
    if (ends_with(p, "/") && !ends_with(out, "/")) {
        out += '/';
    } else if (ends_with(p, "/.")) {
        if (out != "/") out += '/';
        out += '.';
    }
    return out;
}

// The file op's cleanPath (solver/llbsolver/file/backend.go): joined to "/"
// and cleaned, a trailing "/." or '/' put back.
std::string file_op_clean(std::string_view s) {
    std::string out = go::path::join("/", s);
    if (ends_with(s, "/.")) {
        if (out != "/") out += '/';
        out += '.';
    } else if (ends_with(s, "/") && out != "/") {
        out += '/';
    }
    return out;
}

}  // namespace

std::string copy_dest(std::string_view workdir, std::string_view dest) {
    // pathRelativeToWorkingDir: "" is the working directory, not the root,
    // and both "" and "." mean "into it".
    if (dest.empty() || dest == ".") dest = "./";
    return file_op_clean(normalize_keep_slash(workdir, dest));
}

bool copy_dest_is_dir(std::string_view resolved) {
    return ends_with(resolved, "/") || ends_with(resolved, "/.");
}

}  // namespace strata::planner
