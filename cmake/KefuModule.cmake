# kefu_add_module(NAME <name> [DIR <dir>] DEPS <targets...> [TEST_DEPS <targets...>])
#
# Creates the static library kefu_<name> from the *.cc files of <dir> (default: <name>),
# with the repository root as include path, so code includes "core/status.h".
# If tests/unit/<dir> holds *_test.cc files, also creates kefu_<name>_test and registers
# each test case with CTest.
set(KEFU_WARNINGS -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
    -Wimplicit-fallthrough)

function(kefu_set_warnings target)
  target_compile_options(${target} PRIVATE ${KEFU_WARNINGS})
endfunction()

function(kefu_add_module)
  cmake_parse_arguments(M "" "NAME;DIR" "DEPS;TEST_DEPS" ${ARGN})
  if(NOT M_DIR)
    set(M_DIR ${M_NAME})
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${M_DIR}/*.cc)
  add_library(kefu_${M_NAME} STATIC ${sources})
  target_include_directories(kefu_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(kefu_${M_NAME} PUBLIC ${M_DEPS})
  kefu_set_warnings(kefu_${M_NAME})

  set(test_dir ${PROJECT_SOURCE_DIR}/tests/unit/${M_DIR})
  if(KEFU_BUILD_TESTS AND EXISTS ${test_dir})
    file(GLOB tests CONFIGURE_DEPENDS ${test_dir}/*_test.cc)
    if(tests)
      add_executable(kefu_${M_NAME}_test ${tests})
      target_link_libraries(kefu_${M_NAME}_test PRIVATE kefu_${M_NAME} kefu_test_support
                            ${M_TEST_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
      kefu_set_warnings(kefu_${M_NAME}_test)
      set_target_properties(kefu_${M_NAME}_test PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                                                           ${CMAKE_BINARY_DIR}/tests)
      gtest_discover_tests(kefu_${M_NAME}_test DISCOVERY_TIMEOUT 60
                           PROPERTIES LABELS unit TIMEOUT 300)
    endif()
  endif()
endfunction()
