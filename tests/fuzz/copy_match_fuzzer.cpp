// Differential libFuzzer target for the COPY/ADD wildcard matcher,
// strata::go::path::match (Go's path.Match), and the UTF-8 decoder it reads
// names with (strata::go::utf8::decode).
//
// Input: a pattern, a NUL byte, a name (without a NUL the input is both).
// Both are cut to kMaxLen bytes so that the references below stay cheap.
//
// The references are written for reading, not speed:
//   - reference_match() states Go's rule directly. A pattern is a list of
//     chunks, each after zero or more stars; each chunk is parsed into atoms
//     up front (a malformed chunk anywhere makes the pattern bad for every
//     name); then chunk by chunk, the leftmost place the chunk matches wins,
//     a star skipping only non-'/' bytes, the last chunk ending at the end of
//     the name, a trailing star taking a rest without '/'. Go never goes
//     back to an earlier chunk, so this is not the same as "some way to
//     match": with a class that matches '/', "*[/x]*b" does not match "x/b".
//   - exhaustive_match() is that "some way": a table over (atom, byte
//     offset). Whatever Go matches must be a match here too.
//   - reference_decode() is utf8.DecodeRune from its definition: the
//     shortest UTF-8 form of a scalar value, else U+FFFD of width 1.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/go/path.hpp"
#include "base/go/utf8.hpp"

namespace {

namespace gopath = strata::go::path;
namespace goutf8 = strata::go::utf8;

constexpr size_t kMaxLen = 64;

struct Decoded {
    char32_t rune;
    size_t width;
};

// UTF-8 from its definition: sequence length from the lead byte, continuation
// bytes 10xxxxxx, then the value must need exactly that length and be a
// scalar value (no surrogates, at most U+10FFFF).
Decoded reference_decode(std::string_view s, size_t pos) {
    if (pos >= s.size()) return {0xFFFD, 0};
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80) return {b0, 1};
    size_t len = 0;
    char32_t value = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        value = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        value = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        value = b0 & 0x07;
    } else {
        return {0xFFFD, 1};
    }
    if (pos + len > s.size()) return {0xFFFD, 1};
    for (size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[pos + k]);
        if ((b & 0xC0) != 0x80) return {0xFFFD, 1};
        value = (value << 6) | (b & 0x3F);
    }
    const char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < min_for_len[len] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return {0xFFFD, 1};
    return {value, len};
}

struct Range {
    char32_t lo, hi;
};
struct Atom {
    enum Kind { kByte, kAnyChar, kClass } kind = kByte;
    char byte = 0;              // kByte
    bool negated = false;       // kClass
    std::vector<Range> ranges;  // kClass
};
struct Chunk {
    bool star = false;
    std::vector<Atom> atoms;
};

// One class character: optionally escaped by '\', a valid UTF-8 character,
// not an unescaped '-' or ']', and never the last thing in the pattern (the
// class would be unclosed).
std::optional<char32_t> class_char(std::string_view p, size_t& i) {
    if (i >= p.size() || p[i] == '-' || p[i] == ']') return std::nullopt;
    if (p[i] == '\\' && ++i >= p.size()) return std::nullopt;
    const Decoded d = reference_decode(p, i);
    if (d.rune == 0xFFFD && d.width == 1) return std::nullopt;
    i += d.width;
    if (i >= p.size()) return std::nullopt;
    return d.rune;
}

// Parses a pattern into chunks; nullopt when malformed. A chunk ends at a
// star outside brackets, where "inside brackets" is tracked as Go's scanner
// does it: from a '[' to the next ']', skipping escaped characters.
std::optional<std::vector<Chunk>> parse(std::string_view p) {
    std::vector<Chunk> chunks;
    size_t i = 0;
    while (i < p.size()) {
        Chunk c;
        while (i < p.size() && p[i] == '*') {
            c.star = true;
            ++i;
        }
        size_t end = i;
        for (bool in_brackets = false; end < p.size(); ++end) {
            if (p[end] == '\\' && end + 1 < p.size()) {
                ++end;
            } else if (p[end] == '[') {
                in_brackets = true;
            } else if (p[end] == ']') {
                in_brackets = false;
            } else if (p[end] == '*' && !in_brackets) {
                break;
            }
        }
        const std::string_view text = p.substr(0, end);
        while (i < end) {
            Atom a;
            if (text[i] == '?') {
                a.kind = Atom::kAnyChar;
                ++i;
            } else if (text[i] == '\\') {
                if (++i >= end) return std::nullopt;
                a.byte = text[i++];
            } else if (text[i] == '[') {
                a.kind = Atom::kClass;
                ++i;
                if (i < end && text[i] == '^') {
                    a.negated = true;
                    ++i;
                }
                while (a.ranges.empty() || i >= end || text[i] != ']') {
                    auto lo = class_char(text, i);
                    if (!lo) return std::nullopt;
                    char32_t hi = *lo;
                    if (text[i] == '-') {
                        auto h = class_char(text, ++i);
                        if (!h) return std::nullopt;
                        hi = *h;
                    }
                    a.ranges.push_back({*lo, hi});
                }
                ++i;  // ']'
            } else {
                a.byte = text[i++];
            }
            c.atoms.push_back(std::move(a));
        }
        chunks.push_back(std::move(c));
    }
    return chunks;
}

