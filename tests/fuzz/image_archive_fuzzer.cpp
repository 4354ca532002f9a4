// libFuzzer target for `strata load` (store::load_archive): the input is an
// image archive — a docker-save tarball (either form) or an OCI layout in a
// tar, any compression, untrusted. This reads the tar (ArchiveReader over
// TarInput), manifest.json, index.json, oci-layout, manifests, indexes and
// image configs, and unpacks nothing outside the store.
//
// Each input is loaded into a fresh store `<box>/store`. Besides "no crash, no
// hang, only strata::Error", nothing may appear in `<box>` next to `store`,
// and a failed load must leave the store without images or names.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "fuzz_util.hpp"
#include "store/docker_archive_load.hpp"
#include "store/image_store.hpp"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const char* what, const fs::path& path) {
    std::fprintf(stderr, "image_archive_fuzzer: %s: '%s'\n", what, path.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    strata::TempDir box = strata::TempDir::create(strata::fuzz::scratch_root(), "archive-");
    const fs::path root = box.path() / "store";
    bool loaded = false;
    {
        strata::store::ImageStore store(root);
        strata::UniqueFd fd = strata::fuzz::memfd_of(data, size);
        strata::store::LoadOptions opts;
        opts.os = "linux";
        opts.architecture = "amd64";
        try {
            (void)strata::store::load_archive(store, fd.get(), "archive fuzz.tar", opts);
            loaded = true;
        } catch (const strata::Error& e) {
            if (e.kind() == strata::ErrorKind::kInternal) throw;
            strata::fuzz::note_refusal(e);
        }
    }
    for (const auto& entry : fs::directory_iterator(box.path()))
        if (entry.path().filename() != "store") fail("written outside the store", entry.path());
    if (!loaded) {
        const fs::path images = root / "images";
        if (fs::exists(images) && !fs::is_empty(images))
            fail("a failed load left an image record", images);
    }
    return 0;
}
