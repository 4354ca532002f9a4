// SafeRoot — resolves paths inside a directory the way a chroot would, without
// ever leaving it. Every write into an extraction target goes through here.
//
// The resolution is base/in_root.hpp's (openat2 RESOLVE_IN_ROOT where the
// kernel has it, else a walk with O_NOFOLLOW): a symlink met on the way is
// resolved from where it is (an absolute target starts again at the root).
// A `..` that would climb above the root is refused (InRootEscape::kRefuse),
// so a symlink pointing outside can neither be written through nor used as a
// hardlink source.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.hpp"

namespace strata::store {

// Splits a tar entry name into components: drops "." components, a leading
// "./" and trailing "/". Refuses (Error kCorrupt, naming `what`) absolute
// names, ".." components, empty names and NUL bytes. The root itself ("./")
// gives an empty vector.
std::vector<std::string> split_entry_path(std::string_view name, std::string_view what);

std::string join_path(const std::vector<std::string>& components);

class SafeRoot {
  public:
    explicit SafeRoot(const std::filesystem::path& root);

    int fd() const { return root_.get(); }
    const std::filesystem::path& path() const { return path_; }

    // The directory that contains the last component of `components`
    // (resolved inside the root), opened O_PATH, and that last component.
    // Missing intermediate directories are created (0755) when `create` is
    // set; otherwise a missing one gives a null `dir`. `entry` names the tar
    // entry in errors.
    struct Parent {
        UniqueFd dir;
        std::string leaf;
    };
    Parent open_parent(const std::vector<std::string>& components, bool create,
                       std::string_view entry) const;

    // The directory `components` itself, resolved fully (symlinks followed
    // inside the root), opened O_RDONLY | O_DIRECTORY. Null when missing and
    // !create.
    UniqueFd open_dir(const std::vector<std::string>& components, bool create,
                      std::string_view entry) const;

  private:
    std::filesystem::path path_;
    UniqueFd root_;
};

// Removes `name` in `dirfd` (recursively for a directory, never following
// symlinks). Missing is not an error. `what` names it in errors.
void remove_at(int dirfd, const std::string& name, std::string_view what);

// Removes every entry of the directory `dirfd` for which `keep(name)` is false.
template <typename Keep>
void remove_children_except(int dirfd, std::string_view what, Keep keep);

// Non-template core of remove_children_except.
std::vector<std::string> list_dir(int dirfd, std::string_view what);

template <typename Keep>
void remove_children_except(int dirfd, std::string_view what, Keep keep) {
    for (const auto& name : list_dir(dirfd, what))
        if (!keep(name)) remove_at(dirfd, name, what);
}

}  // namespace strata::store
