/* Command-line parsing: oxvac's own arguments, the rest goes to PETSc. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "oxvac/cli.h"
#include "oxvac/common.h"
#include "oxvac/config_keys.h"

static const struct {
  const char *name, *synopsis, *text;
} commands[] = {
  {"run", "oxvac run CONFIG [-o OUT.h5] [--set PATH=VALUE]... [--restart CKPT.h5] [--quiet] [PETSc options]",
   "Simulate the configured microstructure along its protocol and write an HDF5\n"
   "result (plus OUT.xdmf for ParaView). -o overrides output.file; --set overrides\n"
   "one config key (libconfig syntax, repeatable, applied in order); PETSc options\n"
   "such as -log_view, -pc_type, -ksp_type pass through. Runs under mpiexec -n N.\n"
   "On stderr: what is being built, progress while a large microstructure is\n"
   "generated and while the protocol runs. --quiet: nothing on stderr but errors\n"
   "(the summary lines on stdout stay)."},
  {"check", "oxvac check CONFIG [--set PATH=VALUE]...",
   "Validate the config and print it resolved (every key, defaults filled) on\n"
   "stdout. Warns on stderr (`warning: FILE:LINE: key 'a.b': ...`, exit status\n"
   "still 0) about plausible unit mistakes: no solid voxel or no surface in the\n"
   "grid, a secondary (or sphere) outside the domain, a voxel below 1 nm, a\n"
   "diffusivity outside 1e-25..1e-5 cm^2/s, fields at cycles the protocol never\n"
   "reaches. Errors exit 2 with `FILE:LINE: key 'a.b': ...; expected ...`."},
  {"compare", "oxvac compare RESULT.h5 MEASURED.csv [--geometry lamella|3d] [--format text|csv|json] [-o FILE]",
   "Residuals of a result's Mn3+ profiles (/lamella, or /profiles with --geometry 3d)\n"
   "against measured ones (CSV: cycle,distance_nm,mn3_fraction,sigma): per cycle the\n"
   "number of points, weighted RMS residual and reduced chi-square. See docs/compare.md."},
  {"fit", "oxvac fit CONFIG MEASURED.csv --param PATH... [--set PATH=VALUE]... [--geometry lamella|3d] [--mode auto|averaged|resolved] [--bounds LO,HI] [--max-evals N] [-o FITTED.cfg] [--quiet]",
   "Fit scale factors (e.g. material.diffusivity_scale) to measured profiles in log\n"
   "space by repeated forward runs; prints PATH = VALUE +/- SIGMA per parameter and\n"
   "the reduced chi-square, writes the fitted config FITTED.cfg (default\n"
   "MEASURED.fit.cfg) and keeps the run at the fitted values beside it as FITTED.h5\n"
   "(+ FITTED.xdmf), and prints the command that plots it against the measurement.\n"
   "See docs/fit.md."},
  {"sweep", "oxvac sweep SWEEP.cfg [--executor local|slurm] [--jobs N] [--ranks M] [--dry-run] [--retry-failed] [--set PATH=VALUE]... [--quiet] | --check | --status | --collect",
   "Run one base config over many parameter values (grid, zip or Latin hypercube; the\n"
   "sweep file is described in docs/sweep.md). Every point gets its own folder under\n"
   "out_dir with a complete config.cfg, checked before anything runs; each point is an\n"
   "ordinary `oxvac run` of it. --executor local runs --jobs points at a time (each\n"
   "under mpiexec -n M with --ranks M) and collects at the end; --executor slurm writes\n"
   "one job array (out_dir/sweep.sbatch) and submits it unless --dry-run. Rerunning\n"
   "skips finished points, resumes interrupted ones from their checkpoints, and reruns\n"
   "failed ones only with --retry-failed. --check validates every point and writes\n"
   "nothing; --status reports every point; --collect\n"
   "writes out_dir/summary.csv and summary.h5. A point by hand:\n"
   "oxvac sweep --run-point OUT_DIR/point_NNNN [--launcher 'mpiexec -n M']."},
};
#define NCOMMANDS (int)(sizeof(commands) / sizeof(commands[0]))

/* Help topics other than the commands (`oxvac help TOPIC`), each served by
 * OxCliParse's help branch. */
