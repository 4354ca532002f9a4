// Small-file reading for the store's metadata (records, names, archive JSON).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace strata::store {

// The whole file; nullopt when it does not exist. Other errors name the path.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& file);
// The whole file; a missing file is an error naming the path too.
std::string read_whole_file(const std::filesystem::path& file);

}  // namespace strata::store
