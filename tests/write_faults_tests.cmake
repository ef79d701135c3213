# Issue 12, write failures: a full or read-only output folder mid-run (small
# tmpfs mounts: needs root, else those checks are skipped), a config over
# 64 KiB (1000 listed protocol steps), the HDF5 renamed before its XDMF.
add_test(NAME test_write_faults COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_write_faults.py --oxvac ${OXVAC})
set_tests_properties(test_write_faults PROPERTIES TIMEOUT 600)
