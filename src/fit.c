/* oxvac fit: scale factors fitted to measured profiles (being written). */
#include <stdio.h>
#include "oxvac/cli.h"
#include "oxvac/common.h"

int OxCommandFit(OxCli *cli)
{
  (void)cli;
  fprintf(stderr, "oxvac: command 'fit' is not available in this version\n");
  return OX_EXIT_INPUT;
}
