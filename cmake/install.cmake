# `cmake --install build [--prefix P]`: the program, the C libraries with
# their headers and a CMake package config (find_package(oxvac)), the Python
# postprocessing package, the docs and the inputs.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS oxvac RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS oxvac_input oxvac_core EXPORT oxvacTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/oxvac DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT oxvacTargets NAMESPACE oxvac:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/oxvac)
configure_package_config_file(cmake/oxvacConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/oxvacConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/oxvac)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/oxvacConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/oxvacConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/oxvacConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/oxvac)

# Python: the package beside Debian's own (import oxvac with that prefix's
# lib/python3/dist-packages on the path; under /usr it is on it already).
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/postprocess/oxvac)
  install(DIRECTORY postprocess/oxvac DESTINATION lib/python3/dist-packages
    PATTERN __pycache__ EXCLUDE)
endif()
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES README.md LICENSE CITATION.cff DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY inputs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/oxvac/inputs)
