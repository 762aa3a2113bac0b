// Test-only helpers shared by every test binary.
#pragma once

#include <filesystem>

namespace kefu::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string (convenient for SQLite file names).
  std::string File(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

}  // namespace kefu::testing
