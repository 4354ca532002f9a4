// GzipDecoder — the one place strata inflates gzip layers (pull's diffID
// check, unpacking, import, load, export of a gzip blob: everything that
// reads through Decompressor).
//
// Two engines, same bytes out, same errors:
// - ISA-L's igzip (Intel's Intelligent Storage Acceleration Library), 2.4×
//   zlib's speed on strata's layers here (docs/performance.md). Built in when its
//   header (Debian: libisal-dev) is found at build time; libisal.so.2 is
//   opened on first use, as libcurl and libzstd are (base/shared_library.hpp),
//   so the binary starts without it and falls back to zlib where it is absent.
// - zlib's inflate otherwise.
// STRATA_GZIP=zlib picks zlib where both exist (for comparisons).
//
// Framing is strata's, not the engine's, so both agree on it: members are
// read one after another as one stream (gzip -d, Go's gzip.Reader, libarchive
// do the same); after the last member only the end of input is accepted —
// bytes that do not start another gzip member are an error, as they are for
// Go's reader (what Docker and containerd pull with).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace strata::store {

class GzipDecoder {
  public:
    enum class Engine { kIsal, kZlib };

    // Whether this build has ISA-L and libisal.so.2 could be opened.
    static bool isal_available();
    // kIsal when available and STRATA_GZIP is not "zlib"; kZlib otherwise.
    static Engine default_engine();
    static std::string_view engine_name(Engine e);  // "isa-l" | "zlib"

    // `what` names the stream in errors ("layer sha256:…"). Engine kIsal when
    // it is not available throws Error(kSystem).
    explicit GzipDecoder(std::string what, Engine engine = default_engine());
    ~GzipDecoder();
    GzipDecoder(const GzipDecoder&) = delete;
    GzipDecoder& operator=(const GzipDecoder&) = delete;

    // Inflates from `in` (advancing it past what was consumed) into
    // out[0, cap) and returns the number of bytes written: 0 only when `in`
    // is used up. Corrupt data throws Error(kCorrupt): "WHAT: cannot
    // decompress: …", the same text for both engines.
    size_t inflate(std::string_view& in, char* out, size_t cap);
    // The same, but never starts another member: returns 0 once the current
    // one has ended (its CRC-32 and length checked; the bytes after it stay
    // in `in`, unread) or when `in` is used up. For readers that stop at the
    // end of the tar (ADD, `strata diff`) and need only the member holding it
    // to be whole.
    size_t inflate_member(std::string_view& in, char* out, size_t cap);
    // Whether a member has been started and not yet ended.
    bool in_member() const;
    // At the end of the input: throws Error(kCorrupt) when it ended inside a
    // member (a truncated stream) or before any byte.
    void finish() const;

    Engine engine() const;
    uint64_t total_in() const;   // compressed bytes consumed
    uint64_t total_out() const;  // bytes inflated

    struct Inflater;  // one member at a time (gzip_decoder.cpp)

  private:
    size_t inflate(std::string_view& in, char* out, size_t cap, bool next_member);
    void fail(int kind) const;

    std::string what_;
    std::unique_ptr<Inflater> engine_;
    std::string head_;     // the current member's first bytes (checked)
    size_t head_fed_ = 0;  // of those, given to the engine
    bool in_member_ = false;
    uint64_t members_ = 0;
    uint64_t member_start_ = 0;  // compressed offset of the current member
    uint64_t total_in_ = 0;
    uint64_t total_out_ = 0;
};

}  // namespace strata::store
