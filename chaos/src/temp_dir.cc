#include "temp_dir.h"

#include <stdlib.h>

#include <filesystem>

namespace chaos {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) return;
  path_ = pattern;
  abandon_ = std::make_unique<AbandonAction>([path = path_] {
    std::error_code ignore;
    fs::remove_all(path, ignore);
  });
}

TempDir::~TempDir() {
  abandon_.reset();
  std::error_code ignore;
  if (!path_.empty()) fs::remove_all(path_, ignore);
}

}  // namespace chaos
