# kvsd_warnings: an interface target every kvsd library links to get the project's warning set.
add_library(kvsd_warnings INTERFACE)
target_compile_options(kvsd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough)
# g++ 12 reports false -Wrestrict positives inside std::string at -O2/-O3 (GCC bug 105651), and
# false -Wmismatched-new-delete positives at -O2 on coroutine frames whose promise type has its
# own operator new/delete (Boost.Asio's awaitable frames; GCC bug 109224).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(kvsd_warnings INTERFACE -Wno-restrict -Wno-mismatched-new-delete)
endif()
if(KVSD_WERROR)
  target_compile_options(kvsd_warnings INTERFACE -Werror)
endif()
