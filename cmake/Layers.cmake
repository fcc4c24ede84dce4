# The layering of src/ (one library per folder), read from src/layers.txt: kvsd_layer(<folder>)
# makes the library kvsd_<folder>, links it to exactly the kvsd libraries its line names, and
# exposes only its own folder's headers. The headers are reached through a directory of the
# build tree holding one symbolic link, <build>/layers/<folder>/<folder> -> src/<folder>, so a
# target's include path holds the folders of the libraries it links (directly or through their
# public links) and no others: "#include "storage/..."" in an http file does not compile.
#
#   kvsd_layer(<folder> SOURCES <files...> | HEADER_ONLY
#              [PUBLIC <external targets...>] [PRIVATE <external targets...>])

set(KVSD_LAYERS_FILE ${PROJECT_SOURCE_DIR}/src/layers.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${KVSD_LAYERS_FILE})
file(STRINGS ${KVSD_LAYERS_FILE} _kvsd_layer_lines REGEX "^[a-z+]+:")
set(KVSD_LAYERS "")
foreach(_line IN LISTS _kvsd_layer_lines)
  string(REGEX MATCH "^([a-z+]+):([^|]*)" _ "${_line}")
  set(_folder ${CMAKE_MATCH_1})
  string(STRIP "${CMAKE_MATCH_2}" _uses)
  string(REGEX REPLACE "[ \t]+" ";" _uses "${_uses}")
  foreach(_use IN LISTS _uses)
    if(NOT _use IN_LIST KVSD_LAYERS)
      message(FATAL_ERROR "src/layers.txt: ${_folder} uses ${_use}, which is not a layer listed above it")
    endif()
  endforeach()
  list(APPEND KVSD_LAYERS ${_folder})
  set(KVSD_LAYER_USES_${_folder} ${_uses})
endforeach()

# kvs: include/kvs, header-only vocabulary types and interfaces.
add_library(kvsd_kvs INTERFACE)
target_include_directories(kvsd_kvs INTERFACE ${PROJECT_SOURCE_DIR}/include)

function(kvsd_layer folder)
  cmake_parse_arguments(L "HEADER_ONLY" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  if(NOT folder IN_LIST KVSD_LAYERS)
    message(FATAL_ERROR "kvsd_layer(${folder}): no line for ${folder} in src/layers.txt")
  endif()
  set(target kvsd_${folder})
  set(stage ${CMAKE_BINARY_DIR}/layers/${folder})
  file(MAKE_DIRECTORY ${stage})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${folder} ${stage}/${folder} SYMBOLIC)
  set(uses "")
  foreach(use IN LISTS KVSD_LAYER_USES_${folder})
    list(APPEND uses kvsd_${use})
  endforeach()
  if(L_HEADER_ONLY)
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${stage})
    target_link_libraries(${target} INTERFACE ${uses} ${L_PUBLIC})
  else()
    add_library(${target} ${L_SOURCES})
    target_include_directories(${target} PUBLIC ${stage})
    target_link_libraries(${target} PUBLIC ${uses} ${L_PUBLIC} PRIVATE kvsd_warnings ${L_PRIVATE})
  endif()
endfunction()
