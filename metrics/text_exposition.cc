#include "metrics/text_exposition.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace hostiso {
namespace detail {

void AppendSampleValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

void AppendEscapedLabelValue(std::string& out, const std::string& v) {
  // Almost every value (domain names, CPU numbers) needs no escape: append it
  // whole rather than a character at a time (tens of thousands per scrape).
  if (std::none_of(v.begin(), v.end(),
                   [](char c) { return c == '\\' || c == '"' || c == '\n'; })) {
    out += v;
    return;
  }
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void AppendEscapedHelp(std::string& out, const std::string& help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace detail

namespace {

const char* TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    default:
      return "untyped";
  }
}

double SampleValue(const prometheus::MetricFamily& f,
                   const prometheus::ClientMetric& m) {
  switch (f.type) {
    case prometheus::MetricType::Counter:
      return m.counter.value;
    case prometheus::MetricType::Gauge:
      return m.gauge.value;
    default:
      return m.untyped.value;
  }
}

bool Simple(prometheus::MetricType type) {
  return type == prometheus::MetricType::Counter ||
         type == prometheus::MetricType::Gauge ||
         type == prometheus::MetricType::Untyped;
}

}  // namespace

std::string TextExposition::ToString(
    const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  out.reserve(std::size_t{64} * 1024);
  for (const auto& f : families) {
    if (!Simple(f.type)) {
      std::ostringstream other;
      prometheus::TextSerializer().Serialize(other, {f});
      out += other.str();
      continue;
    }
    out += "# HELP ";
    out += f.name;
    out += ' ';
    detail::AppendEscapedHelp(out, f.help);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += TypeName(f.type);
    out += '\n';
    for (const auto& m : f.metric) {
      out += f.name;
      if (!m.label.empty()) {
        out += '{';
        bool first = true;
        for (const auto& l : m.label) {
          if (!first) out += ',';
          first = false;
          out += l.name;
          out += "=\"";
          detail::AppendEscapedLabelValue(out, l.value);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      detail::AppendSampleValue(out, SampleValue(f, m));
      if (m.timestamp_ms != 0) {
        out += ' ';
        out += std::to_string(m.timestamp_ms);
      }
      out += '\n';
    }
  }
  return out;
}

void TextExposition::Serialize(
    std::ostream& out,
    const std::vector<prometheus::MetricFamily>& families) const {
  out << ToString(families);
}

}  // namespace hostiso
