# Tests of compare (issue 5).
# Model values and statistics against Python on a hand-made result, the output
# forms, and every input error (bad CSVs, missing cycle, too deep, bad result).
add_test(NAME test_compare_vs_python COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_compare.py --oxvac ${OXVAC})
