#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hostiso {

// Small string helpers shared by the parsers.
std::string_view TrimSpace(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);
// Splits on runs of spaces and tabs, dropping empty fields.
std::vector<std::string_view> SplitFields(std::string_view s);
// SplitFields one field at a time: the next field of `rest` (empty when none
// is left), and `rest` advanced past it. Allocates nothing: for the files read
// once per thread per scrape (thousands of schedstat files).
std::string_view TakeField(std::string_view& rest);
std::optional<std::uint64_t> ParseUint(std::string_view s);
std::optional<std::int64_t> ParseInt(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);
std::string ToLower(std::string_view s);
// Appends `text` as a JSON string: quoted, with '"', '\\', control characters
// escaped and invalid UTF-8 repaired (U+FFFD), as host strings (process and
// domain names) can hold any bytes. For the JSON log and the status page.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace hostiso
