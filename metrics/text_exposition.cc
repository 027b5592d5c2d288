#include "metrics/text_exposition.h"

#include <prometheus/text_serializer.h>

#include <array>
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

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at the start of `s` (Unicode 15,
// table 3-7), or 0 with `*bad` set to the length of its maximal ill-formed
// subpart (at least 1), which becomes one U+FFFD.
std::size_t WellFormedLength(std::string_view s, std::size_t* bad) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(0);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong below U+0800
    if (lead == 0xED) hi = 0x9F;  // UTF-16 surrogates D800-DFFF
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong below U+10000
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    *bad = 1;  // stray continuation byte, C0, C1 or F5-FF
    return 0;
  }
  for (std::size_t i = 1; i < len; ++i) {
    unsigned char b = i < s.size() ? byte(i) : 0;
    bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (i >= s.size() || !ok) {
      *bad = i;
      return 0;
    }
  }
  return len;
}

enum class Escapes { kNone, kHelp, kLabelValue };

// True for bytes that leave the fast path: non-ASCII and the escaped
// characters.
template <Escapes kMode>
constexpr std::array<bool, 256> SpecialBytes() {
  std::array<bool, 256> t{};
  for (int b = 0x80; b < 256; ++b) t[b] = true;
  if (kMode != Escapes::kNone) {
    t['\\'] = true;
    t['\n'] = true;
  }
  if (kMode == Escapes::kLabelValue) t['"'] = true;
  return t;
}

template <Escapes kMode>
void AppendSanitized(std::string& out, std::string_view v) {
  static constexpr std::array<bool, 256> kSpecial = SpecialBytes<kMode>();
  std::size_t i = 0;
  while (i < v.size()) {
    // Fast path: copy the run of plain ASCII in one append.
    std::size_t run = i;
    while (run < v.size() && !kSpecial[static_cast<unsigned char>(v[run])])
      ++run;
    out.append(v.data() + i, run - i);
    i = run;
    if (i == v.size()) break;
    char c = v[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      out += '\\';
      out += c == '\n' ? 'n' : c;
      ++i;
      continue;
    }
    std::size_t bad = 0;
    std::size_t len = WellFormedLength(v.substr(i), &bad);
    if (len != 0) {
      out.append(v.data() + i, len);
      i += len;
    } else {
      out += kReplacement;
      i += bad;
    }
  }
}

}  // namespace

void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  AppendSanitized<Escapes::kLabelValue>(out, v);
}

void AppendEscapedHelp(std::string& out, std::string_view help) {
  AppendSanitized<Escapes::kHelp>(out, help);
}

std::string ToValidUtf8(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  AppendSanitized<Escapes::kNone>(out, v);
  return out;
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
      // prometheus-cpp 1.0.1 escapes label values but never checks UTF-8,
      // and writes HELP verbatim (a newline in it would end the line): repair
      // a copy first, with HELP already escaped.
      prometheus::MetricFamily repaired = f;
      repaired.help.clear();
      detail::AppendEscapedHelp(repaired.help, f.help);
      for (auto& m : repaired.metric) {
        for (auto& l : m.label) l.value = detail::ToValidUtf8(l.value);
      }
      std::ostringstream other;
      prometheus::TextSerializer().Serialize(other, {repaired});
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
