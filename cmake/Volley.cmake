# volley_module(NAME SOURCES ... DEPS ... [PRIVATE_DEPS ...]): one static library per module,
# as in DESIGN.md §2. Public headers live in include/volley/<name>/, private ones beside the
# sources. DEPS are the modules and libraries its public headers need (PUBLIC);
# PRIVATE_DEPS those only its sources use (SQLite, simdjson, protobuf...): linked, not
# exported to whoever includes its headers.
function(volley_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(volley_${name} STATIC ${M_SOURCES})
  target_include_directories(volley_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(volley_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
endfunction()

# The <module> part of the test names of the current directory: its path below src/ or
# test/ with '_' for '/' (src/output/cloud → output_cloud, test/integration → integration).
function(volley_test_prefix out)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  string(REGEX REPLACE "^(src|test)/" "" rel "${rel}")
  string(REPLACE "/" "_" rel "${rel}")
  set(${out} ${rel} PARENT_SCOPE)
endfunction()

# volley_test(FILE LIBS ... [LABELS ...] [DEFINES ...] [DEPENDS ...]): one GoogleTest
# executable for one test file, registered with CTest as <module>_<file> (see
# volley_test_prefix), so the same file name in two modules cannot collide. Tests live
# beside the code they test; they see their module's private headers and reach test
# support (fakes, loopback servers, the subprocess helper) only by linking
# volley_test_fakes (test/fakes/), which exports "fakes/...". LABELS: `integration` for
# tests with real sockets or processes, `tsan` for the tests that run threads (run under
# ThreadSanitizer by scripts/dev.sh: ctest -L tsan). DEFINES: compile definitions;
# DEPENDS: targets to build first (the volley binary of process tests).
function(volley_test file)
  if(NOT VOLLEY_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "LIBS;LABELS;DEFINES;DEPENDS" ${ARGN})
  get_filename_component(base ${file} NAME_WE)
  volley_test_prefix(prefix)
  set(name ${prefix}_${base})
  add_executable(${name} ${file})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(T_DEFINES)
    target_compile_definitions(${name} PRIVATE ${T_DEFINES})
  endif()
  if(T_DEPENDS)
    add_dependencies(${name} ${T_DEPENDS})
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300)
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
