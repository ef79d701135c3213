/**
 * @file error.h
 * @brief The one form of an input-error line, and where the last one was.
 *
 * Owns: formatting "FILE:LINE: key 'a.b': what is wrong; what is expected"
 * (docs/interface.md section 8) into a caller's buffer as one printable line,
 * cut to fit with its "; expected ..." kept whole; and the record of the last
 * input error formatted in this process (file, line, key), so that a caller
 * that needs to know where an error is (the sweep names the line of its own
 * file) reads it from here instead of from the message text. Plain C, no
 * PETSc: the input library uses it before MPI starts.
 */
#ifndef OXVAC_ERROR_H
#define OXVAC_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/** Where the last input error is: as its message says it. */
typedef struct {
  int    set;       /**< 1 once an input error was formatted since OxInputErrorForget */
  char   file[512]; /**< the file as the message names it ("--set" for an override), cut to fit */
  int    line;
  char   key[256];  /**< the key, as in the message ("" when the message names none) */
  size_t location;  /**< length of its "FILE:LINE: " in the message */
} OxInputErrorWhere;

/**
 * @brief Format "FILE:LINE: key 'KEY': WHAT" into err (KEY NULL: "FILE:LINE: WHAT"),
 *        record where it is, and return 2 (OX_EXIT_INPUT), so `return OxInputError(...)`.
 *
 * WHAT comes from fmt and should end in "; expected ...". A message longer
 * than errlen loses the middle of what is wrong, never the expectation:
 * "... [cut]; expected ..." (the expectation itself is cut only when it
 * alone would not fit). Control characters become '?'. err may be NULL.
 */
int OxInputError(char *err, size_t errlen, const char *file, int line, const char *key, const char *fmt, ...)
  __attribute__((format(printf, 6, 7)));
int OxInputErrorV(char *err, size_t errlen, const char *file, int line, const char *key, const char *fmt, va_list ap);

/**
 * @brief Copy a whole message line into err with the same cut and cleaning
 *        (for messages of the full form built elsewhere); returns 2.
 */
int OxInputErrorFit(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int OxInputErrorFitV(char *err, size_t errlen, const char *fmt, va_list ap);

/** @brief The last input error formatted (set = 0 when none since OxInputErrorForget). */
const OxInputErrorWhere *OxInputErrorLast(void);
void                     OxInputErrorForget(void);
/** @brief Make w the last input error again (a reader that tries several and reports the first in file order). */
void OxInputErrorRestore(const OxInputErrorWhere *w);

#endif
