# Finds the libraries lumen is built on, all from Debian's packages, and wraps
# those that ship no CMake config as imported targets. Also used by the
# installed package config, so keep it free of build-tree paths.
include(CMakeFindDependencyMacro)

# Cap'n Proto's config probes libatomic with the C compiler.
get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if(NOT "C" IN_LIST languages)
  enable_language(C)
endif()

find_dependency(CapnProto CONFIG)
find_dependency(RocksDB CONFIG)
find_dependency(nlohmann_json 3 CONFIG)  # header-only; named by lumen_lineage's exported link interface
find_dependency(Boost 1.74)
find_dependency(Threads)
find_dependency(OpenSSL)  # mutual TLS on the supervision port (libcaf_openssl)
# Debian's cpp-httplib is a compiled library whose flags (TLS, compression)
# change its classes' layout: take them from its pkg-config file. The
# dashboard (lumen_head) links it.
find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::LUMEN_HTTPLIB)
  pkg_check_modules(LUMEN_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

# CAF 0.17 ships neither a CMake config nor a pkg-config file.
if(NOT TARGET lumen_caf::core)
  find_path(LUMEN_CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
  find_library(LUMEN_CAF_CORE_LIBRARY caf_core REQUIRED)
  find_library(LUMEN_CAF_IO_LIBRARY caf_io REQUIRED)
  add_library(lumen_caf::core UNKNOWN IMPORTED)
  set_target_properties(lumen_caf::core PROPERTIES
    IMPORTED_LOCATION "${LUMEN_CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LUMEN_CAF_INCLUDE_DIR}")
  add_library(lumen_caf::io UNKNOWN IMPORTED)
  set_target_properties(lumen_caf::io PROPERTIES
    IMPORTED_LOCATION "${LUMEN_CAF_IO_LIBRARY}"
    INTERFACE_LINK_LIBRARIES lumen_caf::core)
  find_library(LUMEN_CAF_OPENSSL_LIBRARY caf_openssl REQUIRED)
  add_library(lumen_caf::openssl UNKNOWN IMPORTED)
  set_target_properties(lumen_caf::openssl PROPERTIES
    IMPORTED_LOCATION "${LUMEN_CAF_OPENSSL_LIBRARY}"
    INTERFACE_LINK_LIBRARIES "lumen_caf::io;OpenSSL::SSL;OpenSSL::Crypto")
endif()
