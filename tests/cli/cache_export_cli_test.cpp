// strata build --cache-to / --cache-from through the real binary: which keys
// min and max export, a round trip through a directory and through a real
// docker-registry into an empty store (every step CACHED, the same image,
// only the final image's blobs fetched), hostile caches, an unreachable one.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/image_fixture.hpp"
#include "support/registry_fixture.hpp"

namespace strata::imagetest {
namespace {

using Json = nlohmann::json;

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// Stage "builder" makes two layers (one 200 KB of noise) that the final
// image does not contain; the final stage copies one small file from it.
constexpr const char* kDockerfile = R"(FROM scratch AS builder
COPY big /big
COPY a /a
FROM scratch
COPY --from=builder /a /a2
COPY b /b
)";

class CacheExportCli : public ::testing::Test {
  protected:
    void SetUp() override {
        ctx_ = dir_.path() / "ctx";
        fs::create_directories(ctx_);
        write_file(ctx_ / "Dockerfile", kDockerfile);
        write_file(ctx_ / "a", "aaa\n");
        write_file(ctx_ / "b", "bbb\n");
        std::string big;
        uint32_t x = 12345;
        for (int i = 0; i < 200000; ++i) {
            x = x * 1103515245 + 12345;
            big.push_back(static_cast<char>(x >> 24));
        }
        write_file(ctx_ / "big", big);
    }

    // Builds in store `name` with `extra` flags; the --metadata-file JSON.
    Json build(const std::string& name, std::vector<std::string> extra, RunResult* out = nullptr) {
        const fs::path meta = dir_.path() / (name + "-meta.json");
        std::vector<std::string> args = global_;
        args.insert(args.end(), {"build", "--progress", "plain", "--metadata-file", meta.string(),
                                 "-t", "app"});
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(ctx_.string());
        RunResult r = strata(root(name), args);
        if (out) *out = r;
        EXPECT_EQ(r.code, 0) << r.err;
        if (r.code != 0) return Json();
        return Json::parse(read_file(meta));
    }
    fs::path root(const std::string& name) const { return dir_.path() / name; }

    // step name → (cache key, outcome)
    static std::map<std::string, std::pair<std::string, std::string>> steps(const Json& meta) {
        std::map<std::string, std::pair<std::string, std::string>> out;
        for (const auto& s : meta["strata.build"]["steps"])
            if (s["outcome"] != "metadata")
                out[s["name"].get<std::string>()] = {s["cache_key"], s["outcome"]};
        return out;
    }
    // The keys and layer digests of the cache artifact in layout `d`.
    static Json layout_config(const fs::path& d) {
        const Json index = Json::parse(read_file(d / "index.json"));
        const std::string m = index["manifests"][0]["digest"];
        const Json manifest = Json::parse(read_file(d / "blobs/sha256" / m.substr(7)));
        const std::string c = manifest["config"]["digest"];
        return Json::parse(read_file(d / "blobs/sha256" / c.substr(7)));
    }
    static std::set<std::string> keys_of(const Json& config) {
        std::set<std::string> out;
        for (const auto& e : config["entries"])
            out.insert(e["key"].get<std::string>());
        return out;
    }
    // The blob digests a store holds.
    std::set<std::string> blobs_of(const std::string& name) const {
        std::set<std::string> out;
        for (const auto& e : fs::directory_iterator(root(name) / "blobs/sha256"))
            out.insert("sha256:" + e.path().filename().string());
        return out;
    }
    // The layer blob digests of the image `app` in store `name`.
    std::set<std::string> image_layers(const std::string& name) {
        RunResult r = strata(root(name), {"image", "inspect", "app"});
        EXPECT_EQ(r.code, 0) << r.err;
        std::set<std::string> out;
        const Json j = Json::parse(r.out);
        const Json& first = j.is_array() ? j[0] : j;
        for (const auto& l : first["RootFS"]["Layers"])
            out.insert(l.get<std::string>());
        return out;
    }

