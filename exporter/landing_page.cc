#include "exporter/landing_page.h"

#include <sstream>

namespace hostiso {
namespace {

std::string Escape(const std::string& s) {
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

const char* YesNo(bool b) { return b ? "found" : "not found"; }

}  // namespace

std::string RenderLandingPage(const std::string& version, const Flags& flags,
                              const IsolationSnapshot& iso) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta "
       "charset=\"utf-8\"><title>hostiso_exporter</title></head>\n"
    << "<body><h1>hostiso_exporter</h1>\n"
    << "<p>Host/guest CPU, memory and disk isolation for KVM hosts. Version "
    << Escape(version) << ".</p>\n<ul><li><a href=\""
    << Escape(flags.telemetry_path) << "\">Metrics</a></li></ul>\n"
    << "<h2>Sources</h2>\n<table>\n"
    << "<tr><td>nova.conf</td><td>" << Escape(iso.nova_path) << "</td><td>"
    << (iso.nova_present
            ? (iso.nova_load_success ? "loaded"
                                     : "error: " + Escape(iso.nova_error))
            : std::string(YesNo(false)))
    << "</td></tr>\n"
    << "<tr><td>guest CPU set</td><td>"
    << GuestSetSourceName(iso.guest_sets.source) << "</td><td>"
    << Escape(iso.roles.GuestCpus().ToString()) << "</td></tr>\n"
    << "<tr><td>procfs</td><td>" << Escape(flags.procfs) << "</td><td>"
    << (iso.cmdline_ok ? "ok" : Escape(iso.cmdline_error)) << "</td></tr>\n"
    << "<tr><td>sysfs</td><td>" << Escape(flags.sysfs) << "</td><td>"
    << (iso.topology_ok ? "ok" : Escape(iso.topology_error)) << "</td></tr>\n"
    << "</table>\n<h2>Collectors</h2>\n<ul>\n";
  for (const auto& c : KnownCollectors()) {
    h << "<li>" << Escape(c.name) << ": "
      << (flags.collectors.count(c.name) ? "enabled" : "disabled") << "</li>\n";
  }
  h << "</ul>\n</body></html>\n";
  return h.str();
}

}  // namespace hostiso
