#include "exporter/status_html.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

#include "exporter/web_escape.h"

namespace hostiso {
namespace {

// Roles as the metric contract names them; the cell colour follows
// data-role. The share bar is one gradient sized by --h/--g/--s (percent),
// so a cell costs a few bytes of inline style, not three elements.
constexpr std::string_view kStyle =
    "body{font:13px/1.35 system-ui,sans-serif;margin:12px;color:#222}"
    "h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:16px 0 6px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px "
    "6px;"
    "text-align:left;vertical-align:top}th{background:#eee}"
    ".map{display:flex;flex-wrap:wrap;gap:8px}"
    "fieldset{border:1px solid #999;padding:4px;margin:0;display:flex;"
    "flex-wrap:wrap;gap:4px;align-content:flex-start}"
    ".k{display:flex;gap:1px;border:1px solid #666;padding:1px;background:#fff}"
    ".c{width:118px;padding:1px 3px;font-size:11px;overflow:hidden;"
    "white-space:nowrap;text-overflow:ellipsis}"
    ".c i,.c u{display:block;overflow:hidden;text-overflow:ellipsis;"
    "text-decoration:none}.c u{color:#a00}.f::before{content:\"~\"}"
    ".c s{display:block;height:4px;margin:1px 0;background:linear-gradient("
    "90deg,#c60 calc(var(--h)*1%),#26c 0 calc((var(--h) + var(--g))*1%),"
    "#90c 0 calc((var(--h) + var(--g) + var(--s))*1%),#ccc 0)}"
    "[data-role=host]{background:#f3e3c8}[data-role=dedicated]{background:"
    "#c9ddf5}[data-role=shared]{background:#d3efd3}[data-role=guest]{"
    "background:#dcd3f0}.c.v{outline:2px solid #d00;outline-offset:-2px}"
    ".m{color:#555}.bad{color:#b00;font-weight:bold}";

int Percent(double fraction) {
  return static_cast<int>(std::lround(fraction * 100));
}

std::string Seconds(std::optional<double> s) {
  if (!s) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), *s < 10 ? "%.2f s" : "%.0f s", *s);
  return buf;
}

