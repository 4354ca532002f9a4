// libFuzzer target for the Dockerfile frontend: any input must either parse
// (and dump) or fail with a ParseError — never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

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
        (void)strata::frontend::to_json(strata::frontend::build_ast(parsed))
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (const strata::frontend::ParseError& e) {
        (void)strata::frontend::render(e.diagnostic());
    }
    return 0;
}
