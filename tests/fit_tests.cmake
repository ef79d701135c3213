# Tests of fit (issue 5): oxvac fit against synthetic noisy profiles of known
# scale factors (tests/test_fit.py; configs in tests/data/fit). Each fit is
# 12-30 forward runs of a 22^3 sphere, about 5-15 s on an idle core.
set(FIT_TEST ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_fit.py --oxvac ${OXVAC})
# Diffusivity and exchange scales recovered within 10 %, truth within 3 sigma: lamella and 3D profiles.
add_test(NAME test_fit_recovers_scales_lamella COMMAND ${FIT_TEST} --case A)
add_test(NAME test_fit_recovers_scales_3d COMMAND ${FIT_TEST} --case B)
# The same under mpiexec -n 2 (every rank runs the forward runs, rank 0 prints and writes).
add_test(NAME test_fit_recovers_scales_3d_np2 COMMAND ${FIT_TEST} --case B --mpiexec "${MPIRUN};-n;2")
# Diffusion-limited single particle: exchange scale and grain boundary reported as not identifiable.
add_test(NAME test_fit_reports_not_identifiable COMMAND ${FIT_TEST} --case C)
# Twelve cycles: iterations in averaged mode, confirmed by a resolved run.
add_test(NAME test_fit_averaged_then_resolved COMMAND ${FIT_TEST} --case averaged)
# SIGINT during a forward run (here an averaged one, which writes no checkpoint) ends the fit: exit 1, nothing left.
add_test(NAME test_fit_stops_on_signal COMMAND ${FIT_TEST} --case signal)
# Input errors: exit 2, one FILE:LINE: key message, nothing left behind.
add_test(NAME test_fit_input_errors COMMAND ${FIT_TEST} --case errors)
set_tests_properties(test_fit_recovers_scales_lamella test_fit_recovers_scales_3d test_fit_recovers_scales_3d_np2
  test_fit_reports_not_identifiable test_fit_averaged_then_resolved test_fit_stops_on_signal test_fit_input_errors PROPERTIES TIMEOUT 180)
