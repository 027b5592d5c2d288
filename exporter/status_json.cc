#include "exporter/status_json.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

#include "exporter/web_escape.h"

namespace hostiso {
namespace {

// Appends `"key":` pairs separated by commas; one per object level.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
  ~JsonObject() { out_ += '}'; }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  std::string& Key(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    AppendJsonString(out_, key);
    out_ += ':';
    return out_;
  }
  void String(std::string_view key, std::string_view v) {
    AppendJsonString(Key(key), v);
  }
  void Int(std::string_view key, long v) { Key(key) += std::to_string(v); }
  void Bool(std::string_view key, bool v) { Key(key) += v ? "true" : "false"; }
  void Number(std::string_view key, std::optional<double> v) {
    std::string& out = Key(key);
    if (!v || !std::isfinite(*v)) {
      out += "null";
      return;
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", *v);
    out += buf;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

// Writes `[item, item, ...]` with `each(out, item)` for every item.
template <typename T, typename F>
void Array(std::string& out, const std::vector<T>& items, F each) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    each(out, items[i]);
  }
  out += ']';
}

void Cpu(std::string& out, const StatusCpu& c) {
  JsonObject o(out);
  o.Int("cpu", c.cpu);
  o.Int("node", c.node);
  o.Int("package", c.package);
  o.Int("core", c.core);
  o.String("role", c.role);
  o.Bool("isolated", c.isolated);
  o.Bool("nohz_full", c.nohz_full);
  if (c.share) {
    JsonObject share(o.Key("share"));
    share.Number("host", c.share->host);
    share.Number("guest", c.share->guest);
    share.Number("steal", c.share->steal);
    share.Number("idle", c.share->idle);
  } else {
    o.Key("share") += "null";
  }
  Array(o.Key("vcpus"), c.vcpus, [](std::string& a, const StatusVcpuRef& v) {
    JsonObject r(a);
    r.String("domain", v.domain);
    r.Int("vcpu", v.vcpu);
    r.Bool("pinned", v.pinned);
  });
  o.String("intruder", c.intruder);
  o.Number("intruder_seconds", c.intruder_seconds);
  o.Bool("violating", c.violating);
}

void Guest(std::string& out, const StatusGuest& g) {
  JsonObject o(out);
  o.String("name", g.name);
  o.String("uuid", g.uuid);
  o.String("instance_name", g.instance_name);
  o.String("cpu_policy", g.cpu_policy);
  o.String("emulator_affinity", g.emulator_affinity);
  Array(o.Key("vcpus"), g.vcpus, [](std::string& a, const StatusVcpu& v) {
    JsonObject r(a);
    r.Int("vcpu", v.vcpu);
    r.Int("cpu", v.cpu_now);
    r.String("affinity", v.affinity);
  });
}

void Tables(JsonObject& o, const StatusSnapshot& s) {
  Array(o.Key("violations"), s.violations,
        [](std::string& a, const StatusViolation& v) {
          JsonObject r(a);
          r.String("kind", v.kind);
          r.String("subject", v.subject);
          r.String("cpus", v.cpus);
        });
  Array(o.Key("guests"), s.guests, Guest);
  Array(o.Key("collectors"), s.collectors,
        [](std::string& a, const StatusCollector& c) {
          JsonObject r(a);
          r.String("name", c.name);
          r.String("state", c.state);
          r.String("error", c.error);
          r.Number("age_seconds", c.age_seconds);
          r.Number("duration_seconds", c.duration_seconds);
        });
  Array(o.Key("sources"), s.sources,
        [](std::string& a, const StatusSource& src) {
          JsonObject r(a);
          r.String("name", src.name);
          r.String("where", src.where);
          r.String("state", src.state);
        });
}

}  // namespace

std::string RenderStatusJson(const StatusSnapshot& s) {
  std::string out;
  out.reserve(256 + s.cpus.size() * 256);
  {
    JsonObject o(out);
    o.String("version", s.version);
    o.String("telemetry_path", s.telemetry_path);
    o.String("layout_error", s.layout_error);
    o.Number("shares_interval_seconds", s.shares_interval_seconds);
    o.Number("shares_age_seconds", s.shares_age_seconds);
    o.Number("census_age_seconds", s.census_age_seconds);
    o.Number("inventory_age_seconds", s.inventory_age_seconds);
    o.String("inventory_source", s.inventory_source);
    Array(o.Key("cpus"), s.cpus, Cpu);
    Tables(o, s);
  }
  out += '\n';
  return out;
}

}  // namespace hostiso
