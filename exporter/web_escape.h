#pragma once

#include <string>
#include <string_view>

#include "metrics/text.h"

namespace hostiso {

// Host-controlled text (domain, process and IRQ names, paths, error
// messages) may hold any bytes. Both escapers first repair ill-formed UTF-8
// (each maximal ill-formed subpart becomes U+FFFD, as browsers decode it), so
// the page and the JSON are always valid UTF-8.

// For HTML text and double- or single-quoted attribute values: & < > " '
// as character references; C0 and C1 control characters (tab and newline
// kept) shown as "\xNN" / "\u0080" text so that they are visible, not
// silently dropped.
void AppendHtmlEscaped(std::string& out, std::string_view text);
std::string HtmlEscape(std::string_view text);

// A JSON string literal: AppendJsonString of metrics/text.h (one escaper for
// the status page's JSON and the JSON log).

}  // namespace hostiso
