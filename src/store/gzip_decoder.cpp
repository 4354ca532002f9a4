#include "store/gzip_decoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include "base/error.hpp"

#ifdef STRATA_HAVE_ISAL
#include <isa-l/igzip_lib.h>

#include "base/shared_library.hpp"
#endif

namespace strata::store {

namespace {

enum Status { kOk, kMemberEnd, kBadHeader, kBadData, kBadCheck };

// gzip's fixed header start (RFC 1952): ID1 ID2 CM FLG. Checked here, before
// either engine sees the member, so both refuse the same headers.
constexpr size_t kHeadCheck = 4;
constexpr unsigned char kFlagReserved = 0xe0;

}  // namespace

// One engine, one member at a time: header, deflate data and trailer (CRC-32
// and length, verified).
struct GzipDecoder::Inflater {
    virtual ~Inflater() = default;
    virtual GzipDecoder::Engine engine() const = 0;
    virtual void reset() = 0;
    // Consumes from `in`, writes to out[0, cap), sets `produced`.
    virtual Status step(std::string_view& in, char* out, size_t cap, size_t& produced) = 0;
};

namespace {

class ZlibInflater final : public GzipDecoder::Inflater {
  public:
    ZlibInflater() {
        std::memset(&z_, 0, sizeof z_);
        // 16 + 15: a gzip wrapper only (not zlib's), a 32 KiB window.
        if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
    }
    ~ZlibInflater() override { inflateEnd(&z_); }

    GzipDecoder::Engine engine() const override { return GzipDecoder::Engine::kZlib; }
    void reset() override { inflateReset(&z_); }

    Status step(std::string_view& in, char* out, size_t cap, size_t& produced) override {
        const auto given = static_cast<uInt>(std::min<size_t>(in.size(), UINT_MAX));
        const auto room = static_cast<uInt>(std::min<size_t>(cap, UINT_MAX));
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = given;
        z_.next_out = reinterpret_cast<Bytef*>(out);
        z_.avail_out = room;
        const int r = ::inflate(&z_, Z_NO_FLUSH);
        in.remove_prefix(given - z_.avail_in);
        produced = room - z_.avail_out;
        switch (r) {
            case Z_OK:
            case Z_BUF_ERROR:  // no progress possible: needs input
                return kOk;
            case Z_STREAM_END:
                return kMemberEnd;
            case Z_MEM_ERROR:
                throw std::bad_alloc();
            case Z_DATA_ERROR: {
                const std::string_view msg = z_.msg ? z_.msg : "";
                if (msg == "incorrect data check" || msg == "incorrect length check")
                    return kBadCheck;
                if (msg == "incorrect header check" || msg == "unknown compression method" ||
                    msg == "unknown header flags set" || msg == "header crc mismatch")
                    return kBadHeader;
                return kBadData;
            }
            default:  // Z_NEED_DICT cannot follow a gzip header; Z_STREAM_ERROR is a bug
                return kBadData;
        }
    }

  private:
    z_stream z_;
};

#ifdef STRATA_HAVE_ISAL

struct IsalLibrary {
    void (*inflate_init)(struct inflate_state*);
    void (*inflate_reset)(struct inflate_state*);
    int (*inflate)(struct inflate_state*);
};

IsalLibrary load_isal() {
    const SharedLibrary lib("libisal.so.2", "ISA-L (fast gzip decoding)", "libisal2");
    IsalLibrary l{};
    lib.bind(l.inflate_init, "isal_inflate_init");
    lib.bind(l.inflate_reset, "isal_inflate_reset");
    lib.bind(l.inflate, "isal_inflate");
    return l;
}

const IsalLibrary* isal_library() {
    try {
        return &load_library_once<IsalLibrary, &load_isal>();
    } catch (const Error&) {
        return nullptr;
    }
}

class IsalInflater final : public GzipDecoder::Inflater {
  public:
    explicit IsalInflater(const IsalLibrary& lib) : lib_(lib) {
        lib_.inflate_init(&s_);
        s_.crc_flag = ISAL_GZIP;  // parse the header, verify CRC-32 and length
    }

    GzipDecoder::Engine engine() const override { return GzipDecoder::Engine::kIsal; }
    void reset() override {
        lib_.inflate_reset(&s_);
        s_.crc_flag = ISAL_GZIP;
    }

    Status step(std::string_view& in, char* out, size_t cap, size_t& produced) override {
        const auto given = static_cast<uint32_t>(std::min<size_t>(in.size(), UINT32_MAX));
        const auto room = static_cast<uint32_t>(std::min<size_t>(cap, UINT32_MAX));
        s_.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
        s_.avail_in = given;
        s_.next_out = reinterpret_cast<uint8_t*>(out);
        s_.avail_out = room;
        const int r = lib_.inflate(&s_);
        // At the end of a member igzip hands back the input it read ahead,
        // so what follows (another member) is left in `in`.
        in.remove_prefix(given - s_.avail_in);
        produced = room - s_.avail_out;
        switch (r) {
            case ISAL_DECOMP_OK:
                return s_.block_state == ISAL_BLOCK_FINISH ? kMemberEnd : kOk;
            case ISAL_INCORRECT_CHECKSUM:
                return kBadCheck;
            case ISAL_INVALID_WRAPPER:
            case ISAL_UNSUPPORTED_METHOD:
                return kBadHeader;
            default:
                return kBadData;
        }
    }

