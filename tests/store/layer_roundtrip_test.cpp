// Layer export → apply → export: identical digests, the tree survives, the tar
// follows the reproducibility rules, and GNU tar reads it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/error.hpp"
#include "store/content_store.hpp"
#include "store/layer_fixture.hpp"
#include "store/layer_reader.hpp"
#include "store/layer_writer.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::store;
using namespace strata::store::testing;

namespace {

constexpr time_t kTime = 1700000000;

// Every kind of entry a layer carries. Root-only pieces (devices, owners,
// security.capability) are added when running as root.
void make_rich_tree(const fs::path& root, time_t t = kTime) {
    write_file(root / "a" / "file.txt", "hello\n");
    write_file(root / "a" / "exec.sh", "#!/bin/sh\necho hi\n", 0755);
    write_file(root / "a" / "setuid", "s", 04755);
    write_file(root / "empty", "");
    std::string big(3 << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>((i * 2654435761u) >> 13);
    write_file(root / "big.bin", big);
    write_file(root / "z-last", "last");
    fs::create_directories(root / "b" / "nested" / "deeper");
    ::chmod((root / "b" / "nested").c_str(), 0700);
    fs::create_symlink("file.txt", root / "a" / "link");
    fs::create_symlink("/etc/passwd", root / "abs-link");
    fs::create_directories(root / "c");
    fs::create_hard_link(root / "a" / "file.txt", root / "c" / "hard");
    fs::create_hard_link(root / "a" / "file.txt", root / "a" / "hard-same-dir");
    std::string long_dir(120, 'd');
    write_file(root / long_dir / (std::string(150, 'n') + ".txt"), "long name\n");
    write_file(root / "unicode-\xc3\xbc\xc3\xb1\xc3\xaf.txt", "utf-8 name\n");
    // "a-b" sorts before "a/..." bytewise ('-' < '/'), which DFS order would not do.
    write_file(root / "a-b", "dash");
    ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0640), 0);
    set_xattr(root / "a" / "file.txt", "user.note", "kept");
    if (is_root()) {
        ASSERT_EQ(::mknod((root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
        ASSERT_EQ(::mknod((root / "loop0").c_str(), S_IFBLK | 0660, makedev(7, 0)), 0);
        ASSERT_EQ(::lchown((root / "a" / "exec.sh").c_str(), 1234, 5678), 0);
        ASSERT_EQ(::lchown((root / "abs-link").c_str(), 42, 43), 0);
        ASSERT_EQ(::chown((root / "b" / "nested").c_str(), 1000, 1000), 0);
        ASSERT_EQ(::chmod((root / "a" / "setuid").c_str(), 04755), 0);  // chown cleared it
        set_xattr(root / "a" / "exec.sh", "security.capability", net_bind_capability());
    }
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
        set_mtime(it->path(), t);
}

std::string blob_bytes(ContentStore& cs, const LayerBlob& b) {
    return cs.read(b.digest);
}

LayerBlob export_dir(const fs::path& dir, ContentStore& cs, Compression c = Compression::kGzip,
                     std::optional<int64_t> sde = std::nullopt) {
    LayerWriteOptions o;
    o.compression = c;
    o.source_date_epoch = sde;
    return write_layer(dir, cs, o);
}

TEST(LayerRoundTrip, WriteReadWriteGivesIdenticalDigests) {
    for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
        SCOPED_TRACE(std::string(compression_name(c)));
        auto work = scratch();
        ContentStore cs(work.path() / "store");
        auto src = work.path() / "src";
        make_rich_tree(src);
        auto first = export_dir(src, cs, c);
        EXPECT_EQ(first.media_type, layer_media_type(c));
        EXPECT_EQ(first.size, cs.size(first.digest));

        auto dst = work.path() / "dst";
        fs::create_directories(dst);
        auto fd = cs.open(first.digest);
        auto diff_id = apply_layer(fd.get(), dst);
        EXPECT_EQ(diff_id, first.diff_id);
        EXPECT_EQ(describe_tree(src), describe_tree(dst));

        auto second = export_dir(dst, cs, c);
        EXPECT_EQ(second.digest, first.digest);
        EXPECT_EQ(second.diff_id, first.diff_id);
    }
}

TEST(LayerRoundTrip, CompressionChangesTheDigestButNotTheDiffId) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    make_rich_tree(work.path() / "src");
    auto gz = export_dir(work.path() / "src", cs, Compression::kGzip);
    auto zs = export_dir(work.path() / "src", cs, Compression::kZstd);
    auto raw = export_dir(work.path() / "src", cs, Compression::kNone);
    EXPECT_EQ(gz.diff_id, zs.diff_id);
    EXPECT_EQ(gz.diff_id, raw.diff_id);
    EXPECT_EQ(raw.digest, raw.diff_id);  // uncompressed: blob == tar
    EXPECT_EQ(raw.tar_size, raw.size);
    EXPECT_EQ(gz.tar_size, raw.size);
    EXPECT_EQ(zs.tar_size, raw.size);
    EXPECT_LT(gz.size, gz.tar_size);
    EXPECT_NE(gz.digest, zs.digest);
    EXPECT_EQ(sha256_of(blob_bytes(cs, raw)), raw.diff_id);

    auto g = blob_bytes(cs, gz);
    ASSERT_GE(g.size(), 10u);
    EXPECT_EQ(static_cast<unsigned char>(g[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(g[1]), 0x8b);
    EXPECT_EQ(g[3], 0) << "gzip header flags: no name, no comment";
    EXPECT_EQ(g.substr(4, 4), std::string(4, '\0')) << "gzip header mtime must be 0";
    auto z = blob_bytes(cs, zs);
    EXPECT_EQ(detect_compression(z.data(), z.size()), Compression::kZstd);
    // All three decompress to the same tar.
    EXPECT_EQ(read_tar(g).size(), read_tar(z).size());
    EXPECT_EQ(read_tar(blob_bytes(cs, raw)).size(), read_tar(g).size());
}

TEST(LayerRoundTrip, TarFollowsTheReproducibilityRules) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    auto src = work.path() / "src";
    make_rich_tree(src);
    auto blob = export_dir(src, cs, Compression::kNone);
    auto entries = read_tar(blob_bytes(cs, blob));
    ASSERT_FALSE(entries.empty());
    std::vector<std::string> names;
    for (const auto& e : entries) {
        std::string n = e.name;
        if (!n.empty() && n.back() == '/') n.pop_back();
        names.push_back(n);
        EXPECT_TRUE(e.uname.empty() && e.gname.empty()) << e.name << ": user/group names";
        EXPECT_FALSE(e.has_atime) << e.name;
        EXPECT_FALSE(e.has_ctime) << e.name;
        EXPECT_EQ(e.mtime, kTime) << e.name;
        EXPECT_FALSE(n.starts_with("/") || n.starts_with("./")) << e.name;
    }
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << "entries sorted bytewise by path";
    auto find = [&](const std::string& n) -> const TarEntry& {
        for (const auto& e : entries)
            if (e.name == n || e.name == n + "/") return e;
        throw std::runtime_error("no entry " + n);
    };
    // The first name of a hardlink group in sort order has the data.
    EXPECT_EQ(find("a/file.txt").content, "hello\n");
    EXPECT_EQ(find("a/hard-same-dir").hardlink, "a/file.txt");
    EXPECT_EQ(find("c/hard").hardlink, "a/file.txt");
    EXPECT_EQ(find("a/link").symlink, "file.txt");
    EXPECT_EQ(find("a/setuid").mode & 07777, 04755u);
    EXPECT_TRUE(S_ISFIFO(find("fifo").mode));
    EXPECT_EQ(find("a/file.txt").xattrs.at("user.note"), "kept");
    if (is_root()) {
        EXPECT_TRUE(S_ISCHR(find("null").mode));
        EXPECT_TRUE(S_ISBLK(find("loop0").mode));
        EXPECT_EQ(find("a/exec.sh").uid, 1234);
        EXPECT_EQ(find("a/exec.sh").gid, 5678);
        EXPECT_EQ(find("a/exec.sh").xattrs.at("security.capability"), net_bind_capability());
    }
}

TEST(LayerRoundTrip, OnlyLayerXattrsAreExported) {
    if (!is_root()) GTEST_SKIP() << "trusted.* xattrs need CAP_SYS_ADMIN";
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    auto src = work.path() / "src";
    write_file(src / "f", "x");
    set_xattr(src / "f", "user.keep", "1");
    set_xattr(src / "f", "trusted.overlay.origin", "junk");
    set_xattr(src / "f", "user.overlay.origin", "junk");
    set_xattr(src / "f", "trusted.other", "junk");
    auto entries = read_tar(blob_bytes(cs, export_dir(src, cs)));
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].xattrs.size(), 1u);
    EXPECT_EQ(entries[0].xattrs.count("user.keep"), 1u);
}

