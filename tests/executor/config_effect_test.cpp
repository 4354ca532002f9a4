// How history times are filled in, as BuildKit's exporter does it (checked
// against an image BuildKit built here: metadata entries before the first
// new layer take that layer's time, later ones the time of the layer before
// them), and SOURCE_DATE_EPOCH's clamping.
#include <gtest/gtest.h>

#include "executor/config_effect.hpp"

namespace strata::executor {
namespace {

store::HistoryEntry h(std::optional<std::string> created, std::string by) {
    store::HistoryEntry e;
    e.created = std::move(created);
    e.created_by = std::move(by);
    return e;
}

TEST(HistoryTimes, FilledLikeBuildKit) {
    std::vector<store::HistoryEntry> hist = {h("2020-01-01T00:00:00Z", "base layer"),
                                             h("2020-01-01T00:00:01Z", "base config"),
                                             h(std::nullopt, "ENV A=1"),
                                             h("2024-05-01T10:00:00Z", "WORKDIR /app"),
                                             h("2024-05-01T10:00:05Z", "COPY . /app"),
                                             h(std::nullopt, "LABEL x=y"),
                                             h(std::nullopt, "CMD [\"sh\"]")};
    fill_history_times(hist);
    EXPECT_EQ(hist[2].created, "2024-05-01T10:00:00Z") << "the first new layer's time";
    EXPECT_EQ(hist[5].created, "2024-05-01T10:00:05Z") << "the layer before it";
    EXPECT_EQ(hist[6].created, "2024-05-01T10:00:05Z");
    EXPECT_EQ(last_history_time(hist), "2024-05-01T10:00:05Z");
}

TEST(HistoryTimes, OnlyMetadataStepsTakeTheLastTime) {
    std::vector<store::HistoryEntry> hist = {h("2020-01-01T00:00:00Z", "base"),
                                             h(std::nullopt, "ENV A=1")};
    fill_history_times(hist);
    EXPECT_EQ(hist[1].created, "2020-01-01T00:00:00Z");
}

TEST(HistoryTimes, SourceDateEpochClampsNewEntriesOnly) {
    store::ImageConfig c;
    c.history = {h("2030-01-01T00:00:00Z", "base from the future"),
                 h("2030-01-01T00:00:00Z", "COPY"), h("2000-01-01T00:00:00Z", "older COPY"),
                 h(std::nullopt, "ENV")};
    apply_source_date_epoch(c, 1, 1700000000);
    EXPECT_EQ(c.history[0].created, "2030-01-01T00:00:00Z") << "the base keeps its times";
    EXPECT_EQ(c.history[1].created, "2023-11-14T22:13:20Z");
    EXPECT_EQ(c.history[2].created, "2000-01-01T00:00:00Z") << "earlier times stay";
    EXPECT_EQ(c.history[3].created, "2023-11-14T22:13:20Z");
    EXPECT_EQ(c.created, "2023-11-14T22:13:20Z");
}

TEST(ConfigEffect, AppliedOntoTheImageConfig) {
    store::ImageConfig c = scratch_config({"linux", "arm", "v7"});
    EXPECT_EQ(c.variant, "v7");
    EXPECT_EQ(c.config.working_dir, "/");
    planner::ConfigEffect e;
    e.env = {{"A", "1"}, {"A", "2"}};
    e.labels = {{"k", "v"}};
    e.exposed_ports = {"80/tcp"};
    e.entrypoint = std::vector<std::string>{"/e"};
    e.clear_cmd = true;
    c.config.cmd = std::vector<std::string>{"old"};
    c.config.on_build = {"RUN x"};
    e.clear_onbuild = true;
    apply_effect(c, e);
    EXPECT_EQ(c.config.env, (std::vector<std::string>{"A=2"}));
    EXPECT_EQ(c.config.labels.at("k"), "v");
    EXPECT_FALSE(c.config.cmd.has_value()) << "ENTRYPOINT without CMD in the stage resets it";
    EXPECT_TRUE(c.config.on_build.empty());
    e = {};
    e.history = planner::ConfigEffect::History{"ENV A=2", true};
    add_history(c, e, std::nullopt);
    ASSERT_EQ(c.history.size(), 1u);
    EXPECT_EQ(c.history[0].comment, "buildkit.dockerfile.v0");
    EXPECT_TRUE(c.history[0].empty_layer);
}

TEST(ConfigEffect, BaseConfigDropsWhatBuildKitDoesNotCarry) {
    store::ImageConfig img = store::ImageConfig::parse(
        R"({"architecture":"amd64","os":"linux","created":"2020-01-01T00:00:00Z",)"
        R"("docker_version":"20.10","container_config":{"Cmd":["x"]},)"
        R"("config":{"Hostname":"abc","Env":["PATH=/bin"],"Cmd":["sh"]},)"
        R"("rootfs":{"type":"layers","diff_ids":[]}})");
    const auto c = base_config(img);
    EXPECT_FALSE(c.created.has_value());
    EXPECT_TRUE(c.extra.empty());
    EXPECT_TRUE(c.config.extra.empty());
    EXPECT_EQ(c.config.cmd, (std::vector<std::string>{"sh"}));
}

}  // namespace
}  // namespace strata::executor
