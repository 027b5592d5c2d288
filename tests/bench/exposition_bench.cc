// Google Benchmark: the label-value writer of the text exposition, which
// repairs invalid UTF-8 and escapes every value on the scrape path. Compared
// with the byte-by-byte escaping loop it replaced (no UTF-8 check), on the
// values a scrape writes: short ASCII (cpu numbers, comm), longer ASCII
// (violation subjects, paths), non-ASCII UTF-8 and hostile bytes.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

// The escaping loop before UTF-8 repair, kept as the baseline.
void EscapeWithoutUtf8Check(std::string& out, std::string_view v) {
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

const std::vector<std::string>& Values(int kind) {
  static const std::vector<std::vector<std::string>> kValues = {
      {"0", "17", "255", "ovs-vswitchd", "kworker", "qemu-system-x86"},
      {"instance-0000abcd vcpu 3", "irq 45 (nvme0q0)",
       "/var/lib/nova/instances/6b1b3f4e-0000-4000-8000-000000000001"},
      {"caf\xC3\xA9-\xE6\x9C\x8D\xE5\x8A\xA1", "\xF0\x9F\x98\x80 guest"},
      {"\xFF\xFE\"\\\nhostiso",
       "a\xC0\xAF"
       "b\xED\xA0\x80"},
  };
  return kValues[kind];
}

template <void (*kWrite)(std::string&, std::string_view)>
void BM_Labels(benchmark::State& state) {
  const auto& values = Values(static_cast<int>(state.range(0)));
  std::string out;
  std::size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const auto& v : values) kWrite(out, v);
    benchmark::DoNotOptimize(out.data());
    bytes += out.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() *
                          static_cast<std::int64_t>(values.size()));
}
// 0 short ASCII, 1 long ASCII, 2 UTF-8, 3 hostile bytes.
BENCHMARK(BM_Labels<detail::AppendEscapedLabelValue>)->DenseRange(0, 3);
BENCHMARK(BM_Labels<EscapeWithoutUtf8Check>)->DenseRange(0, 3);

}  // namespace
}  // namespace hostiso

BENCHMARK_MAIN();
