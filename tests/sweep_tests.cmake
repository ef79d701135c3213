# Tests of oxvac sweep (issue 10): tests/test_sweep.py on tests/data/sweep
# (two small generated secondaries, 2-6 short cycles, ~2-4 s per point).
set(SWEEP_TEST ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_sweep.py --oxvac ${OXVAC})
# A 2 x 2 grid with --jobs 2: 4 rows equal to plain runs, per-secondary losses, --status, the SLURM dry-run script.
add_test(NAME test_sweep_local COMMAND ${SWEEP_TEST} --case local)
# One invalid point: exit 2 before anything runs; bad sweep-file keys; a changed sweep never overwrites an old one.
add_test(NAME test_sweep_invalid_point COMMAND ${SWEEP_TEST} --case invalid)
# Latin hypercube: reproducible from the seed, one sample per stratum.
add_test(NAME test_sweep_lhs COMMAND ${SWEEP_TEST} --case lhs)
# SIGTERM and SIGKILL of a running sweep, then reruns: no point completes twice, interrupted ones resume exactly.
add_test(NAME test_sweep_resume COMMAND ${SWEEP_TEST} --case resume)
# The plot of a sweep summary (synthetic table).
add_test(NAME test_sweep_plot COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_sweep_plot.py)
# A real single-node SLURM started for the test (tests/slurmlocal.py installs slurm-wlm and munge if missing).
add_test(NAME test_slurmlocal_selfcheck COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_slurmlocal.py)
add_test(NAME test_sweep_slurm_vs_local COMMAND ${SWEEP_TEST} --case slurm)
set_tests_properties(test_slurmlocal_selfcheck test_sweep_slurm_vs_local PROPERTIES LABELS slurm RUN_SERIAL TRUE)
set_tests_properties(test_sweep_local test_sweep_invalid_point test_sweep_lhs test_sweep_resume test_sweep_slurm_vs_local PROPERTIES TIMEOUT 600)
# A pasted restart hint after SIGTERM of a run with --set overrides continues it exactly.
add_test(NAME test_restart_hint COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_restart_hint.py --oxvac ${OXVAC})
