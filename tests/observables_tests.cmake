# Tests of observables (issue 5).
