#include "executor/dockerfile_memo.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "base/atomic_file.hpp"
#include "base/build_id.hpp"
#include "base/error.hpp"
#include "frontend/ast_binary.hpp"
#include "store/digest.hpp"
#include "store/image_store_io.hpp"

namespace strata::executor {

namespace fs = std::filesystem;

namespace {

// Length-prefixed, so that no two (id, name, text) serialize alike.
std::string key_of(const std::string& text, const std::string& name) {
    std::string in = "strata-parsed-dockerfile 1\n";
    for (const std::string* part : {&binary_build_id(), &name, &text}) {
        in += std::to_string(part->size());
        in += ':';
        in += *part;
        in += '\n';
    }
    return store::sha256_of(in).hex;
}

}  // namespace

frontend::Dockerfile load_dockerfile_memoized(const fs::path& dir, const std::string& text,
                                              const std::string& name) {
    // Without a build ID another strata's parse could not be told apart.
    if (binary_build_id().empty()) return frontend::load_dockerfile(text, name);
    const fs::path file = dir / key_of(text, name);
    try {
        if (auto bytes = store::read_file_if_exists(file)) return frontend::decode_ast(*bytes);
    } catch (const Error&) {
        // Unreadable or not what encode_ast wrote: parsed again below.
    }
    frontend::Dockerfile df = frontend::load_dockerfile(text, name);
    try {
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            throw system_error("create", dir.string());
        write_file_atomic_unsynced(file, frontend::encode_ast(df));
    } catch (const Error&) {
        // Not kept: the next build parses again.
    }
    return df;
}

}  // namespace strata::executor
