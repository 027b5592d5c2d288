#pragma once

#include <string>

namespace hostiso::testing {

// A temporary directory tree for fixture files built inside a test (oomd's
// style): removed with everything under it when the object goes away.
class TempTree {
 public:
  TempTree();
  ~TempTree();
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& Root() const { return root_; }
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }
  // Writes `content` to Root()/rel, creating parent directories.
  void Write(const std::string& rel, const std::string& content) const;
  void Remove(const std::string& rel) const;
  void MakeDir(const std::string& rel) const;

 private:
  std::string root_;
};

}  // namespace hostiso::testing
