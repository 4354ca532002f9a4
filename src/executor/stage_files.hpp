// A stage's files before its last layer is stored. A stage that ends with a
// RUN has its filesystem complete once the command exits, but its result
// (StageResult: the layers' digests) only once that layer's tar is written
// and hashed. What reads the stage's files — a COPY --from, a RUN
// --mount=from= in another stage — needs the directories only: it reads
// them where they were made meanwhile, under a lease, and the stage moves
// its top directory into the layer store (LayerStore::adopt) once no lease
// is held. Readers that come after that use the stored layers.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace strata::executor {

// The directories of a stage's filesystem, lowest first, and what keeps
// them where they are: held while they are read (released by its
// destruction).
struct LeasedDirs {
    std::vector<std::filesystem::path> dirs;
    std::shared_ptr<void> lease;
};

class StageFiles {
  public:
    // The stage's steps have run: `dirs` is its whole filesystem. Once.
    void publish(std::vector<std::filesystem::path> dirs);
    // Whether close_when_unread() would return at once: no lease held, no
    // reader waiting.
    bool unread() const;
    // Before the stage moves or removes any of the published directories:
    // waits until no lease is held and every reader that was waiting for
    // the publication has its lease and gave it back; later readers get
    // nothing (they use the stage's result).
    void close_when_unread();
    // The stage ended (stored, failed or never started): readers waiting
    // for a publication stop waiting. Idempotent.
    void close();

    // Whether the stage has published or closed: lease() does not wait.
    bool settled() const;
    // The published directories under a lease; nullopt once closed or when
    // the stage ended without publishing. Waits while the stage runs; a
    // reader waiting when the stage publishes gets its lease.
    std::optional<LeasedDirs> lease();

  private:
    enum class State { kRunning, kPublished, kClosed };
    mutable std::mutex mu_;
    std::condition_variable cv_;
    State state_ = State::kRunning;
    std::vector<std::filesystem::path> dirs_;
    size_t leases_ = 0;
    size_t waiting_ = 0;  // readers in lease(), waiting for the publication
};

}  // namespace strata::executor
