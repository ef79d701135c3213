/**
 * @file run.h
 * @brief One forward simulation, callable more than once in a process
 *        (`oxvac run` calls it once, `oxvac fit` once per evaluation).
 */
#ifndef OXVAC_RUN_H
#define OXVAC_RUN_H

#include <petscsys.h>
#include "oxvac/cli.h"
#include "oxvac/config.h"
#include "oxvac/protocol.h"

/**
 * @brief Load cli->config with cli->sets, complete the grid, build the protocol.
 *        Plain C (no PETSc needed). On an input error the message is printed
 *        by the process whose rank is `rank` == 0 and 2 is returned.
 */
int OxLoadInputs(const OxCli *cli, int rank, OxConfig *cfg, OxProtocol *prot);

/** @brief This process's rank as the MPI launcher announces it, before MPI starts (0 when not launched). */
int OxLauncherRank(void);

/**
 * @brief Run the simulation of a loaded config and write its result to
 *        cli->out (or output.file). Uses cli->config (messages), cli->restart,
 *        cli->quiet (no progress), cli->silent (nothing on stdout either) and
 *        cli->command_line. Collective on PETSC_COMM_WORLD.
 * @param[out] status OX_EXIT_OK, OX_EXIT_RUN_FAILED or OX_EXIT_INPUT
 */
PetscErrorCode OxSimulate(const OxCli *cli, const OxConfig *cfg, const OxProtocol *prot, int *status);

/**
 * @brief The SIGINT/SIGTERM this process received during the last OxSimulate
 *        (0 if none; this rank only). A run stopped in averaged mode writes no
 *        checkpoint, and a signal during the last step just lets the run
 *        finish, so a caller that runs many simulations (fit) asks here
 *        whether the user wants to stop.
 */
int OxSimulateStopSignal(void);

#endif
