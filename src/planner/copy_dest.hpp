// Where a COPY or ADD writes: BuildKit's destination rule, in one place for
// the planner (cache key, plan) and the executor (the copy itself).
#pragma once

#include <string>
#include <string_view>

namespace strata::planner {

// The destination of `COPY src... dest` in working directory `workdir`, as
// BuildKit's file op sees it: dockerfile2llb's pathRelativeToWorkingDir
// (system.NormalizePath with keepSlash: a relative dest joined to the working
// directory, "" and "." taken as "./") followed by the file op's cleanPath
// (joined to "/" and cleaned). The result is absolute and clean except for
// its end, which keeps how the destination was written:
//   "dir/", "./", "", "."  → ".../dir/"   (a trailing '/': "into this directory")
//   "dir/."                → ".../dir/."  (also "into this directory": BuildKit
//                                         keeps "/." as written, and its copy
//                                         treats it exactly like "dir/")
//   "dir", "dir/.."        → ".../dir", "..." (no trailing slash)
//   "/", "/."              → "/", "/."
// A relative workdir is taken from "/" ("" is "/").
std::string copy_dest(std::string_view workdir, std::string_view dest);

// Whether a copy_dest() result names a directory by its spelling: it ends with
// '/' or "/." (the root "/" included).
bool copy_dest_is_dir(std::string_view resolved);

}  // namespace strata::planner