    TempDir dir_ = scratch("strata-cache-export-");
    fs::path ctx_;
    std::vector<std::string> global_;  // flags before `build`
};

TEST_F(CacheExportCli, MinExportsTheImageStagesAndMaxEveryStage) {
    const fs::path dmin = dir_.path() / "min", dmax = dir_.path() / "max";
    const Json meta = build("A", {"--cache-to", "type=local,dest=" + dmin.string()});
    build("A", {"--cache-to", "type=local,dest=" + dmax.string() + ",mode=max"});
    const auto s = steps(meta);
    ASSERT_EQ(s.size(), 4u) << meta.dump(2);
    struct Row {
        const char* step;
        bool in_min, in_max;
    };
    const Row table[] = {{"[builder 1/2] COPY big /big", false, true},
                         {"[builder 2/2] COPY a /a", false, true},
                         {"[stage-1 1/2] COPY --from=builder /a /a2", true, true},
                         {"[stage-1 2/2] COPY b /b", true, true}};
    const auto kmin = keys_of(layout_config(dmin)), kmax = keys_of(layout_config(dmax));
    for (const Row& row : table) {
        ASSERT_TRUE(s.contains(row.step)) << row.step << "\n" << meta.dump(2);
        const std::string& key = s.at(row.step).first;
        EXPECT_EQ(kmin.contains(key), row.in_min) << "min: " << row.step;
        EXPECT_EQ(kmax.contains(key), row.in_max) << "max: " << row.step;
    }
    EXPECT_EQ(kmin.size(), 2u);
    EXPECT_EQ(kmax.size(), 4u);
    // The artifact is deterministic: exporting the same entries again
    // writes the same manifest.
    const std::string index1 = read_file(dmax / "index.json");
    const Json config1 = layout_config(dmax);
    build("A", {"--cache-to", "type=local,dest=" + dmax.string() + ",mode=max"});
    EXPECT_EQ(read_file(dmax / "index.json"), index1) << config1.dump(1) << "\n"
                                                      << layout_config(dmax).dump(1);
    // The artifact's type and config type, as docs/cache-export.md says.
    const Json index = Json::parse(index1);
    EXPECT_EQ(index["manifests"][0]["artifactType"], "application/vnd.strata.build-cache.v1");
    EXPECT_TRUE(fs::exists(dmax / "oci-layout"));
}

TEST_F(CacheExportCli, LocalRoundTripIsAllCachedAndFetchesOnlyTheImageLayers) {
    const fs::path d = dir_.path() / "cache";
    const Json a = build("A", {"--cache-to", "type=local,dest=" + d.string() + ",mode=max"});
    RunResult rb;
    const Json b = build("B", {"--cache-from", "type=local,src=" + d.string()}, &rb);
    const auto sa = steps(a), sb = steps(b);
    ASSERT_EQ(sb.size(), 4u);
    for (const auto& [name, v] : sb) {
        EXPECT_EQ(v.second, "cached") << name << "\n" << rb.err;
        EXPECT_EQ(v.first, sa.at(name).first) << name;
    }
    EXPECT_EQ(b["containerimage.config.digest"], a["containerimage.config.digest"]);

    // B holds the final image's layers (gzip, as exported), its config and
    // manifest — and nothing of the builder stage's layers.
    const Json cfg = layout_config(d);
    std::set<std::string> final_blobs, builder_blobs;
    const std::string k_big = sa.at("[builder 1/2] COPY big /big").first;
    const std::string k_a = sa.at("[builder 2/2] COPY a /a").first;
    for (const auto& e : cfg["entries"]) {
        const std::string digest = cfg["layers"][e["layer"].get<size_t>()]["digest"];
        (e["key"] == k_big || e["key"] == k_a ? builder_blobs : final_blobs).insert(digest);
    }
    ASSERT_EQ(builder_blobs.size(), 2u);
    const auto held = blobs_of("B");
    for (const auto& bl : builder_blobs) {
        EXPECT_FALSE(held.contains(bl)) << "B fetched the builder stage's layer " << bl;
        EXPECT_FALSE(has(rb.err, bl)) << rb.err;
    }
    // The lazy fetch shows as a vertex naming each layer it fetched.
    EXPECT_TRUE(has(rb.err, "[internal] fetch layers from the build cache")) << rb.err;
    for (const auto& bl : final_blobs)
        EXPECT_TRUE(has(rb.err, bl + " ")) << rb.err;
    for (const auto& bl : final_blobs)
        EXPECT_TRUE(held.contains(bl)) << bl;
    EXPECT_EQ(held.size(), final_blobs.size() + 2) << "layers + config + manifest";

    // B's image works as any image: its rootfs exports.
    RunResult r = strata(root("B"), {"store", "check"});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
}

TEST_F(CacheExportCli, AChangedFileRebuildsOnlyTheStepsItAffects) {
    const fs::path d = dir_.path() / "cache";
    build("A", {"--cache-to", "type=local,dest=" + d.string() + ",mode=max"});
    write_file(ctx_ / "b", "changed\n");
    const auto s = steps(build("B", {"--cache-from", "type=local,src=" + d.string()}));
    EXPECT_EQ(s.at("[builder 1/2] COPY big /big").second, "cached");
    EXPECT_EQ(s.at("[builder 2/2] COPY a /a").second, "cached");
    EXPECT_EQ(s.at("[stage-1 1/2] COPY --from=builder /a /a2").second, "cached");
    EXPECT_EQ(s.at("[stage-1 2/2] COPY b /b").second, "built");
}

TEST_F(CacheExportCli, AnUnreachableCacheIsAWarningAndTheBuildGoesOn) {
    RunResult r;
    const Json meta = build("B",
                            {"--cache-from", "type=local,src=" + (dir_.path() / "nothing").string(),
                             "--cache-from", "type=registry,ref=127.0.0.1:9/none/cache:x"},
                            &r);
    EXPECT_TRUE(has(r.err, "WARNING: --cache-from type=local")) << r.err;
    EXPECT_TRUE(has(r.err, "WARNING: --cache-from type=registry")) << r.err;
    for (const auto& [name, v] : steps(meta))
        EXPECT_EQ(v.second, "built") << name;
}

TEST_F(CacheExportCli, AHostileCacheIsAnErrorOrAMissNeverAWrongLayer) {
    const fs::path d = dir_.path() / "cache";
    build("A", {"--cache-to", "type=local,dest=" + d.string() + ",mode=max"});
    const Json index = Json::parse(read_file(d / "index.json"));
    const std::string mdig = index["manifests"][0]["digest"];
    Json manifest = Json::parse(read_file(d / "blobs/sha256" / mdig.substr(7)));
    const Json config = layout_config(d);
    // Rewrites the artifact with `cfg` as its config (digests made to match,
    // as a hostile writer would).
    auto rewrite = [&](const Json& cfg, const fs::path& out) {
        fs::copy(d, out, fs::copy_options::recursive);
        const std::string ctext = cfg.dump();
        const std::string cd = store::sha256_of(ctext).str();
        write_file(out / "blobs/sha256" / cd.substr(7), ctext);
        Json m = manifest;
        m["config"]["digest"] = cd;
        m["config"]["size"] = ctext.size();
        const std::string mtext = m.dump();
        const std::string md = store::sha256_of(mtext).str();
        write_file(out / "blobs/sha256" / md.substr(7), mtext);
        Json idx = index;
        idx["manifests"][0]["digest"] = md;
        idx["manifests"][0]["size"] = mtext.size();
        write_file(out / "index.json", idx.dump());
    };

    // A key mapped to a layer index out of range: an error naming the cache.
    Json bad = config;
    bad["entries"][0]["layer"] = 99;
    const fs::path d1 = dir_.path() / "out-of-range";
    rewrite(bad, d1);
    RunResult r = strata(root("B1"),
                         {"build", "--cache-from", "type=local,src=" + d1.string(), ctx_.string()});
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, d1.string()) && has(r.err, "layer 99")) << r.err;

    // A layer whose diffID lies: the final image's layer is refused when it
    // is fetched (never published), with the layer and the cache named.
    Json liar = config;
    for (auto& l : liar["layers"])
        l["diffID"] = "sha256:" + std::string(64, '0');
    const fs::path d2 = dir_.path() / "lying-diffid";
    rewrite(liar, d2);
    r = strata(root("B2"), {"build", "-t", "app", "--cache-from", "type=local,src=" + d2.string(),
                            ctx_.string()});
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "diffID") && has(r.err, d2.string())) << r.err;
    EXPECT_NE(strata(root("B2"), {"image", "inspect", "app"}).code, 0) << "no image published";
    // The refused blobs are not left in the store.
    r = strata(root("B2"), {"store", "check"});
    EXPECT_EQ(r.code, 0) << r.out << r.err;

    // Not a strata cache at all.
    const fs::path d3 = dir_.path() / "not-a-cache";
    fs::create_directories(d3);
    write_file(d3 / "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    write_file(d3 / "index.json", "{\"schemaVersion\":2,\"manifests\":[]}");
    r = strata(root("B3"),
               {"build", "--cache-from", "type=local,src=" + d3.string(), ctx_.string()});
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(has(r.err, "names no strata build cache")) << r.err;
}

