// A RUN step's upper directory (its layer's directory: 0755, as the merged
// root of any container over it shows /) and overlay work directory, both
// in the store's tmp/. The next RUN's pair is made on the thread pool while
// a RUN's command runs: two mkdirs off the path between two containers (an
// ext4 mkdir costs 0.05 ms and more where many inodes were just freed).
#pragma once

#include <filesystem>
#include <optional>

#include "base/temp_dir.hpp"
#include "base/thread_pool.hpp"

namespace strata::executor {

struct RunDirs {
    TempDir layer, work;
};

class RunDirsAhead {
  public:
    explicit RunDirsAhead(std::filesystem::path tmp_dir) : tmp_(std::move(tmp_dir)) {}

    // The pair made ahead, else made now (a failure of the one made ahead
    // comes again, and is reported, here).
    RunDirs take();
    // Starts making the next pair; take() comes before the next call.
    void make_ahead();

  private:
    RunDirs make() const;

    std::filesystem::path tmp_;
    std::optional<RunDirs> ahead_;
    TaskGroup group_;  // last: waited for before ahead_ goes
};

}  // namespace strata::executor
