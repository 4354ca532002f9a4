// Running a docker-credential-NAME helper (base/run_program: under a
// deadline, killed and reaped on every way out) and reading its answer.
#include <fmt/format.h>

#include "base/error.hpp"
#include "base/run_program.hpp"
#include "registry/credentials.hpp"

namespace strata::registry {

namespace {

// docker-credential-helpers' credentials.errCredentialsNotFoundMessage.
constexpr std::string_view kNotFoundMessage = "credentials not found in native keychain";

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string redact(std::string s, std::string_view secret) {
    if (secret.empty()) return s;
    for (auto pos = s.find(secret); pos != std::string::npos; pos = s.find(secret, pos + 10))
        s.replace(pos, secret.size(), "<redacted>");
    return s;
}

}  // namespace

std::string run_credential_helper(const std::string& name, const std::string& action,
                                  std::string_view input, std::chrono::milliseconds timeout,
                                  std::string_view secret) {
    const std::string program = "docker-credential-" + name;
    const std::string what = fmt::format("{} {}", program, action);
    ProgramRun run;
    run.program = program;
    run.args = {action};
    run.input = input;
    run.timeout = timeout;
    ProgramResult result;
    try {
        result = run_program(run);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::kNotFound)
            throw Error(ErrorKind::kSystem,
                        fmt::format("credential helper {} is not installed (not found in PATH): "
                                    "install it, or remove \"{}\" from credsStore/credHelpers in "
                                    "the Docker client's config.json",
                                    program, name));
        throw Error(ErrorKind::kSystem, fmt::format("credential helper {}: {}", what, e.what()));
    }
    if (result.succeeded()) return result.out;

    // Helpers print their error on stdout (docker-credential-helpers'
    // Serve); some use stderr. Never the secret: redacted in case one echoes.
    const std::string said = trim(result.out), said_err = trim(result.err);
    if (said == kNotFoundMessage || said_err == kNotFoundMessage)
        throw Error(ErrorKind::kNotFound, fmt::format("{}: {}", what, kNotFoundMessage));
    std::string message = said;
    if (!said_err.empty()) message += (message.empty() ? "" : "; ") + said_err;
    throw Error(ErrorKind::kSystem,
                fmt::format("credential helper {} failed ({}){}{}", what, result.how(),
                            message.empty() ? "" : ": ", redact(message, secret)));
}

}  // namespace strata::registry
