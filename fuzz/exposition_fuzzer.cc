// libFuzzer harness: the text exposition writer with arbitrary bytes in HELP
// text and label values (process, domain and IRQ names come from the host).
// It checks the output, with a reader written independently of the writer:
// the whole text is valid UTF-8, every line is a HELP, TYPE or sample line of
// text format 0.0.4 with only the escapes it allows, and every label value
// that was valid UTF-8 reads back unchanged; every counter value is written
// as std::to_chars(double) writes it (the writer's integral and nanosecond
// fast paths included).
#include <fuzzer/FuzzedDataProvider.h>
#include <prometheus/metric_family.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/text_exposition.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view line) {
  std::fprintf(stderr, "exposition check failed: %s in line '%.*s'\n", what,
               static_cast<int>(line.size()), line.data());
  std::abort();
}

// Decodes code point by code point (RFC 3629): shortest form, no surrogates,
// nothing above U+10FFFF.
bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int extra = b < 0x80           ? 0
                : (b >> 5) == 0x6  ? 1
                : (b >> 4) == 0xE  ? 2
                : (b >> 3) == 0x1E ? 3
                                   : -1;
    if (extra < 0 || s.size() - i <= static_cast<std::size_t>(extra))
      return false;
    std::uint32_t cp = extra == 0 ? b : b & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 0x2) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += 1 + extra;
  }
  return true;
}

bool IsNameChar(char c, bool first) {
  return c == '_' || c == ':' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

// Reads a metric or label name at `pos`.
std::string_view ReadName(std::string_view line, std::size_t* pos) {
  std::size_t start = *pos;
  while (*pos < line.size() && IsNameChar(line[*pos], *pos == start)) ++*pos;
  if (*pos == start) Fail("expected a name", line);
  return line.substr(start, *pos - start);
}

// Reads an escaped label value after the opening quote; returns it unescaped.
std::string ReadLabelValue(std::string_view line, std::size_t* pos) {
  std::string value;
  while (true) {
    if (*pos >= line.size()) Fail("unterminated label value", line);
    char c = line[(*pos)++];
    if (c == '"') return value;
    if (c != '\\') {
      value += c;
      continue;
    }
    if (*pos >= line.size()) Fail("backslash at end of line", line);
    char e = line[(*pos)++];
    if (e == 'n') {
      value += '\n';
    } else if (e == '\\' || e == '"') {
      value += e;
    } else {
      Fail("invalid escape in label value", line);
    }
  }
}

void CheckHelp(std::string_view line) {
  std::size_t pos = 7;  // "# HELP "
  ReadName(line, &pos);
  if (pos < line.size() && line[pos] != ' ') Fail("bad HELP", line);
  for (std::size_t i = pos; i < line.size(); ++i) {
    if (line[i] != '\\') continue;
    if (i + 1 >= line.size() || (line[i + 1] != '\\' && line[i + 1] != 'n'))
      Fail("invalid escape in HELP", line);
    ++i;
  }
}

// A sample line; appends its label values to `values`, its value's text to
// `numbers`.
void CheckSample(std::string_view line, std::vector<std::string>* values,
                 std::vector<std::string>* numbers) {
  std::size_t pos = 0;
  ReadName(line, &pos);
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      ReadName(line, &pos);
      if (line.substr(pos, 2) != "=\"") Fail("expected =\"", line);
      pos += 2;
      values->push_back(ReadLabelValue(line, &pos));
      if (pos < line.size() && line[pos] == ',') ++pos;
    }
    if (pos >= line.size()) Fail("unterminated label set", line);
    ++pos;
  }
  if (pos >= line.size() || line[pos] != ' ') Fail("expected ' value'", line);
  std::string number(line.substr(pos + 1));
  char* end = nullptr;
  std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0') Fail("bad sample value", line);
  numbers->push_back(number);
}

// What the writer must write for `v`.
std::string ExpectedValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

// Values of every kind the fast paths take or refuse: any double, integers,
// seconds from nanoseconds.
double ConsumeValue(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      return static_cast<double>(in.ConsumeIntegral<std::int64_t>());
    case 1:
      return static_cast<double>(in.ConsumeIntegral<std::uint64_t>() >>
                                 in.ConsumeIntegralInRange(0, 63)) /
             1e9;
    default:
      return in.ConsumeFloatingPoint<double>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<prometheus::MetricFamily> fams(2);
  fams[0].name = "hostiso_intrusion_seconds_total";
  fams[0].type = prometheus::MetricType::Counter;
  fams[0].help = in.ConsumeRandomLengthString(64);
  fams[1].name = "s";
  fams[1].type = prometheus::MetricType::Summary;
  fams[1].help = in.ConsumeRandomLengthString(16);
  std::vector<std::string> written;
  std::vector<double> values;
  while (in.remaining_bytes() > 0 && fams[0].metric.size() < 8) {
    prometheus::ClientMetric m;
    for (const char* name : {"cpu", "comm"}) {
      m.label.push_back({name, in.ConsumeRandomLengthString(64)});
      written.push_back(m.label.back().value);
    }
    m.counter.value = ConsumeValue(in);
    values.push_back(m.counter.value);
    fams[0].metric.push_back(m);
  }
  prometheus::ClientMetric summary;
  summary.label.push_back({"l", in.ConsumeRemainingBytesAsString()});
  fams[1].metric.push_back(summary);

  std::string text = hostiso::TextExposition::ToString(fams);
  if (!IsUtf8(text)) Fail("output is not UTF-8", text);
  if (text.empty() || text.back() != '\n') Fail("no final newline", text);
  std::vector<std::string> read, numbers;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start, nl - start);
    start = nl + 1;
    if (line.rfind("# HELP ", 0) == 0) {
      CheckHelp(line);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      continue;
    } else {
      CheckSample(line, &read, &numbers);
    }
  }
  // The counter's values come first and in order; the summary's follow.
  if (read.size() < written.size()) Fail("label values lost", text);
  for (std::size_t i = 0; i < written.size(); ++i) {
    if (IsUtf8(written[i]) && read[i] != written[i])
      Fail("valid UTF-8 label value changed", written[i]);
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (numbers[i] != ExpectedValue(values[i]))
      Fail("value not written as std::to_chars writes it", numbers[i]);
  }
  return 0;
}
