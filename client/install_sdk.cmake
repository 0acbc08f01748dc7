# `cmake --install` of the C++ SDK: the headers, libopensandbox.a with the static libraries it
# is built on (its proto messages and OS helpers), a CMake package and a pkg-config file.
#
#   find_package(opensandbox CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE opensandbox::client)
# or
#   c++ -std=c++20 app.cc $(pkg-config --cflags --libs opensandbox)
include(CMakePackageConfigHelpers)

set(OSB_SDK_ARCHIVES osb_proto_pools osb_proto_templates osb_proto_sandboxes osb_proto_commands
    osb_proto_code osb_proto_files osb_proto_common osb_proto_status osb_proto_error_details osb_sys)
set_target_properties(opensandbox PROPERTIES EXPORT_NAME client)
install(TARGETS opensandbox ${OSB_SDK_ARCHIVES} EXPORT opensandboxTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/opensandbox DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(OSB_SDK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/opensandbox)
install(EXPORT opensandboxTargets NAMESPACE opensandbox:: DESTINATION ${OSB_SDK_CMAKE_DIR})
configure_package_config_file(opensandboxConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/opensandboxConfig.cmake INSTALL_DESTINATION ${OSB_SDK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/opensandboxConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/opensandboxConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/opensandboxConfigVersion.cmake
        DESTINATION ${OSB_SDK_CMAKE_DIR})

# The archives in link order: each before what it uses.
list(TRANSFORM OSB_SDK_ARCHIVES PREPEND -l OUTPUT_VARIABLE OSB_SDK_LINK_FLAGS)
list(JOIN OSB_SDK_LINK_FLAGS " " OSB_SDK_LINK_FLAGS)
# The prefix as a path relative to the .pc file (pkg-config's ${pcfiledir}), so the installed
# tree can be moved.
file(RELATIVE_PATH OSB_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(opensandbox.pc.in ${CMAKE_CURRENT_BINARY_DIR}/opensandbox.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/opensandbox.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