// Collector durations: most are well under a millisecond.
std::string Duration(std::optional<double> s) {
  if (!s) return "-";
  char buf[32];
  if (*s < 1) {
    std::snprintf(buf, sizeof(buf), "%.1f ms", *s * 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f s", *s);
  }
  return buf;
}

void Esc(std::string& h, std::string_view text) { AppendHtmlEscaped(h, text); }

void CpuCell(std::string& h, const StatusCpu& c) {
  h += "<div class=\"c";
  if (c.violating) h += " v";
  h += "\" data-cpu=\"" + std::to_string(c.cpu) + "\" data-role=\"";
  Esc(h, c.role);
  h += "\"><b>" + std::to_string(c.cpu) + "</b> ";
  if (c.isolated) h += "I";
  if (c.nohz_full) h += "N";
  if (c.share) {
    const int host = Percent(c.share->host), guest = Percent(c.share->guest),
              steal = Percent(c.share->steal);
    h += " h" + std::to_string(host) + " g" + std::to_string(guest) + " s" +
         std::to_string(steal) + "<s style=\"--h:" + std::to_string(host) +
         ";--g:" + std::to_string(guest) + ";--s:" + std::to_string(steal) +
         "\"></s>";
  } else {
    h += "<s style=\"--h:0;--g:0;--s:0\"></s>";
  }
  // "domain/vcpu": libvirt refuses '/' in a domain name, so the last '/'
  // splits it.
  for (const StatusVcpuRef& v : c.vcpus) {
    h += v.pinned ? "<i>" : "<i class=f>";
    Esc(h, v.domain);
    h += "/" + std::to_string(v.vcpu) + "</i>";
  }
  if (!c.intruder.empty()) {
    h += "<u>";
    Esc(h, c.intruder);
    h += " " + Seconds(c.intruder_seconds) + "</u>";
  }
  h += "</div>";
}

std::string NodeName(int node) {
  return node < 0 ? "node ?" : "node " + std::to_string(node);
}

// CPUs arrive sorted by node, package and core: a new fieldset at each node,
// a new core box at each (package, core).
void CoreMap(std::string& h, const StatusSnapshot& s) {
  h += "<h2>Core map</h2><p class=m>Colour: role (<span data-role=host>host"
       "</span> <span data-role=dedicated>dedicated</span> <span "
       "data-role=shared>shared</span> <span data-role=guest>guest</span>). "
       "I isolated, N nohz_full; h/g/s: host/guest/steal % of the last "
       "interval (bar: <span style=\"color:#c60\">host</span> <span "
       "style=\"color:#26c\">guest</span> <span style=\"color:#90c\">steal"
       "</span>); <i>domain/vCPU</i> (~ floating, last seen); <u style="
       "\"color:#a00;text-decoration:none\">top host process</u> of the last "
       "census; red outline: named by a violation. ";
  if (s.shares_interval_seconds) {
    h += "Shares over " + Seconds(s.shares_interval_seconds) + " ending " +
         Seconds(s.shares_age_seconds) + " ago (the last two scrapes).";
  } else {
    h += "No shares yet: they come from the cpu collector after two scrapes.";
  }
  if (!s.layout_error.empty()) {
    h += " <span class=bad>CPU layout unavailable (";
    Esc(h, s.layout_error);
    h += "): one box per CPU.</span>";
  }
  h += "</p>\n<div class=map>";
  bool open_node = false, open_core = false;
  const StatusCpu* prev = nullptr;
  for (const StatusCpu& c : s.cpus) {
    const bool new_node = prev == nullptr || prev->node != c.node;
    const bool new_core = new_node || prev->package != c.package ||
                          prev->core != c.core || c.core < 0;
    if (new_core && open_core) h += "</div>";
    if (new_node) {
      if (open_node) h += "</fieldset>\n";
      h += "<fieldset data-node=\"" + std::to_string(c.node) + "\"><legend>" +
           NodeName(c.node) + "</legend>";
      open_node = true;
    }
    if (new_core) {
      h += "<div class=k title=\"package " + std::to_string(c.package) +
           " core " + std::to_string(c.core) + "\">";
      open_core = true;
    }
    CpuCell(h, c);
    prev = &c;
  }
  if (open_core) h += "</div>";
  if (open_node) h += "</fieldset>";
  h += "</div>\n";
}

void Violations(std::string& h, const StatusSnapshot& s) {
  h +=
      "<h2>Violations now (" + std::to_string(s.violations.size()) + ")</h2>\n";
  if (s.violations.empty()) {
    h += "<p>None.</p>\n";
    return;
  }
  h += "<table id=violations><tr><th>kind<th>subject<th>CPUs</tr>\n";
  for (const StatusViolation& v : s.violations) {
    h += "<tr><td>";
    Esc(h, v.kind);
    h += "<td class=subject>";
    Esc(h, v.subject);
    h += "<td>";
    Esc(h, v.cpus);
    h += "</tr>\n";
  }
  h += "</table>\n";
}

void Guests(std::string& h, const StatusSnapshot& s) {
  h += "<h2>Guests (" + std::to_string(s.guests.size()) +
       ")</h2>\n<p class=m>From ";
  Esc(h, s.inventory_source.empty() ? "none" : s.inventory_source);
  h += ", " + Seconds(s.inventory_age_seconds) +
       " ago: the continuous <code>virsh vcpuinfo</code>.</p>\n";
  if (s.guests.empty()) return;
  h += "<table id=guests><tr><th>domain<th>instance<th>policy<th>emulator"
       "<th>vCPU<th>CPU now<th>affinity</tr>\n";
  for (const StatusGuest& g : s.guests) {
    const std::string span =
        std::to_string(g.vcpus.empty() ? 1 : g.vcpus.size());
    h += "<tr><td rowspan=" + span + ">";
    Esc(h, g.name);
    h += "<td rowspan=" + span + ">";
    Esc(h, g.instance_name);
    h += "<td rowspan=" + span + ">";
    Esc(h, g.cpu_policy);
    h += "<td rowspan=" + span + ">";
    Esc(h, g.emulator_affinity);
    if (g.vcpus.empty()) h += "<td><td><td></tr>\n";
    for (std::size_t i = 0; i < g.vcpus.size(); ++i) {
      const StatusVcpu& v = g.vcpus[i];
      if (i > 0) h += "<tr>";
      h += "<td>" + std::to_string(v.vcpu) + "<td>" +
           (v.cpu_now < 0 ? "-" : std::to_string(v.cpu_now)) + "<td>";
      Esc(h, v.affinity);
      h += "</tr>\n";
    }
  }
  h += "</table>\n";
}

void Health(std::string& h, const StatusSnapshot& s) {
  h += "<h2>Collectors</h2>\n<table id=collectors><tr><th>collector<th>state"
       "<th>last run<th>duration<th>last error</tr>\n";
  for (const StatusCollector& c : s.collectors) {
    h += "<tr><td>";
    Esc(h, c.name);
    h += c.state == "failing" ? "<td class=bad>" : "<td>";
    Esc(h, c.state);
    h += "<td>" + (c.age_seconds ? Seconds(c.age_seconds) + " ago" : "-");
    h += "<td>" + Duration(c.duration_seconds) + "<td>";
    Esc(h, c.error);
    h += "</tr>\n";
  }
  h += "</table>\n<h2>Sources</h2>\n<table id=sources>";
  for (const StatusSource& src : s.sources) {
    h += "<tr><td>";
    Esc(h, src.name);
    h += "<td>";
    Esc(h, src.where);
    h += "<td>";
    Esc(h, src.state);
    h += "</tr>\n";
  }
  h += "</table>\n";
}

}  // namespace

std::string RenderStatusHtml(const StatusSnapshot& s, int refresh_seconds) {
  std::string h;
  h.reserve(4096 + s.cpus.size() * 160 + s.guests.size() * 256);
  h += "<!DOCTYPE html>\n<html lang=en><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"refresh\" content=\"" +
       std::to_string(refresh_seconds) +
       "\"><meta name=viewport content=\"width=device-width\">"
       "<title>hostiso_exporter</title><style>";
  h += kStyle;
  h += "</style></head>\n<body><h1>hostiso_exporter</h1>\n<p>Host/guest CPU, "
       "memory and disk isolation for KVM hosts. Version ";
  Esc(h, s.version);
  h += ". <a href=\"";
  Esc(h, s.telemetry_path);
  h += "\">Metrics</a> · <a href=\"?format=json\">JSON</a> · ";
  h += s.census_age_seconds
           ? "last census " + Seconds(s.census_age_seconds) + " ago.</p>\n"
           : "no census yet.</p>\n";
  CoreMap(h, s);
  Violations(h, s);
  Guests(h, s);
  Health(h, s);
  h += "</body></html>\n";
  return h;
}

}  // namespace hostiso
