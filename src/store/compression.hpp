// Layer compression: names, media types, and streaming (de)compressors:
// gzip through zlib (gzip_encoder.hpp), zstd through libzstd
// (zstd_encoder.hpp); reading gzip through GzipDecoder (gzip_decoder.hpp),
// zstd through libarchive's filter.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace strata::store {

enum class Compression { kNone, kGzip, kZstd };

// "gzip" | "zstd" | "none" | "uncompressed"; throws Error(kUsage) otherwise.
Compression parse_compression(std::string_view name);
std::string_view compression_name(Compression c);  // "gzip", "zstd", "none"
// OCI: application/vnd.oci.image.layer.v1.tar(+gzip|+zstd). Docker (oci=false):
// application/vnd.docker.image.rootfs.diff.tar(.gzip); zstd has no Docker type,
// the OCI one is returned.
std::string layer_media_type(Compression c, bool oci = true);
// The compression a layer media type declares (OCI or Docker names, including
// the non-distributable variants); nullopt for anything else.
std::optional<Compression> compression_from_media_type(std::string_view media_type);
// From the first bytes of a stream (magic numbers); kNone when not gzip/zstd.
Compression detect_compression(const void* head, size_t n);

// Fixed levels, so the same input gives the same bytes everywhere.
inline constexpr int kGzipLevel = 6;  // gzip's and Go's default
inline constexpr int kZstdLevel = 3;  // zstd's default

using ByteSink = std::function<void(const void* data, size_t n)>;

// Streams bytes through a compressor into `sink`. gzip output has no file
// name and mtime 0 in its header, so it depends on the input bytes only.
class Compressor {
  public:
    Compressor(Compression c, ByteSink sink);
    ~Compressor();
    Compressor(const Compressor&) = delete;
    Compressor& operator=(const Compressor&) = delete;

    void write(const void* data, size_t n);
    // Flushes the compressor's trailer to the sink; required before destruction
    // for a complete stream.
    void finish();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Where a stream's bytes come from, in order: the next chunk, valid until the
// next call; empty at the end. Errors are thrown.
using ChunkReader = std::function<std::string_view()>;

// Reads a possibly compressed stream (gzip, zstd or none, detected from its
// magic bytes) from `fd` (or a ChunkReader) and returns the decompressed
// bytes: gzip through GzipDecoder (ISA-L or zlib, gzip_decoder.hpp), zstd
// through libarchive's filter. Corrupt or truncated compressed data throws
// Error(kCorrupt). `tee`, when set, receives every raw (still compressed) byte
// read, once, in order.
class Decompressor {
  public:
    explicit Decompressor(int fd, ByteSink tee = nullptr, std::string what = "layer");
    explicit Decompressor(ChunkReader source, ByteSink tee = nullptr, std::string what = "layer");
    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

    // Up to n decompressed bytes; 0 at the end of the stream.
    size_t read(void* buf, size_t n);
    // The next chunk of decompressed bytes, valid until the next call; empty
    // at the end of the stream.
    std::string_view next();
    // Reads and discards the rest (so that hashes over the stream complete).
    void drain();
    // Reads and discards the rest of the gzip member in progress, if any, so
    // that a cut or corrupt end of it is an error; what follows the member is
    // not read. Nothing for zstd or uncompressed streams.
    void finish_member();
    Compression detected() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata::store
