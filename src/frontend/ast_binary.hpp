// The typed AST in a complete, compact binary form (CBOR), so that a build
// can keep the parse of a Dockerfile it has seen and skip ANTLR next time
// (executor/dockerfile_memo.hpp). Unlike to_json (ast_json.hpp, the user's
// `strata parse --format json`), every field is kept — source positions,
// flag and heredoc offsets, warnings — and decode(encode(df)) == df.
#pragma once

#include <string>
#include <string_view>

#include "frontend/instructions.hpp"

namespace strata::frontend {

std::string encode_ast(const Dockerfile& df);

// Throws Error(kParse) on anything that is not what encode_ast wrote (the
// caller reads that as "not cached"); never crashes on any input.
Dockerfile decode_ast(std::string_view bytes);

}  // namespace strata::frontend
