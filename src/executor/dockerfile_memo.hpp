// A Dockerfile's parse, kept in the store, so that a build of a Dockerfile
// parsed before skips the parser (ANTLR's prediction and the typed AST:
// ~0.7 ms of a 10 ms rebuild after an edit of the context).
//
// <root>/cache/parsed/<hex>: the AST as ast_binary.hpp encodes it, keyed by
// sha256 of strata's build ID, the Dockerfile's name (it is in the AST's
// diagnostics) and its bytes. A hint, as the cache's entries are: written
// without fsync, and anything unreadable is a miss, parsed again and
// rewritten. A Dockerfile that fails to parse is never kept (its error is
// made again). `strata prune --build-cache` removes them (cache_index.cpp).
// Not CacheIndex's memos: those travel with `--cache-to`, and a parse is
// only good for the strata binary that made it.
#pragma once

#include <filesystem>
#include <string>

#include "frontend/instructions.hpp"

namespace strata::executor {

// frontend::load_dockerfile(text, name), or the parse kept in `dir` from an
// earlier call with the same build of strata, name and text.
frontend::Dockerfile load_dockerfile_memoized(const std::filesystem::path& dir,
                                              const std::string& text, const std::string& name);

}  // namespace strata::executor
