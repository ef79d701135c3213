# Tests of the oxvac Python package's figures (issue 11): tests/test_plot.py,
# `python3 -m oxvac.plot` with PYTHONPATH=postprocess on a short demo run
# (~15 s of oxvac, then every subcommand as PNG and PDF and the drawn data).
add_test(NAME test_plot_figures COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_plot.py --oxvac ${OXVAC} --case figures)
# postprocess/ installed offline (pip --no-build-isolation --no-index) into a venv; skipped without pip.
add_test(NAME test_plot_install COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_plot.py --case install)
set_tests_properties(test_plot_figures test_plot_install PROPERTIES TIMEOUT 400)
set_tests_properties(test_plot_install PROPERTIES SKIP_RETURN_CODE 77)
