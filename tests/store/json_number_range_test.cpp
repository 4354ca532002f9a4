// A JSON number too large for a double (1e400) is a malformed document, not a
// crash: nlohmann reports it as out_of_range, not parse_error. Found by
// image_json_fuzzer (docs/fuzzing.md).
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "store/canonical_json.hpp"
#include "store/image_config.hpp"
#include "store/manifest.hpp"

namespace strata::store {
namespace {

template <typename Fn>
void expect_parse_error(Fn&& fn, const char* input) {
    try {
        fn();
        ADD_FAILURE() << "no error for " << input;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kParse) << e.what();
        EXPECT_NE(std::string(e.what()).find("invalid JSON"), std::string::npos) << e.what();
    }
}

TEST(JsonNumberRange, OverflowingNumbersAreParseErrors) {
    for (const char* text : {"1e400", "-1959.1E2322", R"({"schemaVersion": 2, "size": 1e999})",
                             R"({"architecture": "amd64", "x": [-1e400]})"}) {
        expect_parse_error([&] { (void)parse_json(text, "doc"); }, text);
        expect_parse_error([&] { (void)Manifest::parse(text, "manifest"); }, text);
        expect_parse_error([&] { (void)Index::parse(text, "index"); }, text);
        expect_parse_error([&] { (void)ImageConfig::parse(text, "config"); }, text);
        expect_parse_error([&] { (void)document_kind(text, "doc"); }, text);
    }
}

TEST(JsonNumberRange, LargeButFiniteNumbersStillParse) {
    EXPECT_NO_THROW((void)parse_json("[1e308, -1.7e308, 18446744073709551615]", "doc"));
}

}  // namespace
}  // namespace strata::store
