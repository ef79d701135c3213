# Absurd but well-typed inputs (issue 12): exit 2 with a FILE:LINE message,
# an existing result untouched; the cross-key checks of run.c and the import probe.
add_test(NAME test_bad_inputs COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_bad_inputs.py --oxvac ${OXVAC} --bad-dir ${CMAKE_CURRENT_SOURCE_DIR}/bad_inputs)
