# Tests of fit (issue 5).
