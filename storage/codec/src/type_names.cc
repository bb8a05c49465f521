// Type names that are not simple concatenations: LUMEN_FIELDS structs and
// Cap'n Proto structs.

#include <cctype>
#include <cstdio>

#include <lumen/storage/codec.h>

namespace lumen::codec::internal {

std::string StructTypeName(const char* field_names, const std::string* type_names, size_t n) {
  // field_names is the macro's argument text, e.g. "name, age".
  std::string out = "{";
  const char* p = field_names;
  for (size_t i = 0; i < n; ++i) {
    while (*p == ',' || std::isspace(static_cast<unsigned char>(*p))) ++p;
    const char* end = p;
    while (*end != '\0' && *end != ',' && !std::isspace(static_cast<unsigned char>(*end))) ++end;
    if (i != 0) out += ',';
    out.append(p, end);
    out += ':';
    out += type_names[i];
    p = end;
  }
  out += '}';
  return out;
}

std::string CapnpTypeName(uint64_t type_id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "capnp@%016llx", static_cast<unsigned long long>(type_id));
  return buf;
}

}  // namespace lumen::codec::internal