// How many bytes at name[pos] one atom takes; nullopt when it does not match.
std::optional<size_t> match_atom(const Atom& a, std::string_view name, size_t pos) {
    if (pos >= name.size()) return std::nullopt;
    switch (a.kind) {
        case Atom::kByte:
            if (name[pos] != a.byte) return std::nullopt;
            return 1;
        case Atom::kAnyChar:
            if (name[pos] == '/') return std::nullopt;
            return reference_decode(name, pos).width;
        case Atom::kClass: {
            const Decoded d = reference_decode(name, pos);
            bool in = false;
            for (const Range& r : a.ranges)
                in = in || (r.lo <= d.rune && d.rune <= r.hi);
            if (in == a.negated) return std::nullopt;
            return d.width;
        }
    }
    return std::nullopt;
}

// Where a chunk's atoms, matched one after the other from `pos`, end.
std::optional<size_t> match_chunk(const Chunk& c, std::string_view name, size_t pos) {
    for (const Atom& a : c.atoms) {
        auto n = match_atom(a, name, pos);
        if (!n) return std::nullopt;
        pos += *n;
    }
    return pos;
}

gopath::MatchResult reference_match(std::string_view pattern, std::string_view name) {
    const auto chunks = parse(pattern);
    if (!chunks) return gopath::MatchResult::kBadPattern;
    size_t pos = 0;
    for (size_t k = 0; k < chunks->size(); ++k) {
        const Chunk& c = (*chunks)[k];
        const bool last = k + 1 == chunks->size();
        if (c.star && c.atoms.empty())  // only possible for the last chunk
            return name.find('/', pos) == std::string_view::npos ? gopath::MatchResult::kMatch
                                                                 : gopath::MatchResult::kNoMatch;
        std::optional<size_t> end;
        for (size_t skip = 0; pos + skip <= name.size(); ++skip) {
            if (skip > 0 && (!c.star || name[pos + skip - 1] == '/')) break;
            end = match_chunk(c, name, pos + skip);
            if (end && (!last || *end == name.size())) break;
            end.reset();
        }
        if (!end) return gopath::MatchResult::kNoMatch;
        pos = *end;
    }
    return pos == name.size() ? gopath::MatchResult::kMatch : gopath::MatchResult::kNoMatch;
}

// Some way to match at all: every star is a run of non-'/' bytes, every atom
// matches in turn. can[k][j]: elements k.. match name[j..].
bool exhaustive_match(const std::vector<Chunk>& chunks, std::string_view name) {
    struct Element {
        bool star;
        const Atom* atom;
    };
    std::vector<Element> elems;
    for (const Chunk& c : chunks) {
        if (c.star) elems.push_back({true, nullptr});
        for (const Atom& a : c.atoms)
            elems.push_back({false, &a});
    }
    const size_t n = name.size();
    std::vector<std::vector<char>> can(elems.size() + 1, std::vector<char>(n + 1, 0));
    can[elems.size()][n] = 1;
    for (size_t k = elems.size(); k-- > 0;) {
        for (size_t j = n + 1; j-- > 0;) {
            if (elems[k].star) {
                can[k][j] = can[k + 1][j] || (j < n && name[j] != '/' && can[k][j + 1]);
            } else if (auto w = match_atom(*elems[k].atom, name, j)) {
                can[k][j] = can[k + 1][j + *w];
            }
        }
    }
    return can[0][0] != 0;
}

const char* str(gopath::MatchResult r) {
    switch (r) {
        case gopath::MatchResult::kMatch:
            return "match";
        case gopath::MatchResult::kNoMatch:
            return "no match";
        case gopath::MatchResult::kBadPattern:
            return "bad pattern";
    }
    return "?";
}

[[noreturn]] void fail(const char* what, std::string_view pattern, std::string_view name) {
    std::fprintf(stderr, "copy_match_fuzzer: %s\n  pattern: \"", what);
    for (char ch : pattern)
        std::fprintf(stderr, "\\x%02x", static_cast<unsigned char>(ch));
    std::fprintf(stderr, "\"\n  name:    \"");
    for (char ch : name)
        std::fprintf(stderr, "\\x%02x", static_cast<unsigned char>(ch));
    std::fprintf(stderr, "\"\n");
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string_view pattern = input.substr(0, std::min(nul, kMaxLen));
    const std::string_view name =
        nul == std::string_view::npos ? pattern : input.substr(nul + 1, kMaxLen);

    for (std::string_view s : {pattern, name})
        for (size_t i = 0; i <= s.size(); ++i) {
            const goutf8::Rune got = goutf8::decode(s, i);
            const Decoded want = reference_decode(s, i);
            if (got.rune != want.rune || got.width != want.width)
                fail("utf8::decode differs from the reference", s.substr(i), "");
        }

    const gopath::MatchResult got = gopath::match(pattern, name);
    const gopath::MatchResult want = reference_match(pattern, name);
    if (got != want) {
        std::fprintf(stderr, "go::path::match: %s, reference: %s\n", str(got), str(want));
        fail("go::path::match differs from the reference", pattern, name);
    }
    if (gopath::is_valid_pattern(pattern) != (want != gopath::MatchResult::kBadPattern))
        fail("is_valid_pattern differs from the reference", pattern, name);
    if (want == gopath::MatchResult::kMatch && !exhaustive_match(*parse(pattern), name))
        fail("a Go match that no star assignment explains (reference bug)", pattern, name);
    return 0;
}
