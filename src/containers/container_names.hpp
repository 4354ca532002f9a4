// Container ids and names as Docker makes them: a 64-hex random id, and a
// random "adjective_surname" name when the user gives none. The word lists are
// strata's own (surnames of scientists and engineers).
#pragma once

#include <string>
#include <string_view>

namespace strata::containers {

// 64 lowercase hex from getrandom(2). As Docker, never one whose 12-character
// short form is all digits (it would read as a number).
std::string random_container_id();

// "adjective_surname", e.g. "patient_hopper".
std::string random_container_name();

// Docker's rule for --name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading '/' is
// allowed and not part of the name).
bool valid_container_name(std::string_view name);

// Is `s` 1 to 64 lowercase hex digits (a container id or a prefix of one)?
bool is_hex_id_prefix(std::string_view s);

}  // namespace strata::containers
