# Build options shared by every preset.
option(KVSD_WERROR "Treat compiler warnings as errors" OFF)
option(KVSD_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(KVSD_BUILD_TESTS "Build unit and integration tests" ON)

find_program(KVSD_CCACHE ccache)
if(KVSD_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${KVSD_CCACHE})
endif()
