#include "metrics/text_exposition.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "metrics/copy_small.h"

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

char* WriteSampleValue(char* p, double v) {
  if (std::isnan(v)) return std::copy_n("NaN", 3, p);
  if (std::isinf(v)) return std::copy_n(v > 0 ? "+Inf" : "-Inf", 4, p);
  // Both fast paths write what std::to_chars(double) writes (the golden
  // files and the unit tests hold them to it), several times cheaper than
  // its shortest-digits search: most samples are integral (counts, CPU
  // numbers, bytes, 0/1 gauges) or seconds from nanosecond counters.
  char* end = WriteIntegral(p, p + kMaxSampleValueLength, v);
  if (end == nullptr) end = WriteNanoDecimal(p, v);
  if (end == nullptr) {
    auto [ptr, ec] = std::to_chars(p, p + kMaxSampleValueLength, v);
    end = ec == std::errc() ? ptr : p;
  }
  return end;
}

void AppendSampleValue(std::string& out, double v) {
  char buf[kMaxSampleValueLength];
  out.append(buf, static_cast<std::size_t>(WriteSampleValue(buf, v) - buf));
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

// Nonzero when a byte of `word` is `c` (the "has zero byte" test of
// word ^ c repeated).
constexpr std::uint64_t HasByte(std::uint64_t word, unsigned char c) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  const std::uint64_t x = word ^ (kOnes * c);
  return (x - kOnes) & ~x & (kOnes * 0x80);
}

// End of the run of bytes from `i` that need no escape or repair: eight bytes
// at a time (label values are mostly plain ASCII names), then byte by byte
// from the first word that holds a special byte.
template <Escapes kMode>
std::size_t PlainRunEnd(std::string_view v, std::size_t i) {
  static constexpr std::array<bool, 256> kSpecial = SpecialBytes<kMode>();
  for (; i + 8 <= v.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, v.data() + i, sizeof word);
    std::uint64_t special = word & 0x8080808080808080ULL;
    if constexpr (kMode != Escapes::kNone)
      special |= HasByte(word, '\\') | HasByte(word, '\n');
    if constexpr (kMode == Escapes::kLabelValue) special |= HasByte(word, '"');
    if (special != 0) break;
  }
  while (i < v.size() && !kSpecial[static_cast<unsigned char>(v[i])]) ++i;
  return i;
}

