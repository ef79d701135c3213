/**
 * @file run.h
 * @brief One forward simulation, callable more than once in a process
 *        (`oxvac run` calls it once, `oxvac fit` once per evaluation).
 */
#ifndef OXVAC_RUN_H
#define OXVAC_RUN_H

#include <petscsys.h>
#include "oxvac/config.h"
#include "oxvac/protocol.h"

/** What one simulation is asked to do, whoever asks (`run`, `fit`). */
typedef struct {
  const char        *config;       /**< CONFIG as given (messages, the restart hint) */
  int                nset;
  const char *const *sets;         /**< --set PATH=VALUE, in order */
  const char        *out;          /**< the result path, or NULL for output.file */
  const char        *restart;      /**< a checkpoint to continue, or NULL */
  int                quiet;        /**< no progress on stderr */
  int                silent;       /**< nothing on stdout either */
  const char        *command_line; /**< stored in the result */
} OxRunOptions;

/**
 * @brief Load opt->config with opt->sets, complete the grid, build the protocol.
 *        Plain C (no PETSc needed). On an input error the message is printed
 *        by the process whose rank is `rank` == 0 and 2 is returned.
 */
int OxLoadInputs(const OxRunOptions *opt, int rank, OxConfig *cfg, OxProtocol *prot);

/** @brief OxLoadInputs that keeps its message: 0, or 2 with the message in err. */
int OxLoadInputsMessage(const char *config, int nset, const char *const *sets, OxConfig *cfg, OxProtocol *prot, char *err, size_t errlen);

/** @brief This process's rank as the MPI launcher announces it, before MPI starts (0 when not launched). */
int OxLauncherRank(void);

/**
 * @brief Run the simulation of a loaded config and write its result to
 *        opt->out (or output.file). After SIGTERM/SIGINT it writes a
 *        checkpoint and prints the command that continues the run (with
 *        opt->sets). Collective on PETSC_COMM_WORLD.
 * @param[out] status OX_EXIT_OK, OX_EXIT_RUN_FAILED or OX_EXIT_INPUT
 */
PetscErrorCode OxSimulate(const OxRunOptions *opt, const OxConfig *cfg, const OxProtocol *prot, int *status);

/**
 * @brief The SIGINT/SIGTERM this process received during the last OxSimulate
 *        (0 if none; this rank only). A run stopped in averaged mode writes no
 *        checkpoint, and a signal during the last step just lets the run
 *        finish, so a caller that runs many simulations (fit) asks here
 *        whether the user wants to stop.
 */
int OxSimulateStopSignal(void);

#endif
