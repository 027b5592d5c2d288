#include "metrics/procfs/kernel_cmdline.h"

#include <cctype>

#include "metrics/text.h"

namespace hostiso {
namespace {

// Splits the command line into parameters the way the kernel's next_arg() does:
// whitespace separates, double quotes group.
std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  bool in_quotes = false;
  bool has_token = false;
  for (char c : text) {
    if (c == '"') {
      in_quotes = !in_quotes;
      has_token = true;
      continue;
    }
    if (!in_quotes && std::isspace(static_cast<unsigned char>(c))) {
      if (has_token) out.push_back(std::move(current));
      current.clear();
      has_token = false;
      continue;
    }
    current += c;
    has_token = true;
  }
  if (has_token) out.push_back(std::move(current));
  return out;
}

bool IsIsolcpusFlag(std::string_view s) {
  return s == "nohz" || s == "domain" || s == "managed_irq";
}

}  // namespace

Expected<KernelCmdline> ParseKernelCmdline(std::string_view text) {
  KernelCmdline out;
  for (const std::string& token : Tokenize(text)) {
    if (token == "--") break;
    auto eq = token.find('=');
    if (eq == std::string::npos) continue;
    std::string_view name(token.data(), eq);
    std::string_view value(token.data() + eq + 1, token.size() - eq - 1);
    if (name == "isolcpus") {
      // isolcpus=[flag,...,]cpu-list: flags come first; the list itself may
      // contain commas, so peel off leading words that are known flags.
      std::vector<std::string> flags;
      while (true) {
        auto comma = value.find(',');
        std::string_view head = value.substr(0, comma);
        if (!IsIsolcpusFlag(head)) break;
        flags.emplace_back(head);
        value = comma == std::string_view::npos ? std::string_view()
                                                : value.substr(comma + 1);
      }
      if (!value.empty() &&
          std::isalpha(static_cast<unsigned char>(value.front()))) {
        return Error(
            "/proc/cmdline: isolcpus=" + std::string(token.substr(eq + 1)) +
            ": unknown flag (expected nohz, domain or managed_irq before the "
            "CPU list)");
      }
      HOSTISO_ASSIGN_OR_RETURN(out.isolcpus,
                               ParseCpuList(value, CpuListSyntax::kKernel)
                                   .WithContext("/proc/cmdline: isolcpus"));
      out.isolcpus_flags = std::move(flags);
    } else if (name == "nohz_full" || name == "rcu_nocbs") {
      // rcu_nocbs may be given without a list ("rcu_nocbs" alone is handled
      // above as a flag-less token); "all" is accepted by recent kernels.
      CpuSet* target = name == "nohz_full" ? &out.nohz_full : &out.rcu_nocbs;
      if (value == "all") {
        // Without knowing the CPU count here, record nothing; sysfs nohz_full
        // is authoritative for the per-CPU gauge.
        *target = CpuSet();
        continue;
      }
      HOSTISO_ASSIGN_OR_RETURN(
          *target, ParseCpuList(value, CpuListSyntax::kKernel)
                       .WithContext("/proc/cmdline: " + std::string(name)));
    }
  }
  return out;
}

}  // namespace hostiso
