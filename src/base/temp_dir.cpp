#include "base/temp_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "base/error.hpp"

namespace strata {

TempDir TempDir::create(const std::filesystem::path& parent, std::string_view prefix) {
    std::string tmpl = (parent / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw system_error("mkdtemp", tmpl);
    return TempDir(std::filesystem::path(tmpl));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        try {
            remove();
        } catch (...) {
        }
        path_ = std::move(other.path_);
        other.path_.clear();
    }
    return *this;
}

TempDir::~TempDir() {
    try {
        remove();
    } catch (...) {
        // A destructor must not throw; a leftover temp dir is harmless garbage.
    }
}

void TempDir::remove() {
    if (path_.empty()) return;
    auto p = std::move(path_);
    path_.clear();
    remove_tree(p);
}

void remove_tree(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (!ec) return;
    // Read-only directories (e.g. a layer's 0555 dirs when not root) block
    // unlinking their entries: make every directory writable and retry.
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
        std::error_code walk_ec;
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            ::chmod(path.c_str(), 0700);
            for (auto it = std::filesystem::recursive_directory_iterator(
                     path, std::filesystem::directory_options::skip_permission_denied, walk_ec);
                 !walk_ec && it != std::filesystem::recursive_directory_iterator();
                 it.increment(walk_ec)) {
                if (it->is_directory(walk_ec) && !it->is_symlink(walk_ec))
                    ::chmod(it->path().c_str(), 0700);
            }
        }
        ec.clear();
        std::filesystem::remove_all(path, ec);
    }
    if (ec) throw system_error("remove", path.string(), ec.value());
}

}  // namespace strata