static const struct {
  const char *name, *what;
} topics[] = {
  {"config", "every config key with its unit and default"},
};
#define NTOPICS (int)(sizeof(topics) / sizeof(topics[0]))

static int is_command(const char *name)
{
  for (int i = 0; name && i < NCOMMANDS; i++)
    if (!strcmp(name, commands[i].name)) return 1;
  return 0;
}

/* Every command's synopsis, and the help topics. */
static void list_commands(FILE *f)
{
  fprintf(f, "oxvac %s: oxygen-vacancy formation and diffusion in cathode particles\n\nusage:\n", OXVAC_VERSION);
  for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %s\n", commands[i].synopsis);
  fprintf(f, "  oxvac --version | oxvac help [COMMAND | TOPIC] | oxvac COMMAND --help\n\nhelp topics:");
  for (int i = 0; i < NTOPICS; i++) fprintf(f, "\n  oxvac help %-9s %s", topics[i].name, topics[i].what);
  fprintf(f, "\n");
}

void OxCliUsage(const char *command)
{
  for (int i = 0; i < NCOMMANDS; i++)
    if (command && !strcmp(command, commands[i].name)) {
      printf("usage: %s\n\n%s\n", commands[i].synopsis, commands[i].text);
      return;
    }
  list_commands(stdout);
}

/* An unknown command or help topic: say so, list them all, exit 2. */
static int unknown(const char *what, const char *name)
{
  fprintf(stderr, "oxvac: unknown %s '%s'; expected one of", what, name);
  for (int i = 0; i < NCOMMANDS; i++) fprintf(stderr, "%s %s", i ? "," : "", commands[i].name);
  if (strcmp(what, "command")) /* help also knows its topics */
    for (int i = 0; i < NTOPICS; i++) fprintf(stderr, ", %s", topics[i].name);
  else fprintf(stderr, ", help");
  fprintf(stderr, "\n\n");
  list_commands(stderr);
  return OX_EXIT_INPUT;
}

/* The number (from 1, after the command) of the first argument equal to a. */
static int arg_index(int argc, char **argv, const char *a)
{
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], a)) return i - 1;
  return argc - 1;
}

static int is_help(const char *a) { return !strcmp(a, "--help") || !strcmp(a, "-h"); }

static char *join_args(int argc, char **argv)
{
  size_t len = 1;
  char  *s;
  for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
  s = calloc(len, 1);
  for (int i = 0; s && i < argc; i++) {
    if (i) strcat(s, " ");
    strcat(s, argv[i]);
  }
  return s;
}

int OxUsageError(const char *command, int argn, const char *arg, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  OxUsageErrorV(command, argn, arg, fmt, ap);
  va_end(ap);
  return OX_EXIT_INPUT;
}

int OxUsageErrorV(const char *command, int argn, const char *arg, const char *fmt, va_list ap)
{
  char what[1024];
  vsnprintf(what, sizeof(what), fmt, ap);
  for (char *p = what; *p; p++)
    if (iscntrl((unsigned char)*p)) *p = '?';
  fprintf(stderr, "oxvac%s%s: argument %d", command ? " " : "", command ? command : "", argn);
  if (arg) {
    fputs(" '", stderr);
    for (const char *p = arg; *p && p - arg < 200; p++) fputc(iscntrl((unsigned char)*p) ? '?' : *p, stderr);
    fputc('\'', stderr);
  } else fputs(" (end of the command line)", stderr);
  fprintf(stderr, ": %s\n", what);
  if (command && !strcmp(command, "help")) fprintf(stderr, "usage: oxvac help [COMMAND | config [--markdown]]\n");
  for (int i = 0; i < NCOMMANDS; i++)
    if (command && !strcmp(command, commands[i].name)) fprintf(stderr, "usage: %s\n", commands[i].synopsis);
  return OX_EXIT_INPUT;
}

