# Warnings as errors on our own code, the sanitizer flags every target shares,
# and the helpers that define one library or test binary per folder.
# LUMEN_SANITIZER_LINK_FLAGS: what a program linking instrumented lumen
# libraries needs too (exported on lumen::lumen for outside projects).
if(LUMEN_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  set(LUMEN_SANITIZER_LINK_FLAGS -fsanitize=address,undefined)
elseif(LUMEN_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  set(LUMEN_SANITIZER_LINK_FLAGS -fsanitize=thread)
elseif(NOT LUMEN_SANITIZE STREQUAL "")
  message(FATAL_ERROR "LUMEN_SANITIZE must be '', 'address' or 'thread', not '${LUMEN_SANITIZE}'")
endif()
# Tests of a sanitizer build skip leaks inside CAF's libraries (lsan.supp says why).
set(LUMEN_TEST_ENVIRONMENT "")
if(LUMEN_SANITIZE STREQUAL "address")
  set(LUMEN_TEST_ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp:print_suppressions=0")
endif()
if(LUMEN_SANITIZER_LINK_FLAGS)
  add_link_options(${LUMEN_SANITIZER_LINK_FLAGS})
endif()

function(lumen_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

# A library of one storage/ or framework/ folder: sources in src/, public
# headers in include/, generated Cap'n Proto headers beside them.
function(lumen_library target)
  cmake_parse_arguments(ARG "" "" "SCHEMAS;PUBLIC;PRIVATE" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cc)
  set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/gen)
  if(ARG_SCHEMAS)
    set(CAPNPC_SRC_PREFIX ${CMAKE_CURRENT_SOURCE_DIR}/schema)
    set(CAPNPC_OUTPUT_DIR ${gen_dir}/lumen/storage)
    set(CAPNPC_IMPORT_DIRS ${PROJECT_SOURCE_DIR}/storage/codec/schema)
    file(MAKE_DIRECTORY ${CAPNPC_OUTPUT_DIR})
    capnp_generate_cpp(schema_srcs schema_hdrs ${ARG_SCHEMAS})
    list(APPEND srcs ${schema_srcs})
    set_property(GLOBAL APPEND PROPERTY LUMEN_GENERATED_DIRS ${gen_dir})
  endif()
  add_library(${target} STATIC ${srcs})
  lumen_target_defaults(${target})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${gen_dir}>
    $<INSTALL_INTERFACE:include>)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
  set_property(GLOBAL APPEND PROPERTY LUMEN_LIBRARIES ${target})
  set_property(GLOBAL APPEND PROPERTY LUMEN_INCLUDE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include)
endfunction()

# A GoogleTest binary of one tests/ folder; every test runs with a timeout.
function(lumen_test target)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  add_executable(${target} ${srcs})
  lumen_target_defaults(${target})
  target_link_libraries(${target} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "${LUMEN_TEST_ENVIRONMENT}")
endfunction()
