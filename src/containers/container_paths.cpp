#include "containers/container_paths.hpp"
