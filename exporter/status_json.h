#pragma once

#include <string>

#include "exporter/status_snapshot.h"

namespace hostiso {

// The status page's data as one JSON object (`/?format=json`): the same
// fields as StatusSnapshot, unknown values as null. Pure.
std::string RenderStatusJson(const StatusSnapshot& s);

}  // namespace hostiso
