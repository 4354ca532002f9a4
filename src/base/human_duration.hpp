// go-units' HumanDuration, which Docker prints in CREATED and STATUS columns:
// "Less than a second", "1 second", "About a minute", "3 hours", "2 weeks".
#pragma once

#include <cstdint>
#include <string>

namespace strata {

std::string human_duration(int64_t seconds);

}  // namespace strata
