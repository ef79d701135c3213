# Issue 12: a damaged or hostile checkpoint is refused before any work (exit 2,
# 'CKPT: dataset '/path': ...; expected ...'), the intact one still restarts bitwise.
add_test(NAME test_bad_checkpoints COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_bad_checkpoints.py --oxvac ${OXVAC})
set_tests_properties(test_bad_checkpoints PROPERTIES TIMEOUT 600)
