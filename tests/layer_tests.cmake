# Issue 9: the sub-voxel surface layer (fronts thinner than a voxel).
add_test(NAME test_radial_selfcheck COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/analytic/radial.py)
add_test(NAME test_thin_front_vs_crank COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_thin_front.py --oxvac ${OXVAC})
add_test(NAME test_layer_primary_vs_radial COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_layer_primary.py --oxvac ${OXVAC} --layer-off)
# The operator without the layer still meets its own bars.
add_test(NAME test_sphere_robin_layer_off COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_sphere_robin.py --oxvac ${OXVAC} --R 20 --set surface.layer.cells=0)
