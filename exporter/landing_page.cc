#include "exporter/landing_page.h"

#include <ctime>
#include <sstream>

#include "exporter/collector_table.h"

namespace hostiso {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The first sentence-sized part of an error: enough to say what is wrong.
std::string Brief(const std::string& error) {
  constexpr std::size_t kMax = 160;
  if (error.size() <= kMax) return error;
  return error.substr(0, kMax) + "...";
}

std::string Ago(std::chrono::system_clock::time_point at) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now() - at)
                           .count();
  return std::to_string(seconds) + " s ago";
}

void RenderSources(const Flags& flags, const IsolationSnapshot& iso,
                   std::ostringstream& h) {
  std::string nova = "not found";
  if (iso.nova_present || !iso.nova_load_success)
    nova = iso.nova_load_success ? "loaded"
                                 : "error: " + Escape(Brief(iso.nova_error));
  h << "<h2>Sources</h2>\n<table>\n"
    << "<tr><td>nova.conf</td><td>" << Escape(iso.nova_path) << "</td><td>"
    << nova << "</td></tr>\n"
    << "<tr><td>guest CPU set</td><td>"
    << GuestSetSourceName(iso.guest_sets.source) << "</td><td>"
    << Escape(iso.roles.GuestCpus().ToString()) << "</td></tr>\n"
    << "<tr><td>procfs</td><td>" << Escape(flags.procfs) << "</td><td>"
    << (iso.cmdline_ok ? "ok" : Escape(Brief(iso.cmdline_error)))
    << "</td></tr>\n"
    << "<tr><td>sysfs</td><td>" << Escape(flags.sysfs) << "</td><td>"
    << (iso.topology_ok ? "ok" : Escape(Brief(iso.topology_error)))
    << "</td></tr>\n</table>\n";
}

void RenderCollectors(const Flags& flags,
                      const std::vector<CollectorStatus>& statuses,
                      std::ostringstream& h) {
  h << "<h2>Collectors</h2>\n<table>\n"
    << "<tr><th>collector</th><th>state</th><th>last run</th></tr>\n";
  for (const CollectorSpec& spec : CollectorTable()) {
    const std::string name(spec.name);
    h << "<tr><td>" << Escape(name) << "</td><td>";
    const CollectorStatus* st = nullptr;
    for (const CollectorStatus& s : statuses)
      if (s.name == name) st = &s;
    if (flags.collectors.count(name) == 0) {
      h << "disabled</td><td></td>";
    } else if (st == nullptr || !st->ran) {
      h << "enabled, not run yet (no scrape)</td><td></td>";
    } else {
      h << (st->success ? "ok" : "failing: " + Escape(Brief(st->error)))
        << "</td><td>" << Ago(st->at) << ", "
        << static_cast<long>(st->duration_seconds * 1e6) << " µs";
    }
    h << "</td></tr>\n";
  }
  h << "</table>\n";
}

}  // namespace

std::string RenderLandingPage(const std::string& version, const Flags& flags,
                              const IsolationSnapshot& iso,
                              const std::vector<CollectorStatus>& statuses) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta "
       "charset=\"utf-8\"><title>hostiso_exporter</title></head>\n"
    << "<body><h1>hostiso_exporter</h1>\n"
    << "<p>Host/guest CPU, memory and disk isolation for KVM hosts. Version "
    << Escape(version) << ".</p>\n<ul><li><a href=\""
    << Escape(flags.telemetry_path) << "\">Metrics</a></li></ul>\n";
  RenderSources(flags, iso, h);
  RenderCollectors(flags, statuses, h);
  h << "</body></html>\n";
  return h.str();
}

}  // namespace hostiso
