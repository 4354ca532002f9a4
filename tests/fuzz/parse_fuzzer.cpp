// libFuzzer target for the Dockerfile frontend: any input must either parse
// (and dump) or fail with a ParseError — never crash, hang or leak. What
// parses also survives the binary form a build keeps (ast_binary.hpp):
// decode(encode(ast)) == ast; and the input read as that binary form is
// decoded or refused with an Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/error.hpp"
#include "frontend/ast_binary.hpp"
#include "frontend/ast_json.hpp"
#include "frontend/instructions.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    try {
        strata::frontend::ParsedDockerfile parsed =
            strata::frontend::parse_dockerfile(input, "Dockerfile");
        (void)strata::frontend::dump_tree(parsed);
        for (const auto& w : parsed.warnings)
            (void)strata::frontend::render(w);
        const strata::frontend::Dockerfile df = strata::frontend::build_ast(parsed);
        (void)strata::frontend::to_json(df).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
        if (!(strata::frontend::decode_ast(strata::frontend::encode_ast(df)) == df)) std::abort();
    } catch (const strata::frontend::ParseError& e) {
        (void)strata::frontend::render(e.diagnostic());
    }
    try {
        (void)strata::frontend::decode_ast(input);
    } catch (const strata::Error&) {
    }
    return 0;
}