TEST(LayerRoundTrip, SourceDateEpochMakesMtimesIrrelevant) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    make_rich_tree(work.path() / "one", kTime);
    make_rich_tree(work.path() / "two", kTime + 86400);
    const int64_t sde = kTime - 1000;
    auto a = export_dir(work.path() / "one", cs, Compression::kGzip, sde);
    auto b = export_dir(work.path() / "two", cs, Compression::kGzip, sde);
    EXPECT_EQ(a.digest, b.digest);
    EXPECT_EQ(a.diff_id, b.diff_id);
    for (const auto& e : read_tar(blob_bytes(cs, a)))
        EXPECT_EQ(e.mtime, sde) << e.name;
    // Without SOURCE_DATE_EPOCH the mtimes show.
    EXPECT_NE(export_dir(work.path() / "one", cs).diff_id,
              export_dir(work.path() / "two", cs).diff_id);
    // Older files keep their mtime: it is a clamp, not a reset.
    auto c = export_dir(work.path() / "one", cs, Compression::kNone, kTime + 5);
    for (const auto& e : read_tar(blob_bytes(cs, c)))
        EXPECT_EQ(e.mtime, kTime) << e.name;
}

TEST(LayerRoundTrip, SameDigestFromAnotherProcess) {
    // Catches anything process-specific in the output (e.g. a PID in PAX
    // header names, a timestamp in the gzip header).
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    make_rich_tree(work.path() / "src");
    auto here = export_dir(work.path() / "src", cs);
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::sleep(1);  // a different second too
        std::string hex;
        try {
            ContentStore child(work.path() / "store");
            hex = export_dir(work.path() / "src", child).digest.hex;
        } catch (...) {
        }
        (void)!::write(pipefd[1], hex.data(), hex.size());
        ::_exit(0);
    }
    ::close(pipefd[1]);
    char buf[128] = {};
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    ::close(pipefd[0]);
    ::waitpid(pid, nullptr, 0);
    EXPECT_EQ(std::string(buf, n > 0 ? n : 0), here.digest.hex);
}

