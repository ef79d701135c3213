# The docs: tests/test_docs_links.py. No text file of the repository points
# outside it (the folder beside the checkout, an absolute path of the
# developers'), and every relative Markdown link and #anchor resolves.
add_test(NAME test_docs_links COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/test_docs_links.py)
