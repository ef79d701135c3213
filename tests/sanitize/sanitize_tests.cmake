# Labelled in every build (cheap to select); the sanitizer options only matter
# in a -DOXVAC_SANITIZE=ON build. halt_on_error/abort: the first finding fails
# the test; detect_leaks with tests/sanitize/lsan.supp for the third-party
# allocations that live until exit (each justified there).
# allocator_may_return_null: an allocation past ASan's limit returns NULL, as
# malloc does in a run (HDF5's 1 TB block of h5/ckpt_continuation_huge.cfg).
set(OXVAC_SANITIZE_TESTS
  test_config_roundtrip test_config_error_messages test_error_messages test_distance_flood test_protocol_soc test_config_key_table
  test_bad_config_messages test_result_layout test_sweep_invalid_point test_bad_inputs test_state_check_np2
  test_mechanics_sphere)
set_property(TEST ${OXVAC_SANITIZE_TESTS} APPEND PROPERTY LABELS sanitize)
if(OXVAC_SANITIZE)
  set(_supp ${CMAKE_CURRENT_LIST_DIR}/lsan.supp)
  set_property(TEST ${OXVAC_SANITIZE_TESTS} APPEND PROPERTY ENVIRONMENT
    "ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:exitcode=86:detect_stack_use_after_return=0:fast_unwind_on_malloc=0:malloc_context_size=30:allocator_may_return_null=1"
    "LSAN_OPTIONS=suppressions=${_supp}:print_suppressions=0"
    "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87")
endif()
