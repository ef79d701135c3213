/* oxvac compare: measured profiles against a result (being written). */
#include <stdio.h>
#include "oxvac/cli.h"
#include "oxvac/common.h"
#include "oxvac/compare.h"

int OxCommandCompare(OxCli *cli)
{
  (void)cli;
  fprintf(stderr, "oxvac: command 'compare' is not available in this version\n");
  return OX_EXIT_INPUT;
}