  private:
    const IsalLibrary& lib_;
    struct inflate_state s_;
};

#endif

std::unique_ptr<GzipDecoder::Inflater> make_inflater(GzipDecoder::Engine e) {
    if (e == GzipDecoder::Engine::kZlib) return std::make_unique<ZlibInflater>();
#ifdef STRATA_HAVE_ISAL
    if (const IsalLibrary* lib = isal_library()) return std::make_unique<IsalInflater>(*lib);
#endif
    throw Error(ErrorKind::kSystem,
                "ISA-L is not available for gzip decoding (this strata was built without "
                "libisal-dev, or libisal.so.2 is missing: apt-get install libisal2)");
}

}  // namespace

bool GzipDecoder::isal_available() {
#ifdef STRATA_HAVE_ISAL
    return isal_library() != nullptr;
#else
    return false;
#endif
}

GzipDecoder::Engine GzipDecoder::default_engine() {
    const char* env = std::getenv("STRATA_GZIP");
    const std::string_view want = env ? env : "";
    if (want == "zlib") return Engine::kZlib;
    if (!want.empty() && want != "isa-l")
        throw Error(ErrorKind::kUsage,
                    fmt::format("STRATA_GZIP is \"{}\": use zlib or isa-l (or unset it)", want));
    return isal_available() ? Engine::kIsal : Engine::kZlib;
}

std::string_view GzipDecoder::engine_name(Engine e) {
    return e == Engine::kIsal ? "isa-l" : "zlib";
}

GzipDecoder::GzipDecoder(std::string what, Engine engine)
    : what_(std::move(what)), engine_(make_inflater(engine)) {}

GzipDecoder::~GzipDecoder() = default;

GzipDecoder::Engine GzipDecoder::engine() const {
    return engine_->engine();
}

uint64_t GzipDecoder::total_in() const {
    return total_in_;
}

uint64_t GzipDecoder::total_out() const {
    return total_out_;
}

bool GzipDecoder::in_member() const {
    return in_member_;
}

size_t GzipDecoder::inflate(std::string_view& in, char* out, size_t cap) {
    return inflate(in, out, cap, true);
}

size_t GzipDecoder::inflate_member(std::string_view& in, char* out, size_t cap) {
    return in_member_ ? inflate(in, out, cap, false) : 0;
}

size_t GzipDecoder::inflate(std::string_view& in, char* out, size_t cap, bool next_member) {
    if (cap == 0) throw Error(ErrorKind::kInternal, "GzipDecoder::inflate with no room");
    for (;;) {
        if (!in_member_) {
            if (in.empty() || !next_member) return 0;
            engine_->reset();
            in_member_ = true;
            head_.clear();
            head_fed_ = 0;
            member_start_ = total_in_;
            ++members_;
        }
        // The member's first bytes, checked before the engine sees them.
        if (head_.size() < kHeadCheck) {
            const size_t k = std::min(kHeadCheck - head_.size(), in.size());
            head_.append(in.substr(0, k));
            in.remove_prefix(k);
            total_in_ += k;
            if (head_.size() < kHeadCheck) return 0;
            const auto* h = reinterpret_cast<const unsigned char*>(head_.data());
            if (h[0] != 0x1f || h[1] != 0x8b || h[2] != Z_DEFLATED || (h[3] & kFlagReserved))
                fail(kBadHeader);
        }
        const bool from_head = head_fed_ < head_.size();
        std::string_view src = from_head ? std::string_view(head_).substr(head_fed_) : in;
        const size_t before = src.size();
        size_t produced = 0;
        const Status s = engine_->step(src, out, cap, produced);
        const size_t consumed = before - src.size();
        if (from_head) {
            head_fed_ += consumed;
        } else {
            in = src;
            total_in_ += consumed;
        }
        total_out_ += produced;
        if (s != kOk && s != kMemberEnd) fail(s);
        if (s == kMemberEnd) {
            if (head_fed_ < head_.size()) fail(kBadData);  // cannot be: a header is 10 bytes
            in_member_ = false;
        }
        if (produced > 0) return produced;
        if (s == kOk && consumed == 0) {
            if (!from_head && in.empty()) return 0;  // needs more input
            throw Error(ErrorKind::kInternal, what_ + ": the gzip decoder made no progress");
        }
    }
}

void GzipDecoder::finish() const {
    if (members_ == 0)
        throw Error(ErrorKind::kCorrupt, what_ + ": cannot decompress: the gzip stream is empty");
    if (in_member_)
        throw Error(ErrorKind::kCorrupt,
                    fmt::format("{}: cannot decompress: the gzip stream is truncated: it ends "
                                "inside the member that starts at compressed byte {}, after {} "
                                "compressed bytes (an interrupted download or a cut file)",
                                what_, member_start_, total_in_));
}

void GzipDecoder::fail(int kind) const {
    std::string why;
    switch (kind) {
        case kBadHeader:
            why = members_ > 1 ? "the bytes after the gzip member that ends at compressed byte " +
                                     std::to_string(member_start_) + " are not another gzip member"
                               : "not a gzip header at compressed byte 0";
            break;
        case kBadCheck:
            why = fmt::format(
                "the gzip member at compressed byte {} fails its CRC-32 or length check: the "
                "data is corrupt",
                member_start_);
            break;
        default:
            why = fmt::format(
                "the gzip member at compressed byte {} holds invalid deflate data: the data is "
                "corrupt",
                member_start_);
            break;
    }
    throw Error(ErrorKind::kCorrupt, what_ + ": cannot decompress: " + why);
}

}  // namespace strata::store
