#include "registry/endpoint.hpp"

namespace strata::registry {

std::string Endpoint::base_url() const {
    return (plain_http ? "http://" : "https://") + host + path_prefix;
}

}  // namespace strata::registry
