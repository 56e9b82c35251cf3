# Install rules: the static library, its headers (including the WDK shims) and a CMake package
# so that consumers write find_package(irqsim CONFIG) and link irqsim::irqsim.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS irqsim EXPORT irqsimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${CMAKE_INSTALL_INCLUDEDIR}/irqsim/wdk)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT irqsimTargets NAMESPACE irqsim:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/irqsim)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/irqsimConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/irqsimConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/irqsim)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/irqsimConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/irqsimConfig.cmake ${PROJECT_BINARY_DIR}/irqsimConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/irqsim)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/irqsim)
