// Store-level helpers for the archive tests: import a rootfs, save to bytes,
// load from bytes.
#pragma once

#include <fcntl.h>

#include "base/unique_fd.hpp"
#include "store/docker_archive_load.hpp"
#include "store/docker_archive_save.hpp"
#include "store/export_image.hpp"
#include "store/image_fixture.hpp"
#include "store/image_import.hpp"

namespace strata::imagetest {

inline UniqueFd open_bytes(const TempDir& dir, const std::string& bytes,
                           const std::string& name = "in.tar") {
    write_file(dir.path() / name, bytes);
    UniqueFd fd(::open((dir.path() / name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw std::runtime_error("open");
    return fd;
}

inline store::ImageRecord import_tar(store::ImageStore& store, const fs::path& tar,
                                     const std::string& name, int64_t epoch = 1700000000) {
    UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
    store::ImportOptions opts;
    if (!name.empty()) opts.name = store::Reference::parse(name).with_default_tag();
    opts.source = tar.filename().string();
    opts.source_date_epoch = epoch;
    opts.changes = {"CMD [\"sh\"]"};
    return store::import_rootfs(store, fd.get(), opts).image;
}

inline std::string save_bytes(store::ImageStore& store, const std::vector<std::string>& args) {
    std::string out;
    store::write_archive(store, store::select_for_save(store, args), [&](const void* d, size_t n) {
        out.append(static_cast<const char*>(d), n);
    });
    return out;
}

// The image as `save` writes it: layers stored as plain tars leave
// gzip-compressed, under another manifest; the config (the image ID) is the same.
inline store::ImageRecord as_saved(store::ImageStore& store, const store::ImageRecord& image) {
    return store::export_image(store, image, {});
}

inline store::LoadReport load_bytes(store::ImageStore& store, const std::string& bytes,
                                    const store::LoadOptions& opts = {}) {
    auto dir = scratch();
    auto fd = open_bytes(dir, bytes);
    return store::load_archive(store, fd.get(), "archive test.tar", opts);
}

}  // namespace strata::imagetest
