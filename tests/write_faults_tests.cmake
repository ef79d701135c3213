# Issue 12, write failures: a full or read-only output folder mid-run (small
# tmpfs mounts: needs root, else those checks are skipped), a config over
# 64 KiB (1000 listed protocol steps), the HDF5 renamed before its XDMF.
add_test(NAME test_write_faults COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_write_faults.py --oxvac ${OXVAC} --mpiexec "${MPIRUN}")
set_tests_properties(test_write_faults PROPERTIES TIMEOUT 600)
# A NaN or an out-of-range vacancy fraction stops the run after checkpointing the last good state (2 ranks).
add_test(NAME test_state_check_np2 COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_state_check.py --oxvac ${OXVAC} --mpiexec "${MPIRUN};-n;2")
