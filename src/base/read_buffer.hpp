// ReadBuffer — memory for read(2) to fill, not zeroed first.
//
// A zero-filled 1 MiB buffer (std::vector<char>(1 << 20)) is a fresh
// mapping that the memset faults in page by page, 256 faults, even when the
// reads that follow fill a few bytes of it: that was a fifth of strata's
// own CPU in a build of 50 small RUN steps (one layer written per step).
// Untouched, the pages of this one are faulted in only as reads reach them.
#pragma once

#include <cstddef>
#include <memory>

namespace strata {

class ReadBuffer {
  public:
    explicit ReadBuffer(size_t size)
        : data_(std::make_unique_for_overwrite<char[]>(size)), size_(size) {}

    char* data() { return data_.get(); }
    const char* data() const { return data_.get(); }
    size_t size() const { return size_; }

  private:
    std::unique_ptr<char[]> data_;
    size_t size_;
};

}  // namespace strata
