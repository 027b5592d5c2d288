#include "exporter/web_escape.h"

#include <cstdio>

#include "metrics/text_exposition.h"

namespace hostiso {
namespace {

void AppendHex(std::string& out, const char* format, unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), format, value);
  out += buf;
}

}  // namespace

void AppendHtmlEscaped(std::string& out, std::string_view text) {
  const std::string valid = detail::ToValidUtf8(text);
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto c = static_cast<unsigned char>(valid[i]);
    switch (c) {
      case '&':
        out += "&amp;";
        continue;
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case '\'':
        out += "&#39;";
        continue;
      default:
        break;
    }
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
      AppendHex(out, "\\x%02x", c);
    } else if (c == 0xc2 && i + 1 < valid.size() &&
               static_cast<unsigned char>(valid[i + 1]) < 0xa0) {
      // U+0080..U+009F (C1 controls), encoded as C2 80..C2 9F.
      AppendHex(out, "\\u%04x", static_cast<unsigned char>(valid[i + 1]));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendHtmlEscaped(out, text);
  return out;
}

}  // namespace hostiso
