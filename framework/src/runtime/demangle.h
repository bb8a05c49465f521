// Readable C++ type names ("Counter", not "7Counter") for messages, lineage
// and the dashboard.
#pragma once

#include <string>

namespace lumen::internal {

// `name` as typeid().name() gives it, demangled; itself if it is not a mangled name.
std::string Demangle(const std::string& name);

}  // namespace lumen::internal
