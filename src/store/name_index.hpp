// NameIndex — the names of images: "NAME:TAG" → manifest digest, many names
// per image. Kept in one small JSON file (<root>/names.json), replaced
// atomically; changes happen under the store's writer lock (ImageStore).
//
// Keys are full normalised references ("docker.io/library/busybox:latest").
// Only tagged names are stored; "name@digest" references are resolved by
// digest, not through the index.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/digest.hpp"
#include "store/name_index_reference.hpp"

namespace strata::store {

struct NameEntry {
    Digest manifest;
    std::string tagged_at;  // RFC 3339, when the name was (last) set
    bool operator==(const NameEntry&) const = default;
};

class NameIndex {
  public:
    // A missing file is an empty index; an unreadable one is Error(kCorrupt)
    // naming the file.
    static NameIndex load(const std::filesystem::path& file);
    // What the file holds (ImageStore::Transaction::commit writes it).
    std::string serialize() const;
    static NameIndex parse(std::string_view text, std::string_view what);

    // `ref` must have a tag (use Reference::with_default_tag()).
    std::optional<Digest> get(const Reference& ref) const;
    // Points `ref` at `manifest`; returns the digest it pointed at before.
    std::optional<Digest> set(const Reference& ref, const Digest& manifest,
                              const std::string& tagged_at);
    bool remove(const Reference& ref);

    // Names of one image, sorted.
    std::vector<Reference> names_of(const Digest& manifest) const;
    // All tagged names in one repository ("docker.io/library/busybox").
    std::vector<std::pair<Reference, Digest>> in_repository(const std::string& repository) const;
    // Every (name, entry), sorted by name.
    std::vector<std::pair<Reference, NameEntry>> all() const;
    size_t size() const { return entries_.size(); }

  private:
    static std::string key(const Reference& ref);
    std::map<std::string, NameEntry> entries_;
};

}  // namespace strata::store
