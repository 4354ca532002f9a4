// libFuzzer target for the layer tar reader (store::apply_layer over
// store::TarInput): the input is a layer as it comes from a registry or an
// image archive — a tar in any compression, untrusted.
//
// Each input is applied twice, with both whiteout modes, into a fresh
// directory `<box>/root`. Besides "no crash, no hang, only strata::Error",
// nothing may appear in `<box>` next to `root`: an entry that escaped the
// target through "..", an absolute name or a symlink would land there first.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "fuzz_util.hpp"
#include "store/layer_reader.hpp"

namespace fs = std::filesystem;

namespace {

void apply_once(const uint8_t* data, size_t size, strata::store::WhiteoutMode mode) {
    strata::TempDir box = strata::TempDir::create(strata::fuzz::scratch_root(), "layer-");
    const fs::path root = box.path() / "root";
    fs::create_directory(root);
    strata::UniqueFd fd = strata::fuzz::memfd_of(data, size);
    strata::store::ApplyOptions opts;
    opts.whiteouts = mode;
    try {
        (void)strata::store::apply_layer(fd.get(), root, opts);
    } catch (const strata::Error& e) {
        if (e.kind() == strata::ErrorKind::kInternal) throw;
        strata::fuzz::note_refusal(e);
    }
    for (const auto& entry : fs::directory_iterator(box.path())) {
        if (entry.path().filename() != "root") {
            std::fprintf(stderr, "layer_tar_fuzzer: '%s' written outside the target\n",
                         entry.path().c_str());
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    apply_once(data, size, strata::store::WhiteoutMode::kApply);
    apply_once(data, size, strata::store::WhiteoutMode::kOverlay);
    return 0;
}
