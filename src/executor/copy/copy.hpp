// The COPY/ADD engine's one public header: everything the rest of strata
// uses of src/executor/copy/. The other headers in this folder are internal
// to it (unit tests in tests/executor/ may include them).
//
// The entry point is run_copy_step(): the stage runner hands it a planned
// COPY/ADD, the view it reads (build context, stage, image or scratch), the
// stage's filesystem so far and an empty layer directory to write into.
// Besides that, the graph runner uses from here:
//   - the views (SourceView, LayerStackView, BuildContext) it builds the
//     sources from (copy_step.hpp includes source_view.hpp);
//   - BuildDigester: the content of COPY/ADD sources for cache keys;
//   - make_workdir: WORKDIR, the other file operation run without a
//     container, written with the same destination rules as COPY.
// docs/copy-add.md has the rules with examples.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "executor/copy/copy_step.hpp"
#include "executor/copy/source_digester.hpp"
#include "executor/copy/source_view.hpp"
#include "executor/copy/workdir_step.hpp"
#include "planner/build_plan.hpp"

namespace strata::executor {

// Performs the planned COPY/ADD `step` (variables already expanded): reads
// `source`, looks at `parent` (the stage before this step) and writes the
// result into the empty directory `layer_dir`. Every entry written gets
// `source_date_epoch` as its mtime when set. Throws strata::Error naming
// the source, path or flag on any problem; `layer_dir` is then left
// half-written and the caller discards it.
CopyResult run_copy_step(const planner::CopyStep& step, const SourceView& source,
                         const LayerStackView& parent, const std::filesystem::path& layer_dir,
                         const CopyEnvironment& env, std::optional<int64_t> source_date_epoch);

// Where a COPY written straight to its layer tar (CopyEnvironment::direct)
// makes its scratch tree: the directories, symlinks and special files of the
// layer, tarred with the recorded files and removed right after. A private
// (0700) directory on a tmpfs (/dev/shm) when there is one that takes user
// xattrs, made once per process (named for it: base/owner_name.hpp, so that
// the next process removes the one a killed strata left) and removed at exit: there a directory
// costs microseconds to make and remove, where ext4 mounted with `discard` spends ~3 ms on each
// rmdir. Else `store_tmp`.
std::filesystem::path direct_copy_scratch(const std::filesystem::path& store_tmp);

// Also used outside a COPY step (declared with their neighbours in
// archive_extract.hpp and owner.hpp):
// ADD's archive detection; the CLI uses it for a build context on stdin.
bool is_tar_archive(int fd);
// A decimal uid/gid ("1000"); RUN uses it for cache mount uid=/gid=.
std::optional<uint32_t> parse_id(std::string_view text);

}  // namespace strata::executor
