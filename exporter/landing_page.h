#pragma once

#include <string>

#include "exporter/flags.h"
#include "metrics/isolation_source.h"

namespace hostiso {

// The HTML at "/": version, links, and which sources the exporter found.
std::string RenderLandingPage(const std::string& version, const Flags& flags,
                              const IsolationSnapshot& isolation);

}  // namespace hostiso
