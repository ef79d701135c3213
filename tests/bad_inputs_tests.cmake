# The hostile-input corpus of issue 12 (tests/bad_inputs/README.md): every config,
# imported image, checkpoint and measured CSV there is refused with exit 2 and one
# FILE:LINE message (or CKPT: dataset ...) holding its expected fragment, nothing
# left behind and the sentinel outputs untouched, by run and check or compare.
add_test(NAME test_bad_inputs COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_bad_inputs.py --oxvac ${OXVAC} --bad-dir ${CMAKE_CURRENT_SOURCE_DIR}/bad_inputs)
set_tests_properties(test_bad_inputs PROPERTIES TIMEOUT 300)
