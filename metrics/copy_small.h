#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace hostiso {

// Copies `n` bytes. Most pieces of a scrape are a few bytes long (label
// names, CPU numbers, short values, punctuation), where a call to memcpy with
// a length known only at run time costs more than the copy: up to 16 bytes
// are moved by two fixed-size copies that may overlap (each compiles to one
// load and one store), and nothing beyond `src + n` is read.
inline void CopySmall(char* dst, const char* src, std::size_t n) {
  if (n >= 8 && n <= 16) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, n);
  }
}

// `s = v`. A string refilled at every scrape (a pooled series' label) usually
// gets text of the same length as last time (label names, domain names, CPU
// numbers): then only the bytes are copied, with no call into the string's
// out-of-line assignment. `v` must not point into `s`.
inline void AssignSmall(std::string& s, std::string_view v) {
  if (s.size() != v.size()) {
    s.assign(v.data(), v.size());
    return;
  }
  CopySmall(s.data(), v.data(), v.size());
}

}  // namespace hostiso
