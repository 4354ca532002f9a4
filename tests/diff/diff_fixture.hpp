// Crafted images for the diff tests: layers described entry by entry (type,
// mode, owner, mtime, xattrs, content), written as uncompressed tars into an
// OCI layout directory that `strata diff oci:DIR` reads. Everything is fixed,
// so the same spec always gives the same digests (the JSON golden relies on it).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diff/image_source.hpp"
#include "store/digest.hpp"
#include "store/image_fixture.hpp"

namespace strata::difftest {

namespace fs = std::filesystem;

struct Ent {
    Ent(std::string n, char t = 'f', std::string d = "", unsigned m = 0644)
        : name(std::move(n)), type(t), data(std::move(d)), mode(m) {}
    std::string name;
    char type = 'f';   // f file, d dir, l symlink, h hardlink, c char device
    std::string data;  // file content; link target for l and h
    unsigned mode = 0644;
    int64_t uid = 0, gid = 0;
    int64_t mtime = 1700000000;
    std::map<std::string, std::string> xattrs;
};
using Layer = std::vector<Ent>;

inline std::string make_tar(const Layer& layer) {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
            return la_ssize_t(n);
        },
        nullptr);
    for (const auto& e : layer) {
        auto* en = archive_entry_new();
        archive_entry_set_pathname(en, e.name.c_str());
        archive_entry_set_perm(en, e.mode);
        archive_entry_set_uid(en, e.uid);
        archive_entry_set_gid(en, e.gid);
        archive_entry_set_mtime(en, e.mtime, 0);
        for (const auto& [k, v] : e.xattrs)
            archive_entry_xattr_add_entry(en, k.c_str(), v.data(), v.size());
        switch (e.type) {
            case 'd':
                archive_entry_set_filetype(en, AE_IFDIR);
                break;
            case 'l':
                archive_entry_set_filetype(en, AE_IFLNK);
                archive_entry_set_symlink(en, e.data.c_str());
                break;
            case 'h':
                archive_entry_set_filetype(en, AE_IFREG);
                archive_entry_set_hardlink(en, e.data.c_str());
                archive_entry_set_size(en, 0);
                break;
            case 'c':
                archive_entry_set_filetype(en, AE_IFCHR);
                archive_entry_set_rdevmajor(en, 1);
                archive_entry_set_rdevminor(en, 3);
                break;
            default:
                archive_entry_set_filetype(en, AE_IFREG);
                archive_entry_set_size(en, la_int64_t(e.data.size()));
        }
        archive_write_header(a, en);
        if (e.type == 'f') archive_write_data(a, e.data.data(), e.data.size());
        archive_entry_free(en);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

struct ImageSpec {
    std::vector<Layer> layers;
    std::vector<std::string> created_by;  // one per layer
    std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
    std::vector<std::string> cmd = {"sh"};
    std::string created = "2023-11-14T22:13:20Z";
};

// The base every test varies: three layers, the usual kinds of entries.
inline ImageSpec base_spec() {
    ImageSpec s;
    s.layers.push_back({{"etc", 'd', "", 0755},
                        {"etc/passwd", 'f', "root:x:0:0:root:/root:/bin/sh\n"},
                        {"etc/hostname", 'f', "box\n"},
                        {"bin", 'd', "", 0755},
                        {"bin/tool", 'f', "#!/bin/sh\necho tool\n", 0755},
                        {"bin/sh", 'l', "tool", 0777},
                        {"dev", 'd', "", 0755},
                        {"dev/null", 'c', "", 0666},
                        {"tmp", 'd', "", 01777}});
    s.layers.push_back({{"app", 'd', "", 0755},
                        {"app/config.txt", 'f', "a=1\nb=2\nc=3\nd=4\ne=5\n"},
                        {"app/data.bin", 'f', std::string("\x01\x02\x00\x03", 4)},
                        {"app/link", 'h', "app/config.txt"},
                        {"etc", 'd', "", 0755},
                        {"etc/extra", 'f', "extra\n"}});
    s.layers.push_back(
        {{"app", 'd', "", 0755}, {"app/run.sh", 'f', "#!/bin/sh\nexec app\n", 0755}});
    s.created_by = {"ADD rootfs.tar /", "COPY app /app", "RUN make run.sh"};
    return s;
}

// Writes `spec` as an OCI layout at `dir` (tagged "latest").
inline void write_oci(const fs::path& dir, const ImageSpec& spec) {
    fs::create_directories(dir / "blobs/sha256");
    auto put = [&](const std::string& bytes) {
        auto d = store::sha256_of(bytes);
        imagetest::write_file(dir / "blobs/sha256" / d.hex, bytes);
        return d;
    };
    nlohmann::json layers = nlohmann::json::array(), diff_ids = nlohmann::json::array(),
                   history = nlohmann::json::array();
    for (size_t i = 0; i < spec.layers.size(); ++i) {
        std::string tar = make_tar(spec.layers[i]);
        auto d = put(tar);
        layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                          {"digest", d.str()},
                          {"size", tar.size()}});
        diff_ids.push_back(d.str());
        history.push_back({{"created", spec.created}, {"created_by", spec.created_by.at(i)}});
    }
    nlohmann::json config = {{"architecture", "amd64"},
                             {"os", "linux"},
                             {"created", spec.created},
                             {"config", {{"Env", spec.env}, {"Cmd", spec.cmd}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                             {"history", history}};
    std::string config_bytes = config.dump();
    auto cd = put(config_bytes);
    nlohmann::json manifest = {{"schemaVersion", 2},
                               {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                               {"config",
                                {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                 {"digest", cd.str()},
                                 {"size", config_bytes.size()}}},
                               {"layers", layers}};
    std::string manifest_bytes = manifest.dump();
    auto md = put(manifest_bytes);
    nlohmann::json index = {
        {"schemaVersion", 2},
        {"manifests",
         {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
           {"digest", md.str()},
           {"size", manifest_bytes.size()},
           {"annotations", {{"org.opencontainers.image.ref.name", "latest"}}}}}}};
    imagetest::write_file(dir / "index.json", index.dump());
    imagetest::write_file(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
}

// Finds an entry of a spec by layer and name.
inline Ent& entry(ImageSpec& s, size_t layer, const std::string& name) {
    for (auto& e : s.layers.at(layer))
        if (e.name == name) return e;
    throw std::runtime_error("no entry " + name);
}

class DiffTest : public ::testing::Test {
  protected:
    fs::path a_dir() const { return dir_.path() / "a"; }
    fs::path b_dir() const { return dir_.path() / "b"; }
    fs::path root() const { return dir_.path() / "root"; }

    imagetest::RunResult diff_cli(const ImageSpec& a, const ImageSpec& b,
                                  std::vector<std::string> extra = {}) {
        write_oci(a_dir(), a);
        write_oci(b_dir(), b);
        std::vector<std::string> args = {"diff"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("oci:" + a_dir().string());
        args.push_back("oci:" + b_dir().string());
        return imagetest::strata(root(), args);
    }

    TempDir dir_ = imagetest::scratch("strata-diff-test-");
};

}  // namespace strata::difftest
