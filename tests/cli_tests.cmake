# Tests of the command line (issue 11): tests/test_cli_help.py.
set(CLI_TEST ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_help.py --oxvac ${OXVAC})
# COMMAND --help / -h / help COMMAND for every command: exit 0, usage on stdout; unknown command or topic: exit 2, every command listed.
add_test(NAME test_cli_help COMMAND ${CLI_TEST} --part help --inputs-dir ${CMAKE_CURRENT_SOURCE_DIR}/../inputs)
# run: startup line and generator progress on stderr; --quiet: nothing on stderr (resolved and averaged), summary on stdout.
add_test(NAME test_cli_quiet COMMAND ${CLI_TEST} --part quiet)
# check: one warning per plausible unit mistake in tests/warn/*.cfg (exit 0), at the key's line or its --set; none for inputs/.
add_test(NAME test_cli_check_warnings COMMAND ${CLI_TEST} --part warnings --warn-dir ${CMAKE_CURRENT_SOURCE_DIR}/warn
  --inputs-dir ${CMAKE_CURRENT_SOURCE_DIR}/../inputs)
set_tests_properties(test_cli_help test_cli_quiet test_cli_check_warnings PROPERTIES TIMEOUT 180)
