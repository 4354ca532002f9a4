#include "executor/run_dirs.hpp"

#include <sys/stat.h>

#include <exception>

#include "base/error.hpp"

namespace strata::executor {

RunDirs RunDirsAhead::make() const {
    TempDir layer = TempDir::create(tmp_, "layer-");
    if (::chmod(layer.path().c_str(), 0755) != 0)
        throw system_error("chmod", layer.path().string());
    return {std::move(layer), TempDir::create(tmp_, "work-")};
}

void RunDirsAhead::make_ahead() {
    group_.submit([this] { ahead_.emplace(make()); });
}

RunDirs RunDirsAhead::take() {
    try {
        group_.wait();  // runs the task here if no thread has (none queued: returns)
    } catch (const std::exception&) {
    }
    if (ahead_) {
        RunDirs dirs = std::move(*ahead_);
        ahead_.reset();
        return dirs;
    }
    return make();
}

}  // namespace strata::executor
