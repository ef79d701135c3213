/* oxvac: dispatch to the commands. */
#include <string.h>
#include "oxvac/cli.h"

int main(int argc, char **argv)
{
  OxCli cli;
  int   status = OxCliParse(argc, argv, &cli);

  if (status == 0) status = !strcmp(cli.command, "run") ? OxCommandRun(&cli) : OxCommandCheck(&cli);
  OxCliFree(&cli);
  return status < 0 ? 0 : status;
}
