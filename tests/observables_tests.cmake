# Tests of the observables (issue 5): Mn3+ conversion, 3D profiles, virtual lamella.
add_test(NAME test_observables COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_observables.py --oxvac ${OXVAC} --mpiexec "${MPIRUN};-n;2")
