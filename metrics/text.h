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
std::optional<std::uint64_t> ParseUint(std::string_view s);
std::optional<std::int64_t> ParseInt(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);
std::string ToLower(std::string_view s);

}  // namespace hostiso
