// libFuzzer target for the layer tar reader (store::apply_layer over
// store::TarInput): the input is a layer as it comes from a registry or an
// image archive — a tar in any compression, untrusted.
//
// Each input is applied twice, with both whiteout modes, into a fresh
// directory `<box>/up1/up2/root`. Besides "no crash, no hang, only
// strata::Error", nothing may appear in `<box>` outside `root`, nor in the
// scratch directory next to `<box>`: an entry that escaped the target through
// "..", an absolute name, a symlink or a hardlink would land there.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "fuzz_util.hpp"
#include "store/layer_reader.hpp"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void escaped(const fs::path& path) {
    std::fprintf(stderr, "layer_tar_fuzzer: '%s' written outside the target\n", path.c_str());
    std::abort();
}

void apply_once(const uint8_t* data, size_t size, strata::store::WhiteoutMode mode) {
    strata::TempDir box = strata::TempDir::create(strata::fuzz::scratch_root(), "layer-");
    const fs::path root = box.path() / "up1" / "up2" / "root";
    fs::create_directories(root);
    strata::UniqueFd fd = strata::fuzz::memfd_of(data, size);
    strata::store::ApplyOptions opts;
    opts.whiteouts = mode;
    try {
        (void)strata::store::apply_layer(fd.get(), root, opts);
    } catch (const strata::Error& e) {
        if (e.kind() == strata::ErrorKind::kInternal) throw;
        strata::fuzz::note_refusal(e);
    }
    // Each directory on the way from the scratch root down to `root` holds
    // only the next one.
    const fs::path chain[] = {strata::fuzz::scratch_root(), box.path(), box.path() / "up1",
                              box.path() / "up1" / "up2", root};
    for (size_t i = 0; i + 1 < std::size(chain); ++i)
        for (const auto& entry : fs::directory_iterator(chain[i]))
            if (entry.path() != chain[i + 1]) escaped(entry.path());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    apply_once(data, size, strata::store::WhiteoutMode::kApply);
    apply_once(data, size, strata::store::WhiteoutMode::kOverlay);
    return 0;
}
