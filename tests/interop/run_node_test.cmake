# ctest runner of one interop test file (cmake -P, so that a missing node is
# reported instead of failing to start):
#   cmake -DMF_NODE=<node or empty> -DMF_DIR=<tests/interop> -DMF_FILE=<x.test.mjs> -P run_node_test.cmake
# Fails with instructions when node or the npm packages are missing.
set(hint "run `npm ci` in tests/interop (scripts/deps.sh does it: it installs nodejs/npm and runs npm ci)")

if(NOT MF_NODE OR NOT EXISTS "${MF_NODE}")
  unset(MF_NODE)
  find_program(MF_NODE NAMES node nodejs)
endif()
if(NOT MF_NODE)
  message(FATAL_ERROR "interop: node (Node.js >= 18) not found. Install nodejs, then ${hint}.")
endif()

foreach(pkg nats.ws ws)
  if(NOT EXISTS "${MF_DIR}/node_modules/${pkg}/package.json")
    message(FATAL_ERROR "interop: the npm package '${pkg}' is not installed in ${MF_DIR}/node_modules: ${hint}.")
  endif()
endforeach()

execute_process(
  COMMAND "${MF_NODE}" --test --test-reporter=spec "${MF_FILE}"
  WORKING_DIRECTORY "${MF_DIR}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "interop: node --test ${MF_FILE} failed (${rc})")
endif()
