// A FROM image the store lacks is pulled inside the resolve vertex
// ("[internal] load metadata for …"), and what the puller logs (BuildKit's
// per-layer lines, src/cli/transfer_progress.hpp) lands under that vertex.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "executor/store_image_resolver.hpp"

namespace strata::executor {
namespace {

class RecordingSink final : public ProgressSink {
  public:
    void started(int id, const std::string& name) override {
        add(std::to_string(id) + " start " + name);
    }
    void log(int id, std::string_view line) override {
        add(std::to_string(id) + " log " + std::string(line));
    }
    void cached(int id) override { add(std::to_string(id) + " cached"); }
    void done(int id, double) override { add(std::to_string(id) + " done"); }
    void failed(int id, double, const std::string& error) override {
        add(std::to_string(id) + " failed " + error);
    }
    void note(const std::string& text) override { add("note " + text); }

    std::vector<std::string> events() {
        std::lock_guard lock(mu_);
        return events_;
    }

  private:
    void add(std::string e) {
        std::lock_guard lock(mu_);
        events_.push_back(std::move(e));
    }
    std::mutex mu_;
    std::vector<std::string> events_;
};

TEST(ResolverPullLog, ThePullersLinesGoUnderTheResolveVertex) {
    TempDir dir = TempDir::create(std::filesystem::temp_directory_path(), "strata-resolver-pull-");
    store::ImageStore store(dir.path() / "root");
    RecordingSink sink;
    int next = 7;
    ImagePuller puller = [](const store::Reference& ref, const planner::Platform&,
                            const PullLog& log) -> store::ImageRecord {
        EXPECT_EQ(ref.str(), "docker.io/library/busybox");  // the puller adds :latest
        if (!log) throw Error(ErrorKind::kInternal, "the resolver gave the puller no log");
        log("resolve " + ref.with_default_tag().str() + "@sha256:00 done");
        log("sha256:11 1.0MB / 1.0MB 0.2s done");
        throw Error(ErrorKind::kNotFound, "no such registry here");
    };
    StoreImageResolver resolver(
        store, sink, [&] { return next++; }, puller);
    planner::Platform platform;
    platform.os = "linux";
    platform.architecture = "amd64";
    EXPECT_THROW(resolver.resolve("busybox", platform), Error);
    EXPECT_EQ(sink.events(),
              (std::vector<std::string>{
                  "7 start [internal] load metadata for docker.io/library/busybox:latest",
                  "7 log resolve docker.io/library/busybox:latest@sha256:00 done",
                  "7 log sha256:11 1.0MB / 1.0MB 0.2s done",
                  "7 failed no such registry here",
              }));
}

}  // namespace
}  // namespace strata::executor
