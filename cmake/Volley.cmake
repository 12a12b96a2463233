# volley_module(NAME SOURCES ... DEPS ...): one static library per module, as in DESIGN.md §2.
# Public headers live in include/volley/<name>/, private ones beside the sources.
function(volley_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(volley_${name} STATIC ${M_SOURCES})
  target_include_directories(volley_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(volley_${name} PUBLIC ${M_DEPS})
endfunction()

# volley_test(FILE LIBS ... [LABELS ...]): one GoogleTest executable for one test file,
# registered with CTest. Tests live beside the code they test; they see their module's
# private headers and reach test support (fakes, loopback servers, the subprocess helper)
# only by linking volley_test_fakes (test/fakes/), which exports "fakes/...".
function(volley_test file)
  if(NOT VOLLEY_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "LIBS;LABELS" ${ARGN})
  get_filename_component(name ${file} NAME_WE)
  add_executable(${name} ${file})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300)
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
