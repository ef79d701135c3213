/* oxvac: dispatch to the commands. */
#include <string.h>
#include "oxvac/cli.h"

int main(int argc, char **argv)
{
  OxCli cli;
  int   status = OxCliParse(argc, argv, &cli);

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
