# Issue 11: one key table (src/config_keys.c) drives the config reader, the
# printer, `oxvac help config` and docs/config-reference.md (generated: do not
# edit it; rewrite it with `cmake --build build --target config-reference`).
# The table is consistent with itself: defaults within their own ranges, rows after their groups, ...
add_executable(test_config_keys test_config_keys.c)
target_link_libraries(test_config_keys PRIVATE oxvac_input)
add_test(NAME test_config_key_table COMMAND test_config_keys)
set(CONFIG_REFERENCE ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_config_reference.py --oxvac ${OXVAC}
  --doc ${PROJECT_SOURCE_DIR}/docs/config-reference.md --data-dir ${CMAKE_CURRENT_SOURCE_DIR}/data)
# docs/config-reference.md is `oxvac help config --markdown` byte for byte; `oxvac help config` lists the same keys.
add_test(NAME test_config_reference_is_generated COMMAND ${CONFIG_REFERENCE} --case doc)
# Every key the parser accepts (read from resolved configs of every variant and from its
# unknown-key messages, not from the table) is in the doc and vice versa; defaults and bounds are the reader's.
add_test(NAME test_config_reference_covers_parser COMMAND ${CONFIG_REFERENCE} --case keys)
# --set TABLE.value=[...] changes only the values of a table, --set TABLE.soc=[...] only its knots.
add_test(NAME test_set_table_member COMMAND ${CONFIG_REFERENCE} --case set)

add_custom_target(config-reference
  COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_config_reference.py --oxvac $<TARGET_FILE:oxvac>
          --write ${PROJECT_SOURCE_DIR}/docs/config-reference.md
  DEPENDS oxvac
  COMMENT "Writing docs/config-reference.md from the key table (oxvac help config --markdown)"
  VERBATIM)
