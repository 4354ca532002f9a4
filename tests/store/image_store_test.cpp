// ImageStore: records, names, transactions, lookups, store root resolution.
#include <fcntl.h>
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/image_config_time.hpp"
#include "store/image_fixture.hpp"
#include "store/image_store.hpp"
#include "store/image_store_scan.hpp"
#include "store/layer_writer.hpp"
#include "store/store_root.hpp"

namespace strata::store {
namespace {

using namespace strata::imagetest;

LayerRecord add_layer(ImageStore& store, const std::string& tar_bytes) {
    auto dir = scratch();
    write_file(dir.path() / "l.tar", tar_bytes);
    auto blob = store_layer_tar(dir.path() / "l.tar", store.content(), StoreTarOptions{});
    auto scan = scan_layer_blob(store.content(), blob.digest, "layer");
    return LayerRecord{blob.digest, blob.diff_id, blob.size, blob.media_type, scan.unpacked_size};
}

ImageConfig config_for(std::string cmd) {
    ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    c.created = "2024-01-01T00:00:00Z";
    c.config.cmd = std::vector<std::string>{std::move(cmd)};
    return c;
}

ImageRecord make_image(ImageStore& store, const std::string& content, const std::string& cmd) {
    auto layer = add_layer(store, TarBuilder().dir("etc").file("etc/x", content).finish());
    return store.write_image(config_for(cmd), {layer});
}

TEST(StoreRoot, FollowsTheDocumentedOrder) {
    std::map<std::string, std::string> env;
    StoreRootInputs in;
    in.getenv = [&](const char* k) -> std::optional<std::string> {
        auto it = env.find(k);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    in.is_root = false;
    env["HOME"] = "/home/u";
    EXPECT_EQ(resolve_store_root(in), "/home/u/.local/share/strata");
    env["XDG_DATA_HOME"] = "relative/ignored";
    EXPECT_EQ(resolve_store_root(in), "/home/u/.local/share/strata");
    env["XDG_DATA_HOME"] = "/xdg";
    EXPECT_EQ(resolve_store_root(in), "/xdg/strata");
    in.is_root = true;
    EXPECT_EQ(resolve_store_root(in), "/var/lib/strata");
    env["STRATA_ROOT"] = "/env/root/";
    EXPECT_EQ(resolve_store_root(in), "/env/root");
    in.flag = "/flag";
    EXPECT_EQ(resolve_store_root(in), "/flag");
    in.flag = "rel";
    EXPECT_EQ(resolve_store_root(in), std::filesystem::current_path() / "rel");
    in.flag.clear();
    env.clear();
    in.is_root = false;
    EXPECT_THROW(resolve_store_root(in), Error);
}

TEST(NameIndex, SetGetRemoveAndPersist) {
    auto dir = scratch();
    NameIndex idx;
    auto d1 = sha256_of("one"), d2 = sha256_of("two");
    auto bb = Reference::parse("busybox").with_default_tag();
    auto bb2 = Reference::parse("busybox:2");
    auto other = Reference::parse("example.com/x:y");
    EXPECT_FALSE(idx.set(bb, d1, "t1"));
    EXPECT_EQ(idx.set(bb, d2, "t2"), d1);  // moved: the old target is reported
    idx.set(bb2, d2, "t3");
    idx.set(other, d1, "t4");
    EXPECT_EQ(idx.get(bb), d2);
    EXPECT_EQ(idx.names_of(d2).size(), 2u);
    EXPECT_EQ(idx.in_repository("docker.io/library/busybox").size(), 2u);
    write_file(dir.path() / "names.json", idx.serialize());
    auto loaded = NameIndex::load(dir.path() / "names.json");
    EXPECT_EQ(loaded.all(), idx.all());
    EXPECT_TRUE(loaded.remove(bb2));
    EXPECT_FALSE(loaded.remove(bb2));
    EXPECT_FALSE(loaded.get(bb2));
    EXPECT_EQ(NameIndex::load(dir.path() / "missing.json").size(), 0u);
    write_file(dir.path() / "bad.json", "{\"version\":1,\"names\":{\"Bad Name\":{}}}");
    try {
        NameIndex::load(dir.path() / "bad.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
        EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
    }
    EXPECT_THROW(idx.set(Reference::parse("busybox"), d1, ""), Error);  // untagged key
}

TEST(ImageStore, WriteImageProducesAConsistentRecord) {
    auto dir = scratch();
    ImageStore store(dir.path() / "root");
    auto rec = make_image(store, "hello", "sh");
    EXPECT_EQ(rec.manifest_media_type, media_type::kOciManifest);
    auto m = store.manifest(rec);
    EXPECT_EQ(m.config.digest, rec.config);
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_EQ(m.layers[0].digest, rec.layers[0].digest);
    auto cfg = store.config(rec);
    ASSERT_EQ(cfg.diff_ids.size(), 1u);
    EXPECT_EQ(cfg.diff_ids[0], rec.layers[0].diff_id);
    EXPECT_EQ(rec.layers[0].unpacked_size, 5u);
    EXPECT_EQ(rec.created, "2024-01-01T00:00:00Z");
    // Same input, same digests: configs and manifests are canonical.
    auto again = make_image(store, "hello", "sh");
    EXPECT_EQ(again.manifest, rec.manifest);
    EXPECT_EQ(again.config, rec.config);
    // Mismatched diff_ids are a bug in the caller.
    auto cfg2 = config_for("sh");
    cfg2.diff_ids = {sha256_of("nope")};
    EXPECT_THROW(store.write_image(cfg2, rec.layers), Error);
}

TEST(ImageStore, TransactionsPublishOnlyOnCommit) {
    auto dir = scratch();
    ImageStore store(dir.path() / "root");
    auto rec = make_image(store, "a", "sh");
    {
        auto txn = store.begin();
        txn.put_image(rec);
        txn.tag(Reference::parse("app"), rec.manifest);
        EXPECT_TRUE(txn.image(rec.manifest));
        // not committed
    }
    EXPECT_FALSE(store.image(rec.manifest));
    EXPECT_EQ(store.names().size(), 0u);
    {
        auto txn = store.begin();
        txn.put_image(rec);
        EXPECT_FALSE(txn.tag(Reference::parse("app"), rec.manifest));
        EXPECT_THROW(txn.tag(Reference::parse("other"), sha256_of("missing")), Error);
        EXPECT_THROW(txn.tag(Reference::parse("app@sha256:" + std::string(64, 'a')), rec.manifest),
                     Error);
        txn.commit();
    }
    ASSERT_TRUE(store.image(rec.manifest));
    EXPECT_EQ(*store.image(rec.manifest), rec);
    EXPECT_EQ(store.names().get(Reference::parse("app:latest")), rec.manifest);
    {
        auto txn = store.begin();
        txn.remove_image(rec.manifest);
        EXPECT_EQ(txn.names().size(), 0u);  // its names go with it
        txn.commit();
    }
    EXPECT_FALSE(store.image(rec.manifest));
    EXPECT_EQ(store.names().size(), 0u);
    EXPECT_TRUE(store.content().has(rec.manifest));  // blobs stay until prune
}

TEST(ImageStore, LookupByNameIdPrefixAndDigest) {
    auto dir = scratch();
    ImageStore store(dir.path() / "root");
    auto a = make_image(store, "a", "a");
    auto b = make_image(store, "b", "b");
    {
        auto txn = store.begin();
        txn.put_image(a);
        txn.put_image(b);
        txn.tag(Reference::parse("app:1"), a.manifest);
        txn.tag(Reference::parse("busybox"), b.manifest);
        txn.commit();
    }
    auto m = store.lookup("app:1");
    EXPECT_EQ(m.image.manifest, a.manifest);
    ASSERT_TRUE(m.name);
    EXPECT_EQ(m.name->familiar(), "app:1");
    EXPECT_EQ(store.lookup("busybox").image.manifest, b.manifest);
    EXPECT_EQ(store.lookup("docker.io/library/busybox:latest").image.manifest, b.manifest);
    auto by_id = store.lookup(a.config.hex.substr(0, 12));
    EXPECT_TRUE(by_id.by_id);
    EXPECT_FALSE(by_id.name);
    EXPECT_EQ(by_id.image.manifest, a.manifest);
    EXPECT_EQ(store.lookup(a.config.str()).image.manifest, a.manifest);
    EXPECT_EQ(store.lookup("sha256:" + b.config.hex.substr(0, 8)).image.manifest, b.manifest);
    EXPECT_EQ(store.lookup(b.manifest.str()).image.manifest, b.manifest);
    EXPECT_EQ(store.lookup("busybox@" + b.manifest.str()).image.manifest, b.manifest);
    auto expect_kind = [&](const std::string& text, ErrorKind kind) {
        try {
            store.lookup(text);
            ADD_FAILURE() << "found " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), kind) << text << ": " << e.what();
        }
    };
    expect_kind("app", ErrorKind::kNotFound);  // app:latest does not exist
    expect_kind("nothere", ErrorKind::kNotFound);
    expect_kind("busybox@" + a.config.str(), ErrorKind::kNotFound);
    expect_kind("sha256:" + std::string(64, '0'), ErrorKind::kNotFound);
    // A one-character prefix matching both IDs is ambiguous, unless they differ there.
    if (a.config.hex[0] == b.config.hex[0])
        expect_kind(a.config.hex.substr(0, 1), ErrorKind::kConflict);
    else
        EXPECT_EQ(store.lookup(a.config.hex.substr(0, 1)).image.manifest, a.manifest);
}

TEST(ImageStore, IgnoresLeftoversOfAnInterruptedWriter) {
    auto dir = scratch();
    ImageStore store(dir.path() / "root");
    auto rec = make_image(store, "a", "a");
    {
        auto txn = store.begin();
        txn.put_image(rec);
        txn.commit();
    }
    // What a kill -9 during write_file_atomic leaves: a temp file next to the target.
    write_file(store.images_dir() / ".deadbeef.json.tmpXYZ", "{partial");
    write_file(dir.path() / "root" / ".names.json.tmpABC", "{partial");
    std::vector<std::string> problems;
    auto images = store.images(&problems);
    EXPECT_TRUE(problems.empty());
    ASSERT_EQ(images.size(), 1u);
    EXPECT_EQ(store.names().size(), 0u);
    // A damaged record is reported, not fatal, when problems are collected.
    write_file(store.images_dir() / (std::string(64, 'd') + ".json"), "{not json");
    images = store.images(&problems);
    EXPECT_EQ(images.size(), 1u);
    EXPECT_EQ(problems.size(), 1u);
    EXPECT_THROW(store.images(), Error);
}

TEST(ImageStore, RecordForManifestChecksAgreement) {
    auto dir = scratch();
    ImageStore store(dir.path() / "root");
    auto rec = make_image(store, "a", "a");
    auto again = store.record_for_manifest(rec.manifest, rec.layers);
    again.added = rec.added;
    EXPECT_EQ(again, rec);
    auto wrong = rec.layers;
    wrong[0].diff_id = sha256_of("x");
    EXPECT_THROW(store.record_for_manifest(rec.manifest, wrong), Error);
    EXPECT_THROW(store.record_for_manifest(rec.manifest, {}), Error);
}

TEST(ImageStore, LocksExcludeEachOther) {
    auto dir = scratch();
    ImageStore store(dir.path() / "root");
    {
        auto lease = store.lease();
        auto lease2 = store.lease();  // leases share
        EXPECT_FALSE(LockFile::try_exclusive(dir.path() / "root" / "gc.lock"));
    }
    EXPECT_TRUE(LockFile::try_exclusive(dir.path() / "root" / "gc.lock"));
    auto txn = store.begin();
    EXPECT_FALSE(LockFile::try_exclusive(dir.path() / "root" / "lock"));
    txn.commit();
    EXPECT_TRUE(LockFile::try_exclusive(dir.path() / "root" / "lock"));
}

TEST(ImageStore, PermissionErrorsNameThePath) {
    auto dir = scratch();
    std::filesystem::create_directories(dir.path() / "ro");
    ::chmod(dir.path().c_str(), 0755);
    ::chmod((dir.path() / "ro").c_str(), 0555);
    // Root ignores directory permissions: try as nobody, in a child.
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) _exit(2);
        std::string msg;
        int code = 1;
        try {
            ImageStore store(dir.path() / "ro" / "root");
        } catch (const Error& e) {
            msg = e.what();
            code = e.kind() == ErrorKind::kSystem ? 0 : 3;
        }
        if (::write(pipefd[1], msg.data(), msg.size()) < 0) _exit(4);
        _exit(code);
    }
    ::close(pipefd[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0)
        msg.append(buf, size_t(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "no kSystem error; message: " << msg;
    EXPECT_NE(msg.find((dir.path() / "ro" / "root").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("Permission denied"), std::string::npos) << msg;
}

}  // namespace
}  // namespace strata::store
