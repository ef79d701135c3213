# Issue 11 item 6: every dataset of a result and a checkpoint has units and a
# description; the root has the provenance (version, git revision, date, host,
# ranks, wall time, command).
add_test(NAME test_result_attributes COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_result_attributes.py --oxvac ${OXVAC})
add_test(NAME test_result_attributes_np2 COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_result_attributes.py --oxvac ${OXVAC}
  --mpiexec "${MPIRUN};-n;2" --ranks 2)
