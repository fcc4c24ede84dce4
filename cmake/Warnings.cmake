# kvsd_warnings: an interface target every kvsd library links to get the project's warning set.
add_library(kvsd_warnings INTERFACE)
target_compile_options(kvsd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough)
if(KVSD_WERROR)
  target_compile_options(kvsd_warnings INTERFACE -Werror)
endif()
