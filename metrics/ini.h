#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/expected.h"

namespace hostiso {

// One "key = value" occurrence, with the line it came from for error messages.
struct IniValue {
  std::string value;
  int line = 0;
};

// An oslo.config style INI file (nova.conf): [section] headers, "key = value"
// (or "key: value"), '#' and ';' comments at line start, indented continuation
// lines, repeated keys kept in order (multi-valued options like
// reserved_huge_pages use all of them; others use the last).
class IniFile {
 public:
  // Section and key names are case-sensitive as in oslo.config, except that
  // "DEFAULT" is matched exactly as written.
  const std::vector<IniValue>* All(std::string_view section,
                                   std::string_view key) const;
  std::optional<IniValue> Last(std::string_view section,
                               std::string_view key) const;
  std::map<std::string,
           std::map<std::string, std::vector<IniValue>, std::less<>>,
           std::less<>>
      sections;
};

// `source` names the file in error messages.
Expected<IniFile> ParseIni(std::string_view text, std::string_view source);

}  // namespace hostiso
