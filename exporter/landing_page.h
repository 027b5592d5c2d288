#pragma once

#include <string>
#include <vector>

#include "exporter/flags.h"
#include "metrics/exporter_collectable.h"
#include "metrics/isolation_source.h"

namespace hostiso {

// The HTML at "/": version, links, which sources the exporter found, and each
// collector's live state (success, when it last ran, its last error in a few
// words). Every value from the host is HTML-escaped; nova.conf errors name
// file, line and key, never a value the exporter does not read.
std::string RenderLandingPage(const std::string& version, const Flags& flags,
                              const IsolationSnapshot& isolation,
                              const std::vector<CollectorStatus>& statuses);

}  // namespace hostiso
