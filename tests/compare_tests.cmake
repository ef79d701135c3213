# Tests of compare (issue 5).