TEST_F(CacheExportCli, FlagsAreCheckedBeforeTheBuild) {
    for (const auto& [flag, value, needle] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"--cache-to", "type=local", "dest=DIR"},
             {"--cache-to", "type=gha", "type=gha is not supported"},
             {"--cache-to", "type=local,dest=/x,mode=all", "mode=all"},
             {"--cache-to", "type=local,dest=/x,compression=lz4", "lz4"},
             {"--cache-from", "type=local", "src=DIR"},
             {"--cache-from", "type=registry,ref=x/Upper", "invalid reference"},
         }) {
        RunResult r = strata(root("F"), {"build", flag, value, ctx_.string()});
        EXPECT_NE(r.code, 0) << flag << " " << value;
        EXPECT_TRUE(has(r.err, needle)) << flag << " " << value << ": " << r.err;
    }
}

// The same round trip through docker-registry (plain HTTP on 127.0.0.1):
// the registry takes the artifact, and the importing store GETs no blob of
// the builder stage.
TEST_F(CacheExportCli, RegistryRoundTripFetchesOnlyTheImageLayers) {
    std::string skip;
    auto reg = test::RegistryServer::start(test::RegistryServer::Mode::kPlainHttp, skip);
    if (!reg) GTEST_SKIP() << skip;
    const std::string ref = reg->host() + "/team/cache:main";
    global_ = {"--insecure-registry", reg->host()};
    const Json a = build("A", {"--cache-to", "type=registry,ref=" + ref + ",mode=max"});
    const Json b = build("B", {"--cache-from", "type=registry,ref=" + ref});
    const auto sa = steps(a), sb = steps(b);
    ASSERT_EQ(sb.size(), 4u);
    for (const auto& [name, v] : sb)
        EXPECT_EQ(v.second, "cached") << name;
    EXPECT_EQ(b["containerimage.config.digest"], a["containerimage.config.digest"]);

    std::vector<std::string> blob_gets;
    for (const auto& line : reg->requests())
        if (has(line, "GET /v2/team/cache/blobs/")) blob_gets.push_back(line);
    // The config and the final image's two layers; never a builder layer.
    EXPECT_EQ(blob_gets.size(), 3u);
    // Store B holds the image's 2 layers, its config and manifest.
    EXPECT_EQ(blobs_of("B").size(), 4u);
    // A second export of the same entries sends no blob bytes.
    reg->clear_log();
    build("A", {"--cache-to", "type=registry,ref=" + ref + ",mode=max"});
    for (const auto& line : reg->requests()) {
        EXPECT_FALSE(has(line, "PATCH") || (has(line, "PUT") && has(line, "/blobs/uploads/")))
            << line;
    }
}

}  // namespace
}  // namespace strata::imagetest

