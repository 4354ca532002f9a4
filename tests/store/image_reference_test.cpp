// Image name parsing and normalisation, table-driven against Docker's rules.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/name_index_reference.hpp"

namespace strata::store {
namespace {

struct Case {
    const char* input;
    const char* full;      // Reference::str() after with_default_tag()
    const char* familiar;  // Reference::familiar() after with_default_tag()
};

TEST(Reference, NormalisesLikeDocker) {
    const std::string hex(64, 'e');
    const Case cases[] = {
        {"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
        {"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"docker.io/library/busybox:x", "docker.io/library/busybox:x", "busybox:x"},
        {"index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"user/app", "docker.io/user/app:latest", "user/app:latest"},
        {"docker.io/user/app:v1", "docker.io/user/app:v1", "user/app:v1"},
        {"localhost/app", "localhost/app:latest", "localhost/app:latest"},
        {"localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t"},
        {"quay.io/org/img", "quay.io/org/img:latest", "quay.io/org/img:latest"},
        {"my-registry.example.com:443/x_y.z__w--v:TAG_1.0-rc",
         "my-registry.example.com:443/x_y.z__w--v:TAG_1.0-rc",
         "my-registry.example.com:443/x_y.z__w--v:TAG_1.0-rc"},
        {"[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest"},
        {"library/library/x", "docker.io/library/library/x:latest", "library/library/x:latest"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.input);
        auto r = Reference::parse(c.input).with_default_tag();
        EXPECT_EQ(r.str(), c.full);
        EXPECT_EQ(r.familiar(), c.familiar);
        EXPECT_EQ(Reference::parse(r.str()), r);  // full form parses back to itself
    }
}

TEST(Reference, Digests) {
    const std::string hex(64, 'a');
    auto r = Reference::parse("busybox@sha256:" + hex);
    ASSERT_TRUE(r.digest);
    EXPECT_TRUE(r.tag.empty());
    EXPECT_FALSE(r.name_only());
    EXPECT_EQ(r.with_default_tag().tag, "");  // a digest reference gets no default tag
    EXPECT_EQ(r.familiar(), "busybox@sha256:" + hex);
    auto both = Reference::parse("busybox:1@sha256:" + hex);
    EXPECT_EQ(both.tag, "1");
    EXPECT_EQ(both.str(), "docker.io/library/busybox:1@sha256:" + hex);
}

TEST(Reference, RefusesWhatDockerRefuses) {
    const std::string hex(64, 'a');
    const char* bad[] = {"",   "Busybox", "busybox:", ":tag",        "busybox:-x", "a//b",
                         "-a", "a-",      "a..b",     "a@sha256:12", "a:b:c",      "a/B",
                         "/a", "a/",      "a b",      "host:port/a", "a:"};
    for (const char* s : bad) {
        SCOPED_TRACE(s);
        EXPECT_THROW(Reference::parse(s), Error);
        EXPECT_FALSE(Reference::try_parse(s));
    }
    EXPECT_THROW(Reference::parse(hex), Error);  // 64-hex repository names look like IDs
    EXPECT_NO_THROW(Reference::parse(hex.substr(0, 12)));
    EXPECT_THROW(Reference::parse(std::string(256, 'a')), Error);
    EXPECT_THROW(Reference::parse("a:" + std::string(129, 't')), Error);
    try {
        Reference::parse("Busybox");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        EXPECT_NE(std::string(e.what()).find("must be lowercase"), std::string::npos);
    }
}

TEST(Reference, FamiliarRepository) {
    EXPECT_EQ(Reference::parse("busybox").familiar_repository(), "busybox");
    EXPECT_EQ(Reference::parse("user/app").familiar_repository(), "user/app");
    EXPECT_EQ(Reference::parse("ghcr.io/x/y").familiar_repository(), "ghcr.io/x/y");
    EXPECT_EQ(Reference::parse("busybox").repository(), "docker.io/library/busybox");
}

TEST(Reference, IdPrefixes) {
    EXPECT_TRUE(looks_like_id("8a0ff742ec9d"));
    EXPECT_TRUE(looks_like_id("sha256:8a0f"));
    EXPECT_TRUE(looks_like_id(std::string(64, 'f')));
    EXPECT_FALSE(looks_like_id(std::string(65, 'f')));
    EXPECT_FALSE(looks_like_id("busybox"));
    EXPECT_FALSE(looks_like_id(""));
    EXPECT_FALSE(looks_like_id("ABC"));
}

}  // namespace
}  // namespace strata::store
