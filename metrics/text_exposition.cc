#include "metrics/text_exposition.h"

#include <prometheus/text_serializer.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace hostiso {
namespace detail {

namespace {

// Decimal digits of `n`.
int DigitCount(std::uint64_t n) {
  int digits = 1;
  while (n >= 10) {
    n /= 10;
    ++digits;
  }
  return digits;
}

// Length of the %e form std::to_chars would weigh for a value of
// `significant` digits: "d.ddd" then "e+XX" (|exponent| < 100 here).
int ScientificLength(int significant) {
  return significant + (significant > 1 ? 1 : 0) + 4;
}

// Drops trailing zeros of `n` (not 0); returns how many.
int TrimZeros(std::uint64_t& n) {
  int zeros = 0;
  while (n % 10 == 0) {
    n /= 10;
    ++zeros;
  }
  return zeros;
}

// Writes `digits` of `n` zero-padded on the left.
char* WritePadded(char* p, std::uint64_t n, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return p + digits;
}

// An integral v below 2^53 in magnitude is an exact integer whose shortest
// round-trip digits are its own; std::to_chars(double) writes them plainly
// unless the %e form is strictly shorter ("1e+06" for 1000000). nullptr when
// this does not apply.
char* WriteIntegral(char* p, char* end, double v) {
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (!(v > -kExactIntegers && v < kExactIntegers) || v != std::trunc(v) ||
      (v == 0 && std::signbit(v)))  // -0.0 keeps its sign via to_chars
    return nullptr;
  const auto i = static_cast<std::int64_t>(v);
  std::uint64_t significant =
      i < 0 ? 0 - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
  if (significant != 0) {
    const int digits = DigitCount(significant);
    const int trailing = TrimZeros(significant);
    if (digits > ScientificLength(digits - trailing)) return nullptr;
  }
  return std::to_chars(p, end, i).ptr;
}

// Seconds counted in nanoseconds (schedstat, cpuacct, cgroup cpu.stat): a
// positive v below 10^6 that is the double nearest to m / 10^9 for an
// integer m. m then has at most 15 significant digits, so no other decimal
// of at most 15 digits reads back as v: the shortest round-trip text is m's
// digits with trailing zeros dropped, written as std::to_chars would (fixed
// unless the %e form is strictly shorter). nullptr when this does not apply.
char* WriteNanoDecimal(char* p, double v) {
  constexpr double kNano = 1e9;
  if (!(v > 0 && v < 1e6)) return nullptr;
  const auto m = static_cast<std::uint64_t>(std::llround(v * kNano));
  if (m == 0 || static_cast<double>(m) / kNano != v) return nullptr;
  const std::uint64_t whole = m / 1'000'000'000;
  std::uint64_t frac = m % 1'000'000'000;
  if (frac == 0) return nullptr;  // integral: not this path's
  const int frac_digits = 9 - TrimZeros(frac);
  if (whole != 0) {
    p = std::to_chars(p, p + 20, whole).ptr;
    *p++ = '.';
    return WritePadded(p, frac, frac_digits);
  }
  const int significant = DigitCount(frac);
  const int leading_zeros = frac_digits - significant;
  if (2 + frac_digits > ScientificLength(significant)) return nullptr;
  *p++ = '0';
  *p++ = '.';
  for (int i = 0; i < leading_zeros; ++i) *p++ = '0';
  return WritePadded(p, frac, significant);
}

}  // namespace

void AppendSampleValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  // Both fast paths write what std::to_chars(double) writes (the golden
  // files and the unit tests hold them to it), several times cheaper than
  // its shortest-digits search: most samples are integral (counts, CPU
  // numbers, bytes, 0/1 gauges) or seconds from nanosecond counters.
  char buf[32];
  char* end = WriteIntegral(buf, buf + sizeof(buf), v);
  if (end == nullptr) end = WriteNanoDecimal(buf, v);
  if (end == nullptr) {
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    end = ec == std::errc() ? ptr : buf;
  }
  out.append(buf, static_cast<std::size_t>(end - buf));
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