int OxSameFile(const char *a, const char *b)
{
  struct stat sa, sb;
  return a && b && !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int OxCliParse(int argc, char **argv, OxCli *cli)
{
  memset(cli, 0, sizeof(*cli));
  if (argc < 2) {
    fprintf(stderr, "oxvac: missing command\n\n");
    list_commands(stderr);
    return OX_EXIT_INPUT;
  }
  if (!strcmp(argv[1], "help") || is_help(argv[1])) {
    if (argc > 2 && !strcmp(argv[2], "config")) { /* every config key, from the key table */
      if (argc > 4 || (argc == 4 && strcmp(argv[3], "--markdown"))) {
        return OxUsageError("help", argc == 4 ? 2 : 3, argv[argc == 4 ? 3 : 4], "unknown argument; expected oxvac help config [--markdown]");
      }
      OxConfigHelp(stdout, argc == 4);
      return -1;
    }
    if (argc > 2 && !is_command(argv[2])) return unknown("help topic", argv[2]);
    OxCliUsage(argc > 2 ? argv[2] : NULL);
    return -1;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("oxvac %s\n", OXVAC_VERSION);
    return -1;
  }
  cli->command      = argv[1];
  cli->command_line = join_args(argc, argv);
  cli->sets         = calloc((size_t)argc, sizeof(char *));
  cli->petsc_argv   = calloc((size_t)argc + 1, sizeof(char *));
  cli->petsc_argv[cli->petsc_argc++] = argv[0];
  if (!strcmp(cli->command, "compare") || !strcmp(cli->command, "fit") || !strcmp(cli->command, "sweep")) { /* they parse their own arguments */
    cli->argc = argc - 2;
    cli->argv = argv + 2;
    return 0;
  }
  if (strcmp(cli->command, "run") && strcmp(cli->command, "check")) return unknown("command", cli->command);
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (is_help(a)) {
      OxCliUsage(cli->command);
      return -1;
    }
    if (!strcmp(a, "-o") || !strcmp(a, "--set") || !strcmp(a, "--restart")) {
      if (i + 1 >= argc) return OxUsageError(cli->command, i - 1, a, "the option needs a value; expected %s", !strcmp(a, "-o") ? "-o OUT.h5" : !strcmp(a, "--set") ? "--set PATH=VALUE" : "--restart CKPT.h5");
      if (!strcmp(a, "-o")) cli->out = argv[++i];
      else if (!strcmp(a, "--set")) cli->sets[cli->nset++] = argv[++i];
      else cli->restart = argv[++i];
    } else if (!strncmp(a, "--set=", 6)) cli->sets[cli->nset++] = a + 6;
    else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) cli->quiet = 1;
    else if (a[0] != '-' && !cli->config) cli->config = a;
    else if (!strncmp(a, "--", 2))
      return OxUsageError(cli->command, i - 1, a, "unknown option; expected -o, --set, --restart, --quiet, --help, or a PETSc option (one dash)");
    else cli->petsc_argv[cli->petsc_argc++] = argv[i]; /* a PETSc option or its value */
  }
  if (!cli->config) return OxUsageError(cli->command, argc - 1, NULL, "missing CONFIG; expected a config file");
  if (!strcmp(cli->command, "check") && (cli->out || cli->restart))
    return OxUsageError(cli->command, cli->out ? arg_index(argc, argv, "-o") : arg_index(argc, argv, "--restart"), cli->out ? "-o" : "--restart",
                        "check writes nothing; expected only CONFIG and --set PATH=VALUE");
  return 0;
}

void OxCliFree(OxCli *cli)
{
  free(cli->sets);
  free(cli->petsc_argv);
  free(cli->command_line);
  memset(cli, 0, sizeof(*cli));
}
