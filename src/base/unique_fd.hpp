// UniqueFd — owns one file descriptor and closes it on destruction.
#pragma once

namespace strata {

class UniqueFd {
  public:
    explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const noexcept { return fd_; }
    // Gives up ownership: the caller closes the returned fd.
    int release() noexcept {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    // Closes the current fd (errors from close are ignored: the fd is gone
    // either way) and takes ownership of `fd`.
    void reset(int fd = -1) noexcept;

  private:
    int fd_;
};

}  // namespace strata
