// libFuzzer target for the JSON documents of images, all untrusted when they
// come from a registry or an archive: OCI/Docker manifests and indexes,
// image configs, the `oci-layout` file, index.json descriptors' image names,
// and the RFC 3339 timestamps configs carry. Every reader runs on every input.
//
// Besides "no crash, no hang, only Error(kParse)" (a stray nlohmann exception
// is a finding), what parses must survive a round trip: parse(canonical(x))
// equals x, and a parsed timestamp formats to text that parses back to it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "fuzz_util.hpp"
#include "store/image_config.hpp"
#include "store/image_config_time.hpp"
#include "store/manifest.hpp"
#include "store/oci_layout.hpp"

namespace store = strata::store;

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
    std::fprintf(stderr, "image_json_fuzzer: %s: %.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

// Runs `fn`, tolerating only the parse errors it is documented to throw.
template <typename Fn>
void expect_parse_error_only(Fn&& fn) {
    try {
        fn();
    } catch (const strata::Error& e) {
        if (e.kind() != strata::ErrorKind::kParse) throw;
        strata::fuzz::note_refusal(e);
    }
}

void check_manifest(std::string_view text) {
    store::Manifest m = store::Manifest::parse(text, "fuzz manifest");
    const std::string canonical = m.canonical();
    if (!(store::Manifest::parse(canonical, "fuzz manifest (round trip)") == m))
        fail("manifest round trip differs", canonical);
}

void check_index(std::string_view text) {
    store::Index index = store::Index::parse(text, "fuzz index");
    const std::string canonical = index.canonical();
    if (!(store::Index::parse(canonical, "fuzz index (round trip)") == index))
        fail("index round trip differs", canonical);
    for (const auto& d : index.manifests)
        (void)store::descriptor_image_name(d);
}

void check_config(std::string_view text) {
    store::ImageConfig config = store::ImageConfig::parse(text, "fuzz config");
    (void)config.non_empty_history();
    const std::string canonical = config.canonical();
    if (!(store::ImageConfig::parse(canonical, "fuzz config (round trip)") == config))
        fail("image config round trip differs", canonical);
    if (config.created) (void)store::parse_timestamp(*config.created);
}

void check_timestamp(std::string_view text) {
    auto t = store::parse_timestamp(text);
    if (!t) return;
    const std::string formatted = store::format_timestamp(*t);
    auto again = store::parse_timestamp(formatted);
    if (!again || *again != *t) fail("timestamp round trip differs", formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    expect_parse_error_only([&] { (void)store::document_kind(text, "fuzz document"); });
    expect_parse_error_only([&] { check_manifest(text); });
    expect_parse_error_only([&] { check_index(text); });
    expect_parse_error_only([&] { check_config(text); });
    expect_parse_error_only([&] { store::check_oci_layout(text, "fuzz oci-layout"); });
    if (size <= 64) check_timestamp(text);
    return 0;
}