namespace strata::imagetest {
namespace {

// docker-registry takes an artifact without layers (a build whose steps only
// change the config), and importing it is a cache of nothing, not an error.
TEST_F(CacheExportCli, RegistryTakesACacheWithoutLayers) {
    std::string skip;
    auto reg = test::RegistryServer::start(test::RegistryServer::Mode::kPlainHttp, skip);
    if (!reg) GTEST_SKIP() << skip;
    write_file(ctx_ / "Dockerfile", "FROM scratch\nLABEL a=b\nENV X=1\n");
    const std::string ref = reg->host() + "/team/empty:main";
    global_ = {"--insecure-registry", reg->host()};
    RunResult r;
    build("A", {"--cache-to", "type=registry,ref=" + ref + ",mode=max"}, &r);
    EXPECT_TRUE(has(r.err, "exported build cache to " + ref + ": 0 entries, 0 layers")) << r.err;
    build("B", {"--cache-from", ref}, &r);
    EXPECT_FALSE(has(r.err, "WARNING")) << r.err;
}

}  // namespace
}  // namespace strata::imagetest

namespace strata::imagetest {
namespace {

// The fleet: runner A builds and exports every step (mode=max) to a
// registry; runners B and C start empty and import it. Both build with every
// step CACHED and download only what their final image needs (never the
// builder's 200 KB layer); a changed source file then makes only its step
// run on B. No --insecure-registry: 127.0.0.1 is insecure by Docker's rule.
TEST_F(CacheExportCli, FleetSharesWorkThroughARegistry) {
    std::string skip;
    auto reg = test::RegistryServer::start(test::RegistryServer::Mode::kPlainHttp, skip);
    if (!reg) GTEST_SKIP() << skip;
    const std::string ref = reg->host() + "/fleet/cache:main";
    const Json a = build("A", {"--cache-to", "type=registry,ref=" + ref + ",mode=max"});
    for (const std::string runner : {"B", "C"}) {
        SCOPED_TRACE(runner);
        reg->clear_log();
        const Json m = build(runner, {"--cache-from", "type=registry,ref=" + ref});
        const auto s = steps(m);
        ASSERT_EQ(s.size(), 4u);
        for (const auto& [name, v] : s)
            EXPECT_EQ(v.second, "cached") << name;
        EXPECT_EQ(m["containerimage.config.digest"], a["containerimage.config.digest"]);
        // What was downloaded: the config and the image's layers, a few KB;
        // the builder's 200 KB layer never.
        uint64_t bytes = 0;
        for (const auto& e : fs::directory_iterator(root(runner) / "blobs/sha256"))
            bytes += fs::file_size(e.path());
        EXPECT_LT(bytes, 50u * 1024) << "runner " << runner << " holds " << bytes << " bytes";
        size_t blob_gets = 0;
        for (const auto& line : reg->requests())
            blob_gets += has(line, "GET /v2/fleet/cache/blobs/");
        EXPECT_EQ(blob_gets, 3u);  // the cache config and the image's two layers
    }
    write_file(ctx_ / "b", "changed on B\n");
    const auto s = steps(build("B", {"--cache-from", "type=registry,ref=" + ref}));
    EXPECT_EQ(s.at("[builder 1/2] COPY big /big").second, "cached");
    EXPECT_EQ(s.at("[builder 2/2] COPY a /a").second, "cached");
    EXPECT_EQ(s.at("[stage-1 1/2] COPY --from=builder /a /a2").second, "cached");
    EXPECT_EQ(s.at("[stage-1 2/2] COPY b /b").second, "built");
}

}  // namespace
}  // namespace strata::imagetest
