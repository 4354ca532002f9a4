// Transfers a few at a time (layers of a pull or a push): `fn(i)` for every
// i < count on up to `threads` threads (the caller's among them). The first
// exception stops the rest from starting and is rethrown once all are done.
#pragma once

#include <cstddef>
#include <functional>

namespace strata::registry {

void run_parallel(size_t count, unsigned threads, const std::function<void(size_t)>& fn);

}  // namespace strata::registry
