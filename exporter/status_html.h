#pragma once

#include <string>

#include "exporter/status_snapshot.h"

namespace hostiso {

// The status page at "/": the core map (online CPUs by NUMA node and
// physical core, coloured by role, with their host/guest/steal share, kernel
// isolation, the vCPUs and the top host process on them), current
// violations, guests with their pinning, collector health and sources.
// One self-contained document: inline CSS, no script, no external asset (hosts
// are often air-gapped); it reloads itself every `refresh_seconds`. Every
// host-controlled string is escaped (AppendHtmlEscaped). Pure.
std::string RenderStatusHtml(const StatusSnapshot& s, int refresh_seconds);

}  // namespace hostiso