std::string run(const std::string& cmd, int* status) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    *status = ::pclose(p);
    return out;
}

TEST(LayerRoundTrip, GnuTarReadsOurOutput) {
    if (::access("/usr/bin/tar", X_OK) != 0 && ::system("command -v tar >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "GNU tar is not installed";
    int status = 0;
    if (run("tar --version 2>/dev/null", &status).find("GNU tar") == std::string::npos)
        GTEST_SKIP() << "tar is not GNU tar";
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    auto src = work.path() / "src";
    make_rich_tree(src);
    for (auto [c, flag] :
         {std::pair{Compression::kGzip, "-z"}, std::pair{Compression::kZstd, "--zstd"},
          std::pair{Compression::kNone, ""}}) {
        SCOPED_TRACE(std::string(compression_name(c)));
        if (c == Compression::kZstd && ::system("command -v zstd >/dev/null 2>&1") != 0) continue;
        auto blob = export_dir(src, cs, c);
        auto path = cs.blob_path(blob.digest).string();
        auto listing = run(std::string("tar ") + flag + " -tvf " + path + " 2>&1", &status);
        EXPECT_EQ(status, 0) << listing;
        EXPECT_NE(listing.find("a/file.txt"), std::string::npos) << listing;
        EXPECT_NE(listing.find("c/hard link to a/file.txt"), std::string::npos) << listing;
        EXPECT_NE(listing.find("a/link -> file.txt"), std::string::npos) << listing;
        EXPECT_EQ(listing.find("warning"), std::string::npos) << listing;
        // And extracts it to the same tree.
        auto out = work.path() / ("gnu-" + std::string(compression_name(c)));
        fs::create_directories(out);
        auto msg = run(std::string("tar ") + flag + " --xattrs --xattrs-include='*' -xpf " + path +
                           " -C " + out.string() + " 2>&1",
                       &status);
        EXPECT_EQ(status, 0) << msg;
        EXPECT_EQ(describe_tree(src), describe_tree(out));
    }
}

TEST(LayerRoundTrip, EmptyDirectoryGivesAValidEmptyLayer) {
    auto work = scratch();
    ContentStore cs(work.path() / "store");
    fs::create_directories(work.path() / "empty");
    auto blob = export_dir(work.path() / "empty", cs, Compression::kNone);
    auto tar = blob_bytes(cs, blob);
    EXPECT_EQ(tar, std::string(1024, '\0')) << "just the end-of-archive marker";
    auto dst = work.path() / "dst";
    fs::create_directories(dst);
    auto fd = cs.open(blob.digest);
    EXPECT_EQ(apply_layer(fd.get(), dst), blob.diff_id);
    EXPECT_TRUE(fs::is_empty(dst));
}

}  // namespace
