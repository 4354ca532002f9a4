#include "registry/registry_error.hpp"

#include <nlohmann/json.hpp>

#include "registry/api_url.hpp"

namespace strata::registry {

namespace {

// Error bodies are shown to the user: keep them to one short line.
std::string clip(std::string s, size_t max = 300) {
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (s.size() > max) s = s.substr(0, max) + "…";
    return s;
}

ErrorKind kind_for(long status) {
    if (status == 404) return ErrorKind::kNotFound;
    if (status == 400) return ErrorKind::kUsage;
    return ErrorKind::kSystem;
}

}  // namespace

std::string describe_error_body(std::string_view body) {
    if (body.empty()) return {};
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return {};
    auto it = j.find("errors");
    if (it == j.end() || !it->is_array()) return {};
    std::string out;
    for (const auto& e : *it) {
        if (!e.is_object()) continue;
        std::string code = e.value("code", std::string());
        std::string message = e.contains("message") && e["message"].is_string()
                                  ? e["message"].get<std::string>()
                                  : std::string();
        if (code.empty() && message.empty()) continue;
        if (!out.empty()) out += "; ";
        out += code.empty() ? message : message.empty() ? code : code + ": " + message;
    }
    return clip(out);
}

Error status_error(std::string_view what, const Endpoint& endpoint, const HttpResponse& response) {
    const std::string& host = endpoint.host;
    std::string msg =
        std::string(what) + ": " + host + " answered HTTP " + std::to_string(response.status);
    const std::string detail = describe_error_body(response.body);
    if (!detail.empty()) msg += " (" + detail + ")";
    switch (response.status) {
        case 401:
            msg +=
                ": authentication required or refused; run `strata login " + endpoint.domain + "`";
            break;
        case 403:
            msg +=
                ": access denied; check that your account may use this repository, or run "
                "`strata login " +
                endpoint.domain + "`";
            break;
        case 429:
            msg += ": too many requests; wait and try again";
            break;
        default:
            break;
    }
    return Error(kind_for(response.status), msg);
}

Error transfer_error(std::string_view what, const Endpoint& endpoint, std::string_view url,
                     const HttpResponse& response) {
    std::string msg = std::string(what) + ": ";
    if (is_tls_failure(response.curl_code)) {
        msg +=
            "TLS connection to " + endpoint.host + " failed: " + response.curl_error +
            ". If the registry uses a private CA, put it in " +
            (endpoint.tls.dir.empty() ? "/etc/docker/certs.d/" + endpoint.host : endpoint.tls.dir) +
            "/ca.crt; if it speaks plain HTTP or its certificate cannot be "
            "checked, mark it insecure (--insecure-registry " +
            endpoint.host + " or \"insecure-registries\" in /etc/docker/daemon.json)";
    } else if (is_connect_failure(response.curl_code)) {
        msg += "cannot connect to " + without_query(url) + ": " + response.curl_error +
               "; is the registry running and reachable?";
    } else {
        msg += without_query(url) + ": " + response.curl_error;
    }
    return Error(ErrorKind::kSystem, msg);
}

}  // namespace strata::registry
