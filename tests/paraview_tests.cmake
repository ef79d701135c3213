# Issue 11 item 5: ParaView reads OUT.xdmf and postprocess/paraview_render.py
# renders it (pvbatch under xvfb-run; the test apt-get installs paraview,
# python3-paraview, xvfb and xauth if missing: ~1 min, ~150 MB download).
add_test(NAME test_paraview COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_paraview.py --oxvac ${OXVAC})
set_tests_properties(test_paraview PROPERTIES LABELS paraview TIMEOUT 900)
