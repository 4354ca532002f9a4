// Reading tar archives in tests (libarchive, any compression): the members of
// a saved image archive, the entries of a layer or of a rootfs export.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace strata::imagetest {

struct TarEntry {
    std::string name;
    int64_t mtime = 0;
    unsigned mode = 0;  // with the file type bits
    std::string data;   // regular files
};

inline std::vector<TarEntry> read_tar(const std::string& bytes) {
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
        archive_read_free(a);
        throw std::runtime_error("not a readable tar");
    }
    std::vector<TarEntry> out;
    struct archive_entry* e = nullptr;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        TarEntry t;
        t.name = archive_entry_pathname(e);
        t.mtime = archive_entry_mtime(e);
        t.mode = archive_entry_mode(e);
        char buf[65536];
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
            t.data.append(buf, static_cast<size_t>(n));
        out.push_back(std::move(t));
    }
    archive_read_free(a);
    if (r != ARCHIVE_EOF) throw std::runtime_error("tar ends early");
    return out;
}

inline std::map<std::string, std::string> tar_members(const std::string& bytes) {
    std::map<std::string, std::string> out;
    for (auto& e : read_tar(bytes))
        out[e.name] = std::move(e.data);
    return out;
}

}  // namespace strata::imagetest
