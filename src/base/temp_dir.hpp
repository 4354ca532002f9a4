// TempDir — a fresh directory that is removed, with everything in it, when
// the object goes away (unless keep() was called).
#pragma once

#include <filesystem>
#include <string_view>

namespace strata {

class TempDir {
  public:
    // Creates `<parent>/<prefix>XXXXXX` (mkdtemp, mode 0700). `parent` must exist.
    static TempDir create(const std::filesystem::path& parent, std::string_view prefix);

    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const { return path_; }
    // Do not remove the directory on destruction (e.g. after it was renamed
    // into its final place).
    void keep() { path_.clear(); }
    // Removes the directory now; errors are thrown (the destructor swallows them).
    void remove();

  private:
    explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
    std::filesystem::path path_;
};

// Removes `path` and everything below it without following symlinks, also
// when directories inside are read-only (their mode is fixed first). Missing
// `path` is not an error.
void remove_tree(const std::filesystem::path& path);

}  // namespace strata
