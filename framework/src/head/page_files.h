// The dashboard's page: the files of head/page/, built into the binary at
// build time (cmake/EmbedFiles.cmake), so serving it needs no files on disk
// and building it needs no network.
#pragma once

#include <cstddef>
#include <string>

namespace lumen::head {

struct PageFile {
  const char* path;          // "/index.html", "/app.js", ...
  const char* content_type;
  const char* data;
  size_t size;
};

// The file served at `path` ("/" is /index.html), or nullptr.
const PageFile* FindPageFile(const std::string& path);

}  // namespace lumen::head
