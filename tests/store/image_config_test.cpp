// The OCI image config model: parsing, writing, canonical form, timestamps.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"
#include "store/image_config.hpp"
#include "store/image_config_time.hpp"

namespace strata::store {
namespace {

const char* kDockerConfig = R"({
  "architecture": "amd64",
  "config": {
    "Hostname": "", "Domainname": "", "User": "app", "AttachStdin": false, "Tty": false,
    "Env": ["PATH=/usr/bin:/bin", "A=1"],
    "Cmd": ["sh"], "Entrypoint": null,
    "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
    "Volumes": {"/data": {}},
    "WorkingDir": "/srv", "Labels": {"b": "2", "a": "1"}, "StopSignal": "SIGTERM",
    "Shell": ["/bin/bash", "-c"], "OnBuild": ["RUN echo hi"], "ArgsEscaped": true,
    "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000, "Retries": 3}
  },
  "container": "abc",
  "created": "2024-01-02T03:04:05.123456789Z",
  "docker_version": "20.10.24",
  "history": [
    {"created": "2024-01-02T03:04:05Z", "created_by": "/bin/sh -c #(nop) ADD file:x in / "},
    {"created": "2024-01-02T03:04:06Z", "created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]", "empty_layer": true}
  ],
  "os": "linux",
  "rootfs": {"type": "layers", "diff_ids": ["sha256:00216fe498f9052634124f465da1f5968b61a9c287082c5b3b9367bcafacb61e"]}
})";

TEST(ImageConfig, ParsesEveryModelledField) {
    auto c = ImageConfig::parse(kDockerConfig);
    EXPECT_EQ(c.architecture, "amd64");
    EXPECT_EQ(c.os, "linux");
    EXPECT_EQ(c.created, "2024-01-02T03:04:05.123456789Z");
    EXPECT_EQ(c.config.user, "app");
    EXPECT_EQ(c.config.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "A=1"}));
    ASSERT_TRUE(c.config.cmd);
    EXPECT_EQ(*c.config.cmd, std::vector<std::string>{"sh"});
    EXPECT_FALSE(c.config.entrypoint);
    EXPECT_EQ(c.config.exposed_ports, (std::set<std::string>{"53/udp", "80/tcp"}));
    EXPECT_EQ(c.config.volumes, std::set<std::string>{"/data"});
    EXPECT_EQ(c.config.working_dir, "/srv");
    EXPECT_EQ(c.config.labels.at("a"), "1");
    EXPECT_EQ(c.config.stop_signal, "SIGTERM");
    EXPECT_EQ(*c.config.shell, (std::vector<std::string>{"/bin/bash", "-c"}));
    EXPECT_EQ(c.config.on_build, std::vector<std::string>{"RUN echo hi"});
    EXPECT_TRUE(c.config.args_escaped);
    ASSERT_TRUE(c.config.healthcheck);
    EXPECT_EQ(c.config.healthcheck->interval, 30000000000);
    EXPECT_EQ(c.config.healthcheck->retries, 3);
    ASSERT_EQ(c.diff_ids.size(), 1u);
    ASSERT_EQ(c.history.size(), 2u);
    EXPECT_TRUE(c.history[1].empty_layer);
    EXPECT_FALSE(c.history[0].empty_layer);
    EXPECT_EQ(c.non_empty_history(), 1u);
    // Unmodelled fields are kept.
    EXPECT_EQ(c.extra.at("docker_version"), "20.10.24");
    EXPECT_EQ(c.config.extra.at("Hostname"), "");
}

TEST(ImageConfig, RoundTripLosesNothing) {
    auto c = ImageConfig::parse(kDockerConfig);
    auto again = ImageConfig::from_json(c.to_json());
    EXPECT_EQ(c, again);
    // Every key of the original survives (empty Entrypoint null is omitted, as Go's omitempty
    // does).
    auto original = nlohmann::json::parse(kDockerConfig);
    auto written = c.to_json();
    for (const auto& [k, v] : original.items())
        EXPECT_TRUE(written.contains(k)) << k;
    for (const auto& [k, v] : original["config"].items())
        if (!v.is_null()) {
            EXPECT_TRUE(written["config"].contains(k)) << k;
        }
}

