#include "store/docker_archive_reader.hpp"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <vector>

#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "store/tar_input.hpp"
#include "store/tar_locale.hpp"

namespace strata::store {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxAliasHops = 40;

// "blobs/sha256/<64 hex>" → the digest.
std::optional<Digest> blob_name_digest(const std::string& name) {
    constexpr std::string_view prefix = "blobs/sha256/";
    if (name.size() != prefix.size() + 64 || name.compare(0, prefix.size(), prefix) != 0)
        return std::nullopt;
    return Digest::try_parse("sha256:" + name.substr(prefix.size()));
}

std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find('/', i);
        if (j == std::string_view::npos) j = s.size();
        out.emplace_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

}  // namespace

void ArchiveReader::refuse(std::string_view entry, std::string_view why) const {
    throw Error(ErrorKind::kCorrupt, fmt::format("{}: entry '{}': {}", what_, entry, why));
}

// Entry names are relative to the archive root; "." components and a
// leading "./" go, "..", absolute names and NUL bytes are refused.
std::string ArchiveReader::normalize(std::string_view name, std::string_view entry) const {
    if (name.find('\0') != std::string_view::npos) refuse(entry, "NUL byte in name");
    if (name.empty()) refuse(entry, "empty name");
    if (name.front() == '/') refuse(entry, "absolute path");
    std::string out;
    for (const auto& part : split(name)) {
        if (part.empty() || part == ".") continue;
        if (part == "..") refuse(entry, "'..' in path escapes the archive");
        if (!out.empty()) out += '/';
        out += part;
    }
    return out;
}

void ArchiveReader::check_not_through_link(const std::string& name) const {
    if (aliases_.empty()) return;
    std::string prefix;
    auto parts = split(name);
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        if (i) prefix += '/';
        prefix += parts[i];
        if (aliases_.count(prefix))
            refuse(name, fmt::format("path goes through link '{}'", prefix));
    }
}

ArchiveReader::ArchiveReader(int fd, std::string what, ContentStore& staging_blobs,
                             fs::path files_dir)
    : what_(std::move(what)), staging_(staging_blobs), files_dir_(std::move(files_dir)) {
    ScopedUtf8Locale utf8;
    std::error_code ec;
    fs::create_directories(files_dir_, ec);
    if (ec) throw system_error("create directory", files_dir_.string(), ec.value());
    TarInput in(fd, what_);
    bool any = false;
    while (::archive_entry* e = in.next()) {
        any = true;
        add_entry(e, in);
    }
    in.finish();
    if (!any) throw Error(ErrorKind::kCorrupt, fmt::format("{}: empty archive", what_));
}

void ArchiveReader::add_entry(::archive_entry* e, TarInput& in) {
    const std::string raw = in.entry_name();
    std::string name = normalize(raw, raw);
    if (name.empty()) return;  // "./"
    check_not_through_link(name);

    if (const char* hardlink = archive_entry_hardlink(e)) {
        std::string target = normalize(hardlink, raw);
        if (!blobs_.count(target) && !files_.count(target) && !aliases_.count(target))
            refuse(raw, fmt::format("hardlink to '{}', which is not an earlier entry", hardlink));
        aliases_[name] = target;
        return;
    }
    switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
            return;
        case AE_IFLNK: {
            const char* target = archive_entry_symlink(e);
            std::string_view t = target ? target : "";
            if (t.empty()) refuse(raw, "symlink without a target");
            if (t.front() == '/') refuse(raw, fmt::format("symlink to absolute path '{}'", t));
            // Resolve the target against the link's directory, lexically.
            std::vector<std::string> parts = split(name);
            parts.pop_back();
            for (const auto& p : split(t)) {
                if (p.empty() || p == ".") continue;
                if (p == "..") {
                    if (parts.empty())
                        refuse(raw, fmt::format("symlink to '{}' points outside the archive", t));
                    parts.pop_back();
                } else {
                    parts.push_back(p);
                }
            }
            std::string resolved;
            for (const auto& p : parts)
                resolved += (resolved.empty() ? "" : "/") + p;
            if (resolved.empty()) refuse(raw, "symlink to the archive root");
            aliases_[name] = resolved;
            return;
        }
        case AE_IFREG:
            break;
        default:
            refuse(raw,
                   "special files (devices, fifos, sockets) are not allowed in image archives");
    }

    aliases_.erase(name);
    if (auto digest = blob_name_digest(name)) {
        auto w = staging_.writer();
        in.read_data([&](const void* data, size_t n, int64_t) { w.write(data, n); });
        try {
            w.commit(*digest);
        } catch (const Error& err) {
            if (err.kind() != ErrorKind::kCorrupt) throw;
            refuse(raw, fmt::format("content does not match its digest ({})", err.what()));
        }
        files_.erase(name);
        blobs_[name] = *digest;
        return;
    }
    fs::path path = files_dir_ / name;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) refuse(raw, fmt::format("cannot stage it: {}", ec.message()));
    // Staging is scratch space: no fsync; a crash leaves it for prune.
    ::unlink(path.c_str());
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!out) throw system_error("create", path.string());
    in.read_data(
        [&](const void* data, size_t n, int64_t) { write_all(out.get(), data, n, path.string()); });
    blobs_.erase(name);
    files_.insert(name);
}

std::optional<ArchiveReader::Entry> ArchiveReader::find(std::string_view name_in) const {
    std::string name;
    try {
        name = normalize(name_in, name_in);
    } catch (const Error&) {
        return std::nullopt;
    }
    for (int hops = 0; hops <= kMaxAliasHops; ++hops) {
        auto alias = aliases_.find(name);
        if (alias != aliases_.end()) {
            name = alias->second;
            continue;
        }
        if (auto b = blobs_.find(name); b != blobs_.end()) return Entry{name, b->second, {}};
        if (files_.count(name)) return Entry{name, std::nullopt, files_dir_ / name};
        return std::nullopt;
    }
    refuse(name_in, "too many levels of symbolic links");
}

UniqueFd ArchiveReader::open(const Entry& entry) const {
    if (entry.blob) return staging_.open(*entry.blob);
    UniqueFd fd(::open(entry.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw system_error("open", entry.file.string());
    return fd;
}

std::string ArchiveReader::read_text(std::string_view name, size_t limit) const {
    auto entry = find(name);
    if (!entry) throw Error(ErrorKind::kCorrupt, fmt::format("{}: no entry '{}'", what_, name));
    auto fd = open(*entry);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("read", entry->name);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > limit)
            throw Error(
                ErrorKind::kCorrupt,
                fmt::format("{}: entry '{}' is too large for a JSON document", what_, name));
    }
    return out;
}

}  // namespace strata::store
