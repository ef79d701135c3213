/* oxvac: dispatch to the commands. */
#include <hdf5.h>
#include <string.h>
#include "oxvac/cli.h"

int main(int argc, char **argv)
{
  OxCli cli;
  int   status;

  /* HDF5 is opened before MPI and never shut down: every file is closed
   * where it is written or read, and after a damaged file HDF5's shutdown
   * (at MPI_Finalize, when it was opened after MPI_Init; else at exit)
   * prints "infinite loop closing library", a second stderr line after the
   * one message of a refused input. */
  H5dont_atexit();
  H5open();
  status = OxCliParse(argc, argv, &cli);

  if (status == 0) {
    if (!strcmp(cli.command, "run")) status = OxCommandRun(&cli);
    else if (!strcmp(cli.command, "compare")) status = OxCommandCompare(&cli);
    else if (!strcmp(cli.command, "fit")) status = OxCommandFit(&cli);
    else if (!strcmp(cli.command, "sweep")) status = OxCommandSweep(&cli);
    else status = OxCommandCheck(&cli);
  }
  OxCliFree(&cli);
  return status < 0 ? 0 : status;
}
