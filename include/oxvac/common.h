/**
 * @file common.h
 * @brief What every PETSc-side module shares: the version and exit codes.
 *
 * Errors inside the solver use PETSc's own discipline (PetscCall, PetscCheck,
 * one exit per function). Input errors are not PETSc errors: they are reported
 * as "FILE:LINE: key 'a.b': what is wrong; what is expected" and give exit 2.
 */
#ifndef OXVAC_COMMON_H
#define OXVAC_COMMON_H

#define OXVAC_VERSION "0.1.0"

enum { OX_EXIT_OK = 0, OX_EXIT_RUN_FAILED = 1, OX_EXIT_INPUT = 2 };

#endif