TEST(ImageConfig, CanonicalFormIsSortedCompactAndStable) {
    auto c = ImageConfig::parse(kDockerConfig);
    std::string s = c.canonical();
    // Compact: re-dumping the parsed text without indentation changes nothing.
    EXPECT_EQ(nlohmann::json::parse(s).dump(), s);
    EXPECT_EQ(s.find('\n'), std::string::npos);
    EXPECT_LT(s.find("\"architecture\""), s.find("\"config\""));
    EXPECT_LT(s.find("\"config\""), s.find("\"container\""));
    EXPECT_LT(s.find("\"os\""), s.find("\"rootfs\""));
    // Same content, different input order → same bytes and digest.
    auto reordered = nlohmann::json::parse(kDockerConfig);
    std::string text = reordered.dump(2);
    EXPECT_EQ(ImageConfig::parse(text).canonical(), s);
    EXPECT_EQ(sha256_of(ImageConfig::parse(text).canonical()), sha256_of(s));
}

TEST(ImageConfig, MinimalConfigFollowsOmitempty) {
    ImageConfig c;
    c.architecture = "arm64";
    c.os = "linux";
    EXPECT_EQ(
        c.canonical(),
        R"({"architecture":"arm64","config":{},"os":"linux","rootfs":{"diff_ids":[],"type":"layers"}})");
    c.config.cmd = std::vector<std::string>{};
    EXPECT_NE(c.canonical().find(R"("Cmd":[])"), std::string::npos);  // set-but-empty is kept
}

TEST(ImageConfig, MalformedFieldsAreParseErrorsNamingTheField) {
    auto expect_error = [](const char* json, const char* field) {
        try {
            ImageConfig::parse(json, "cfg");
            ADD_FAILURE() << "accepted " << json;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kParse);
            EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
        }
    };
    expect_error(R"({"os":"linux","config":{"Env":"A=1"}})", "Env");
    expect_error(R"({"os":"linux","config":{"Cmd":[1]}})", "Cmd");
    expect_error(R"({"os":"linux","rootfs":{"type":"layers","diff_ids":["md5:x"]}})", "diff_ids");
    expect_error(R"({"os":"linux","rootfs":{"type":"zfs"}})", "rootfs");
    expect_error(R"({"os":"linux","history":{}})", "history");
    expect_error(R"([1,2])", "cfg");
    expect_error(R"({"os":)", "cfg");
}

TEST(ImageConfig, EnvHelpersFollowDockerRules) {
    ContainerConfig c;
    c.set_env("PATH", "/bin");
    c.set_env("A", "1");
    c.set_env("PATH", "/usr/bin");
    EXPECT_EQ(c.env, (std::vector<std::string>{"PATH=/usr/bin", "A=1"}));
    EXPECT_EQ(c.env_value("A"), "1");
    EXPECT_FALSE(c.env_value("B"));
}

TEST(ImageConfig, PlatformNames) {
    EXPECT_EQ(platform_from_machine("x86_64").architecture, "amd64");
    EXPECT_EQ(platform_from_machine("aarch64").architecture, "arm64");
    auto arm = platform_from_machine("armv7l");
    EXPECT_EQ(arm.architecture, "arm");
    EXPECT_EQ(arm.variant, "v7");
    EXPECT_EQ(host_platform().os, "linux");
    EXPECT_FALSE(host_platform().architecture.empty());
}

TEST(Timestamps, FormatAndParseLikeGo) {
    EXPECT_EQ(format_timestamp({0, 0}), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_timestamp({1700000000, 500000000}), "2023-11-14T22:13:20.5Z");
    EXPECT_EQ(format_timestamp({1700000000, 123}), "2023-11-14T22:13:20.000000123Z");
    auto t = parse_timestamp("2023-11-14T22:13:20.5Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->seconds, 1700000000);
    EXPECT_EQ(t->nanos, 500000000);
    auto offset = parse_timestamp("2023-11-14T23:13:20+01:00");
    ASSERT_TRUE(offset);
    EXPECT_EQ(offset->seconds, 1700000000);
    EXPECT_FALSE(parse_timestamp(""));
    EXPECT_FALSE(parse_timestamp("2023-11-14"));
    EXPECT_FALSE(parse_timestamp("2023-13-14T00:00:00Z"));
    EXPECT_FALSE(parse_timestamp("2023-11-14T00:00:00"));
    auto now = now_timestamp();
    EXPECT_EQ(parse_timestamp(format_timestamp(now)), now);
}

TEST(CanonicalJson, RejectsInvalidUtf8AndKeepsValidUtf8) {
    nlohmann::json j = {{"k", std::string("\xff\xfe")}};
    EXPECT_THROW(canonical_json(j), Error);
    nlohmann::json ok = {{"b", "ü"}, {"a", 1}};
    EXPECT_EQ(canonical_json(ok), "{\"a\":1,\"b\":\"ü\"}");
    EXPECT_THROW(parse_json("{", "x"), Error);
}

}  // namespace
}  // namespace strata::store
