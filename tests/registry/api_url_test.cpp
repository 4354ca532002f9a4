#include "registry/api_url.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"
#include "registry/authenticator.hpp"

namespace strata::registry {
namespace {

Endpoint make(std::string domain, std::string host, std::string prefix, bool plain, bool mirror) {
    Endpoint ep;
    ep.domain = std::move(domain);
    ep.host = std::move(host);
    ep.path_prefix = std::move(prefix);
    ep.plain_http = plain;
    ep.mirror = mirror;
    return ep;
}

TEST(ApiUrl, RepositoryUrls) {
    Endpoint hub;
    hub.domain = "docker.io";
    hub.host = "registry-1.docker.io";
    EXPECT_EQ(api_root_url(hub), "https://registry-1.docker.io/v2/");
    EXPECT_EQ(repository_url(hub, "library/busybox", "manifests/latest"),
              "https://registry-1.docker.io/v2/library/busybox/manifests/latest");
    Endpoint local;
    local.domain = local.host = "127.0.0.1:5000";
    local.plain_http = true;
    EXPECT_EQ(repository_url(local, "a/b-c/d_e.f", "blobs/sha256:00"),
              "http://127.0.0.1:5000/v2/a/b-c/d_e.f/blobs/sha256:00");
    Endpoint mirror;
    mirror.domain = "docker.io";
    mirror.host = "mirror.example:8443";
    mirror.path_prefix = "/prefix";
    mirror.mirror = true;
    EXPECT_EQ(repository_url(mirror, "library/x", "blobs/uploads/"),
              "https://mirror.example:8443/prefix/v2/library/x/blobs/uploads/");
}

TEST(ApiUrl, InvalidRepositoriesRefused) {
    const Endpoint ep = make("h", "h", "", true, false);
    for (const char* bad : {"", "Upper", "a//b", "/a", "a/", "a/../b", "-a", "a b", "a?x", "a#b"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(repository_url(ep, bad, "manifests/x"), Error);
    }
}

TEST(ApiUrl, LocationResolution) {
    const std::string req = "https://reg.example:5000/v2/app/blobs/uploads/";
    // relative to the host, query (upload state) kept
    EXPECT_EQ(resolve_location(req, "/v2/app/blobs/uploads/uuid?_state=abc%3D"),
              "https://reg.example:5000/v2/app/blobs/uploads/uuid?_state=abc%3D");
    // absolute, even on another host
    EXPECT_EQ(resolve_location(req, "https://storage.example/up/1?sig=x"),
              "https://storage.example/up/1?sig=x");
    // scheme-relative
    EXPECT_EQ(resolve_location(req, "//other:1/x?y=1"), "https://other:1/x?y=1");
    // relative to the request's directory
    EXPECT_EQ(resolve_location(req, "uuid?_state=s"),
              "https://reg.example:5000/v2/app/blobs/uploads/uuid?_state=s");
    EXPECT_EQ(resolve_location("http://h/v2/a/blobs/uploads/u1?_state=q", "u2?_state=r"),
              "http://h/v2/a/blobs/uploads/u2?_state=r");
}

TEST(ApiUrl, QueryAppending) {
    EXPECT_EQ(add_query("http://h/u", "digest", "sha256:ab"), "http://h/u?digest=sha256%3Aab");
    EXPECT_EQ(add_query("http://h/u?_state=x", "digest", "sha256:ab"),
              "http://h/u?_state=x&digest=sha256%3Aab");
    EXPECT_EQ(add_query("http://h/t", "scope", "repository:a/b:pull,push"),
              "http://h/t?scope=repository%3Aa%2Fb%3Apull%2Cpush");
}

TEST(ApiUrl, AuthorityAndRedaction) {
    EXPECT_EQ(url_authority("https://Reg.Example:5000/v2/"), "reg.example:5000");
    EXPECT_EQ(url_authority("http://u:p@h/x"), "h");
    EXPECT_EQ(url_authority("/relative"), "");
    EXPECT_EQ(without_query("https://s3/b?X-Amz-Signature=secret#f"), "https://s3/b");
}

TEST(ApiUrl, Scopes) {
    EXPECT_EQ(repository_scope("library/busybox", false), "repository:library/busybox:pull");
    EXPECT_EQ(repository_scope("a/b", true), "repository:a/b:pull,push");
}

}  // namespace
}  // namespace strata::registry
