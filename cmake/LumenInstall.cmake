# `cmake --install` installs a CMake package: find_package(lumen), link lumen::lumen.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

get_property(libraries GLOBAL PROPERTY LUMEN_LIBRARIES)
get_property(include_dirs GLOBAL PROPERTY LUMEN_INCLUDE_DIRS)
get_property(generated_dirs GLOBAL PROPERTY LUMEN_GENERATED_DIRS)
install(TARGETS ${libraries} lumen_storage EXPORT lumenTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS lumen_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir ${include_dirs} ${generated_dirs})
  install(DIRECTORY ${dir}/lumen DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
endforeach()
install(EXPORT lumenTargets NAMESPACE lumen:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lumen)
configure_package_config_file(cmake/lumenConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/lumenConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lumen)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/lumenConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lumenConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/lumenConfigVersion.cmake
  cmake/LumenDependencies.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lumen)
