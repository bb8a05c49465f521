#include "head/page_files.h"

namespace lumen::head {

// Defined in the generated page_files_data.cc.
extern const PageFile kPageFiles[];
extern const size_t kPageFileCount;

const PageFile* FindPageFile(const std::string& path) {
  const std::string wanted = path == "/" ? "/index.html" : path;
  for (size_t i = 0; i < kPageFileCount; ++i) {
    if (wanted == kPageFiles[i].path) return &kPageFiles[i];
  }
  return nullptr;
}

}  // namespace lumen::head
