# Tests of compare (issue 5).
# Model values and statistics against Python on a hand-made result, the output
# forms, and every input error (bad CSVs, missing cycle, too deep, bad result).
add_test(NAME test_compare_vs_python COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_compare.py --oxvac ${OXVAC})
# End to end: a small sphere run compared with its own lamella and 3D profiles (chi2 ~ 0).
add_test(NAME test_compare_own_profiles COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_compare.py --oxvac ${OXVAC} --self-check)
