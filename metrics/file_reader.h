#pragma once

#include <string>

#include "metrics/expected.h"

namespace hostiso {

// Reads a whole file. procfs/sysfs files report size 0, so this reads until
// EOF rather than trusting stat(). Errors name the path and errno text.
Expected<std::string> ReadFile(const std::string& path);

// Joins a root such as --path.procfs with a relative path ("stat").
std::string JoinPath(const std::string& root, const std::string& rel);

}  // namespace hostiso
