#include "metrics/testing/temp_tree.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace hostiso::testing {

TempTree::TempTree() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "hostiso-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
}

TempTree::~TempTree() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

void TempTree::Write(const std::string& rel, const std::string& content) const {
  std::filesystem::path p = Path(rel);
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

void TempTree::Remove(const std::string& rel) const {
  std::filesystem::remove_all(Path(rel));
}

void TempTree::MakeDir(const std::string& rel) const {
  std::filesystem::create_directories(Path(rel));
}

}  // namespace hostiso::testing
