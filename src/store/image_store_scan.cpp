#include "store/image_store_scan.hpp"

#include <archive_entry.h>

#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "store/safe_path.hpp"
#include "store/tar_input.hpp"
#include "store/tar_locale.hpp"

namespace strata::store {

namespace {

// Refuses `components` when one of its proper prefixes is a symlink the layer
// itself created: a tar writer emits real paths, so only a crafted layer
// writes through its own symlinks (the classic "symlink, then write through
// it" escape).
void check_not_through_symlink(const std::vector<std::string>& components,
                               const std::set<std::string>& symlinks, std::string_view what,
                               std::string_view entry) {
    if (symlinks.empty()) return;
    std::string prefix;
    for (size_t i = 0; i + 1 < components.size(); ++i) {
        if (i) prefix += '/';
        prefix += components[i];
        if (symlinks.count(prefix))
            throw Error(ErrorKind::kCorrupt,
                        fmt::format("{}: entry '{}' goes through symlink '{}' of the same layer",
                                    what, entry, prefix));
    }
}

LayerScan scan_tar(TarInput& in, std::string_view what) {
    ScopedUtf8Locale utf8;
    LayerScan scan;
    std::set<std::string> symlinks;
    while (struct archive_entry* e = in.next()) {
        ++scan.entries;
        std::string name = in.entry_name();
        std::vector<std::string> parts;
        try {
            parts = split_entry_path(name, name);
        } catch (const Error& err) {
            throw Error(ErrorKind::kCorrupt, fmt::format("{}: {}", what, err.what()));
        }
        if (parts.empty()) continue;  // "./"
        check_not_through_symlink(parts, symlinks, what, name);
        if (const char* link = archive_entry_hardlink(e)) {
            std::vector<std::string> target;
            try {
                target = split_entry_path(link, name);
            } catch (const Error& err) {
                throw Error(ErrorKind::kCorrupt,
                            fmt::format("{}: hardlink target '{}' escapes the layer: {}", what,
                                        link, err.what()));
            }
            check_not_through_symlink(target, symlinks, what, name);
            if (target.empty())
                throw Error(ErrorKind::kCorrupt,
                            fmt::format("{}: entry '{}' is a hardlink to the root", what, name));
            continue;
        }
        switch (archive_entry_filetype(e)) {
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(e);
                scan.unpacked_size += target ? std::string_view(target).size() : 0;
                symlinks.insert(join_path(parts));
                break;
            }
            case AE_IFREG:
                scan.unpacked_size += static_cast<uint64_t>(archive_entry_size(e));
                break;
            default:
                // A path that was a symlink stays suspect even if a later
                // entry replaces it: extractors differ on whether they follow.
                break;
        }
    }
    scan.diff_id = in.finish();
    return scan;
}

}  // namespace

LayerScan scan_layer(int fd, std::string_view what) {
    TarInput in(fd, std::string(what));
    return scan_tar(in, what);
}

LayerScan scan_layer_blob(const ContentStore& blobs, const Digest& digest, std::string_view what) {
    UniqueFd fd = blobs.open(digest);
    return scan_layer(fd.get(), what);
}

}  // namespace strata::store