template <Escapes kMode>
void AppendSanitized(std::string& out, std::string_view v) {
  std::size_t i = 0;
  while (i < v.size()) {
    // Fast path: copy the run of plain ASCII in one append.
    const std::size_t run = PlainRunEnd<kMode>(v, i);
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

std::string_view TypeName(prometheus::MetricType type) {
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

namespace {

// The exposition text, written through a pointer into a buffer grown by
// doubling: a scrape writes tens of thousands of samples of a dozen pieces
// each (libvirt: 18,000), and std::string's append per piece (capacity
// check, terminator) cost as much as the copying.
class TextBuffer {
 public:
  explicit TextBuffer(std::size_t initial) { text_.resize(initial); }
  void Put(std::string_view s) {
    CopySmall(Room(s.size()), s.data(), s.size());
    used_ += s.size();
  }
  void Put(char c) {
    *Room(1) = c;
    ++used_;
  }
  // A label value that needs no escape or repair (the usual case) is copied
  // whole; any other goes through AppendEscapedLabelValue.
  void PutLabelValue(std::string_view v) {
    if (detail::PlainRunEnd<detail::Escapes::kLabelValue>(v, 0) == v.size()) {
      Put(v);
      return;
    }
    scratch_.clear();
    detail::AppendEscapedLabelValue(scratch_, v);
    Put(scratch_);
  }
  void PutSampleValue(double v) {
    char* p = Room(detail::kMaxSampleValueLength);
    used_ =
        static_cast<std::size_t>(detail::WriteSampleValue(p, v) - text_.data());
  }
  std::size_t Size() const { return used_; }
  std::string Take() && {
    text_.resize(used_);
    return std::move(text_);
  }

 private:
  char* Room(std::size_t n) {
    if (text_.size() - used_ < n)
      text_.resize(std::max(text_.size() * 2, used_ + n));
    return text_.data() + used_;
  }
  std::string text_;
  std::size_t used_ = 0;
  std::string scratch_;
};

// Each series' labels live in heap blocks of their own (the label vector, and
// a value longer than the string's inline buffer, such as a domain name), met
// in no order the hardware prefetcher follows: on the libvirt collector's
// 18,000 series most of the writer's time was spent waiting for them. Two
// stages ahead: the label vector of series i + 8, then the value text of
// series i + 4, whose label vector the first stage fetched.
void PrefetchSeries(const std::vector<prometheus::ClientMetric>& series,
                    std::size_t i) {
  constexpr std::size_t kLabelsAhead = 8, kValuesAhead = 4;
  if (i + kLabelsAhead < series.size()) {
    // One cache line per label (two std::strings): address arithmetic only,
    // nothing of the block is read yet.
    for (const auto& l : series[i + kLabelsAhead].label) __builtin_prefetch(&l);
  }
  if (i + kValuesAhead < series.size()) {
    for (const auto& l : series[i + kValuesAhead].label)
      __builtin_prefetch(l.value.data());
  }
}

// A counter, gauge or untyped family.
void WriteSimpleFamily(const prometheus::MetricFamily& f, TextBuffer& out) {
  out.Put("# HELP ");
  out.Put(f.name);
  out.Put(' ');
  std::string help;
  detail::AppendEscapedHelp(help, f.help);
  out.Put(help);
  out.Put("\n# TYPE ");
  out.Put(f.name);
  out.Put(' ');
  out.Put(TypeName(f.type));
  out.Put('\n');
  const std::size_t n = f.metric.size();
  for (std::size_t i = 0; i < n; ++i) {
    PrefetchSeries(f.metric, i);
    const prometheus::ClientMetric& m = f.metric[i];
    out.Put(f.name);
    if (!m.label.empty()) {
      char separator = '{';
      for (const auto& l : m.label) {
        out.Put(separator);
        separator = ',';
        out.Put(l.name);
        out.Put("=\"");
        out.PutLabelValue(l.value);
        out.Put('"');
      }
      out.Put('}');
    }
    out.Put(' ');
    out.PutSampleValue(SampleValue(f, m));
    if (m.timestamp_ms != 0) {
      out.Put(' ');
      out.Put(std::to_string(m.timestamp_ms));
    }
    out.Put('\n');
  }
}

// prometheus-cpp 1.0.1 escapes label values but never checks UTF-8, and
// writes HELP verbatim (a newline in it would end the line): a summary or
// histogram is repaired in a copy, with HELP already escaped, then written by
// prometheus::TextSerializer.
void WriteDelegatedFamily(const prometheus::MetricFamily& f, TextBuffer& out) {
  prometheus::MetricFamily repaired = f;
  repaired.help.clear();
  detail::AppendEscapedHelp(repaired.help, f.help);
  for (auto& m : repaired.metric) {
    for (auto& l : m.label) l.value = detail::ToValidUtf8(l.value);
  }
  std::ostringstream other;
  prometheus::TextSerializer().Serialize(other, {repaired});
  out.Put(other.str());
}

void WriteFamily(const prometheus::MetricFamily& f, TextBuffer& out) {
  if (Simple(f.type)) {
    WriteSimpleFamily(f, out);
  } else {
    WriteDelegatedFamily(f, out);
  }
}

}  // namespace

std::string TextExposition::ToString(
    const std::vector<prometheus::MetricFamily>& families) {
  return ToString(families, {});
}

std::string TextExposition::ToString(
    const std::vector<prometheus::MetricFamily>& families,
    const std::vector<RenderedSlot>& rendered) {
  // Sized from this thread's previous exposition (scrapes vary little): one
  // allocation instead of a doubling series that zeroes and copies the text
  // several times over.
  thread_local std::size_t last_size = 0;
  TextBuffer out(std::max(std::size_t{64} * 1024, last_size + last_size / 8));
  auto slot = rendered.begin();
  for (std::size_t i = 0; i <= families.size(); ++i) {
    for (; slot != rendered.end() && slot->index <= i; ++slot)
      out.Put(slot->family->text);
    if (i < families.size()) WriteFamily(families[i], out);
  }
  last_size = out.Size();
  return std::move(out).Take();
}

std::string TextExposition::FamilyText(const prometheus::MetricFamily& family) {
  // Not through ToString: one family must not shrink the next scrape's
  // buffer estimate.
  TextBuffer out(4096);
  WriteFamily(family, out);
  return std::move(out).Take();
}

void TextExposition::Serialize(
    std::ostream& out,
    const std::vector<prometheus::MetricFamily>& families) const {
  out << ToString(families);
}

}  // namespace hostiso
