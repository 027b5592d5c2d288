#include "metrics/rendered_family.h"

#include "metrics/text_exposition.h"

namespace hostiso {

std::shared_ptr<const RenderedFamily> RenderedFamily::Make(
    prometheus::MetricFamily family) {
  auto rendered = std::make_shared<RenderedFamily>();
  rendered->text = TextExposition::FamilyText(family);
  rendered->family = std::move(family);
  return rendered;
}

}  // namespace hostiso
