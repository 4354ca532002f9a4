#include "store/digest.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

using namespace strata;
using namespace strata::store;

namespace {

constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Digest, KnownVectors) {
    EXPECT_EQ(sha256_of("abc").hex, kAbc);
    EXPECT_EQ(sha256_of("").hex, kEmpty);
    EXPECT_EQ(sha256_of("abc").str(), std::string("sha256:") + kAbc);
    EXPECT_EQ(sha256_of("abc").short_id(), "ba7816bf8f01");
}

TEST(Digest, StreamingEqualsOneShotAndCopiesAreIndependent) {
    std::string data(100000, 'x');
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 7);
    Sha256 h;
    h.update(data.substr(0, 12345));
    Sha256 peek(h);
    EXPECT_EQ(peek.finish(), sha256_of(data.substr(0, 12345)));
    h.update(data.substr(12345));
    EXPECT_EQ(h.finish(), sha256_of(data));
}

TEST(Digest, ParseAcceptsOnlyCanonicalSha256) {
    auto d = Digest::parse(std::string("sha256:") + kAbc);
    EXPECT_EQ(d.algorithm, "sha256");
    EXPECT_EQ(d.hex, kAbc);
    EXPECT_EQ(d, sha256_of("abc"));
    for (std::string bad :
         {std::string("sha256:") + std::string(kAbc).substr(1), std::string("sha256:") + kAbc + "0",
          std::string("SHA256:") + kAbc, std::string("sha512:") + kAbc, std::string(kAbc),
          std::string("sha256:") + std::string(64, 'A'), std::string("sha256:../../etc/passwd")}) {
        EXPECT_FALSE(Digest::try_parse(bad).has_value()) << bad;
        try {
            Digest::parse(bad);
            ADD_FAILURE() << "parsed " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::kParse);
        }
    }
}

TEST(Digest, Ordering) {
    auto a = Digest::parse("sha256:" + std::string(64, '0'));
    auto b = Digest::parse("sha256:" + std::string(64, 'f'));
    EXPECT_LT(a, b);
    EXPECT_NE(a, b);
}

}  // namespace
