#include "metrics/ini.h"

#include "metrics/text.h"

namespace hostiso {

const std::vector<IniValue>* IniFile::All(std::string_view section,
                                          std::string_view key) const {
  auto s = sections.find(section);
  if (s == sections.end()) return nullptr;
  auto k = s->second.find(key);
  if (k == s->second.end() || k->second.empty()) return nullptr;
  return &k->second;
}

std::optional<IniValue> IniFile::Last(std::string_view section,
                                      std::string_view key) const {
  const auto* all = All(section, key);
  if (all == nullptr) return std::nullopt;
  return all->back();
}

// Errors name the file, the line and the section but never quote the line:
// a malformed line may be part of a password (nova.conf holds the database
// and message-queue credentials) and errors reach the status page and logs.
Expected<IniFile> ParseIni(std::string_view text, std::string_view source) {
  IniFile ini;
  std::string section;
  IniValue* last_value = nullptr;
  int line_no = 0;
  for (std::string_view raw : Split(text, '\n')) {
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = TrimSpace(raw);
    if (line.empty()) {
      last_value = nullptr;
      continue;
    }
    if (line.front() == '#' || line.front() == ';') continue;
    auto where = [&] {
      return std::string(source) + ":" + std::to_string(line_no) + ": ";
    };
    // An indented line continues the previous value (oslo.config's iniparser).
    if ((raw.front() == ' ' || raw.front() == '\t') && last_value != nullptr) {
      last_value->value += '\n';
      last_value->value += line;
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return Error(where() + "expected a section header like [DEFAULT]");
      }
      section = std::string(TrimSpace(line.substr(1, line.size() - 2)));
      ini.sections[section];
      last_value = nullptr;
      continue;
    }
    std::size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) {
      return Error(where() + "expected 'key = value'" +
                   (section.empty() ? "" : " in [" + section + "]"));
    }
    if (section.empty()) {
      return Error(where() + "'key = value' before any [section] header");
    }
    std::string_view key = TrimSpace(line.substr(0, sep));
    if (key.empty()) {
      return Error(where() + "expected a key before '" +
                   std::string(1, line[sep]) + "'");
    }
    auto& values = ini.sections[section][std::string(key)];
    values.push_back(
        IniValue{std::string(TrimSpace(line.substr(sep + 1))), line_no});
    last_value = &values.back();
  }
  return ini;
}

}  // namespace hostiso
