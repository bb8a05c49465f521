// A private temp dir (mkdtemp under the system's temp dir), removed with
// everything in it when it goes, or by the watchdog (abandon.h).
#pragma once

#include <memory>
#include <string>

#include "abandon.h"

namespace chaos {

class TempDir {
 public:
  // `prefix`: the start of its name, e.g. "chaos-driver-". path() is "" when it could not be made.
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<AbandonAction> abandon_;
};

}  // namespace chaos
