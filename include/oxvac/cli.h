/**
 * @file cli.h
 * @brief Command line of oxvac (docs/interface.md section 2) and the commands.
 *
 * Owns: splitting argv into oxvac's own arguments and PETSc's options, and
 * the entry points of each command. Usage errors exit 2.
 */
#ifndef OXVAC_CLI_H
#define OXVAC_CLI_H

#include <stdarg.h>

#include <stddef.h>

typedef struct OxCli {
  const char  *command; /**< "run", "check", ... */
  const char  *config;  /**< CONFIG */
  const char  *out;     /**< -o OUT.h5, or NULL for output.file */
  const char  *restart; /**< --restart CKPT.h5, or NULL */
  int          quiet;
  int          silent;     /**< set by fit for its forward runs: nothing on stdout */
  int          nset;
  const char **sets;    /**< --set PATH=VALUE, in order */
  int          petsc_argc;
  char       **petsc_argv; /**< argv[0] and every argument oxvac does not own */
  char        *command_line;
  int          argc;       /**< compare, fit, sweep: the arguments after the command, unparsed */
  char       **argv;
} OxCli;

/**
 * @brief Parse argv. Prints a usage message and returns 2 on a usage error,
 *        returns -1 when the request was served (help, version) and 0 to go on.
 */
int OxCliParse(int argc, char **argv, OxCli *cli);
/** 1 when paths a and b both exist and are the same file (same st_dev and st_ino): an output must not overwrite an input. */
int OxSameFile(const char *a, const char *b);
void OxCliFree(OxCli *cli);
void OxCliUsage(const char *command);
/**
 * @brief A usage error (docs/interface.md section 8): prints
 *        "oxvac COMMAND: argument N 'ARG': what is wrong; expected ..." (N counts the
 *        arguments after the command from 1; ARG NULL: "(end of the command line)",
 *        for what is missing) and the command's usage line on stderr.
 * @return 2 (OX_EXIT_INPUT)
 */
int OxUsageError(const char *command, int argn, const char *arg, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int OxUsageErrorV(const char *command, int argn, const char *arg, const char *fmt, va_list ap);

/** @brief `oxvac run`: returns the exit status (0, 1 run failed, 2 input error). */
int OxCommandRun(OxCli *cli);
/** @brief `oxvac check`: validate and print the resolved config; 0 or 2. */
int OxCommandCheck(OxCli *cli);
/** @brief `oxvac compare RESULT.h5 MEASURED.csv ...` (src/compare.c); 0, 1 or 2. */
int OxCommandCompare(OxCli *cli);
/** @brief `oxvac fit CONFIG MEASURED.csv --param PATH ...` (src/fit.c); 0, 1 or 2. */
int OxCommandFit(OxCli *cli);
/** @brief `oxvac sweep SWEEP.cfg ...` (src/sweep.c); 0, 1 or 2. */
int OxCommandSweep(OxCli *cli);

#endif
