#include "runtime/demangle.h"

#include <cxxabi.h>

#include <cstdlib>

namespace lumen::internal {

std::string Demangle(const std::string& name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  std::string out = status == 0 && d ? d : name;
  std::free(d);
  return out;
}

}  // namespace lumen::internal
