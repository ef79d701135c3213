# Issue 14: elasticity on the voxels against analytic solutions, 1 and 2 ranks;
# stress coupling (conservation, restart, coupling off = no mechanics).
add_test(NAME test_mechanics_analytic COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_mechanics.py --oxvac ${OXVAC} --mpiexec "${MPIRUN};-n;2")
add_test(NAME test_stress_coupling COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_stress_coupling.py --oxvac ${OXVAC})
# The free sphere alone, small enough for the sanitizer build (label sanitize).
add_test(NAME test_mechanics_sphere COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_mechanics.py --oxvac ${OXVAC} --only sphere)
