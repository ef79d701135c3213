/* The run and check commands: config -> microstructure -> operator ->
 * protocol + integrator -> observables -> output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <petscdmda.h>
#include "oxvac/cli.h"
#include "oxvac/common.h"
#include "oxvac/config.h"
#include "oxvac/history.h"
#include "oxvac/integrator.h"
#include "oxvac/microstructure.h"
#include "oxvac/observables.h"
#include "oxvac/operator.h"
#include "oxvac/output.h"
#include "oxvac/protocol.h"

static const char help[] = "oxvac: oxygen-vacancy formation and diffusion in cathode particles\n";

/* Load config and protocol; on an input error print the message (rank 0) and return 2. */
static int load_inputs(const OxCli *cli, int rank, OxConfig *cfg, OxProtocol *prot)
{
  char err[OX_ERR_MAX];
  int  status = OxConfigLoad(cli->config, cli->nset, cli->sets, cfg, err, sizeof(err));
  if (status == 0 && cfg->micro_type == OX_MICRO_IMPORT) {
    snprintf(err, sizeof(err), "%s:1: key 'microstructure.type': \"import\" is not available in this version; expected \"sphere\" or \"generated\"", cli->config);
    status = OX_EXIT_INPUT;
  }
  if (status == 0) status = OxProtocolCreate(cfg, prot, err, sizeof(err));
  if (status != 0 && rank == 0) fprintf(stderr, "%s\n", err);
  return status ? OX_EXIT_INPUT : 0;
}

int OxCommandCheck(OxCli *cli)
{
  OxConfig   cfg;
  OxProtocol prot;
  char      *text;
  int        status;

  memset(&cfg, 0, sizeof(cfg));
  memset(&prot, 0, sizeof(prot));
  status = load_inputs(cli, 0, &cfg, &prot);
  if (status == 0) {
    text = OxConfigToString(&cfg);
    fputs(text, stdout);
    printf("# protocol: %d segments, %d cycles, %.6g h simulated\n", prot.nseg, OxProtocolNumCycles(&prot), OxProtocolEndTime(&prot) / 3600.0);
    free(text);
  }
  OxProtocolDestroy(&prot);
  OxConfigFree(&cfg);
  return status;
}

/* Progress on stderr: cycle i/N, simulated time, wall time, estimated time
 * left. A terminal gets a line rewritten in place at most twice a second;
 * anything else gets one line per percent at most. */
typedef struct {
  int    enabled, tty, last_pct;
  double wall0, last_wall, t_end;
  int    ncycles, nformation;
} Progress;

static double wall_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void progress_report(Progress *p, const OxSegment *s, int final)
{
  double now = wall_s(), frac = p->t_end > 0 ? s->t1_s / p->t_end : 1.0;
  int    pct = (int)(100.0 * frac);
  double eta = frac > 0 ? (now - p->wall0) * (1.0 - frac) / frac : 0.0;
  if (!p->enabled) return;
  if (!final && (p->tty ? now - p->last_wall < 0.5 : pct <= p->last_pct)) return;
  p->last_wall = now;
  p->last_pct  = pct;
  fprintf(stderr, "%s%s %d/%d  t = %.4g h  wall %.1f s  left ~%.0f s  (%d%%)%s", p->tty ? "\r" : "",
          s->cycle ? "cycle" : "formation", s->cycle ? s->cycle : s->formation_cycle, s->cycle ? p->ncycles : p->nformation, s->t1_s / 3600.0,
          now - p->wall0, eta, pct, p->tty && !final ? "   " : "\n");
  fflush(stderr);
}

static int wants_field(const OxConfig *cfg, int cycle)
{
  for (int i = 0; i < cfg->n_fields_at; i++)
    if (cfg->fields_at_cycles[i] == cycle) return 1;
  return 0;
}

static PetscErrorCode print_summary(MPI_Comm comm, const OxOperator *op, const OxMicrostructure *ms, OxIntegrator integ, const OxTimeseries *ts,
                                    double wall)
{
  OxIntegratorStats st;
  const OxSample   *last = &ts->row[ts->n - 1];

  PetscFunctionBeginUser;
  PetscCall(OxIntegratorGetStats(integ, &st));
  PetscCall(PetscPrintf(comm, "oxvac: %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " voxels (%" PetscInt_FMT " solid), %.4g h simulated in %.2f s wall\n",
                        ms->nx, ms->ny, ms->nz, op->nsolid, last->time_s / 3600.0, wall));
  PetscCall(PetscPrintf(comm, "oxvac: %ld steps, %ld rhs, %ld linear iterations, %ld preconditioner setups, %ld error-test failures\n", st.nsteps,
                        st.nrhs, st.nlinit, st.npsetup, st.nerrfail));
  PetscCall(PetscPrintf(comm, "oxvac: oxygen loss %.6g at.%%, released %.6g mol, inventory %.6g mol (relative difference %.2e)\n", last->oxygen_loss_pct,
                        last->released_mol, last->inventory_mol,
                        last->released_mol != 0 ? (last->inventory_mol - last->released_mol) / last->released_mol : 0.0));
  PetscFunctionReturn(0);
}

/* SIGTERM/SIGINT ask for a checkpoint and a clean stop at the next step end. */
static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { stop_requested = sig; }

/* OUT.h5 -> OUT.ckpt.h5 */
static void checkpoint_path(const char *path, char *ck, size_t len)
{
  size_t n = strlen(path);
  if (n > 3 && !strcmp(path + n - 3, ".h5")) snprintf(ck, len, "%.*s.ckpt.h5", (int)(n - 3), path);
  else snprintf(ck, len, "%s.ckpt.h5", path);
}

typedef struct {
  DM               da;
  OxMicrostructure ms;
  OxOperator       op;
  Vec              c;
} Model;

static PetscErrorCode model_create(const OxConfig *cfg, Model *m)
{
  PetscInt shape[3];

  PetscFunctionBeginUser;
  PetscCall(OxMicrostructureGridShape(cfg, shape));
  PetscCall(DMDACreate3d(PETSC_COMM_WORLD, DM_BOUNDARY_GHOSTED, DM_BOUNDARY_GHOSTED, DM_BOUNDARY_GHOSTED, DMDA_STENCIL_STAR, shape[0], shape[1],
                         shape[2], PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1, NULL, NULL, NULL, &m->da));
  PetscCall(DMSetFromOptions(m->da));
  PetscCall(DMSetUp(m->da));
  PetscCall(OxMicrostructureCreate(cfg, m->da, &m->ms));
  PetscCall(OxOperatorCreate(cfg, m->da, &m->ms, &m->op));
  PetscCall(DMCreateGlobalVector(m->da, &m->c));
  PetscCall(PetscObjectSetName((PetscObject)m->c, "c"));
  PetscCall(VecZeroEntries(m->c));
  PetscFunctionReturn(0);
}

static PetscErrorCode model_destroy(Model *m)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&m->c));
  PetscCall(OxOperatorDestroy(&m->op));
  PetscCall(OxMicrostructureDestroy(&m->ms));
  PetscCall(DMDestroy(&m->da));
  PetscFunctionReturn(0);
}

/* The simulation proper, once the inputs are valid. */
static PetscErrorCode simulate(const OxCli *cli, const OxConfig *cfg, const OxProtocol *prot, int *status)
{
  MPI_Comm      comm = PETSC_COMM_WORLD;
  Model         m;
  OxIntegrator  integ = NULL;
  OxHistory     hist;
  OxSample      smp;
  PetscMPIInt   rank;
  PetscLogStage stage_setup, stage_int;
  Progress      prog = {0};
  char         *cfg_text, ckpt[PETSC_MAX_PATH_LEN + 16], last_ckpt[PETSC_MAX_PATH_LEN + 16] = "none";
  const char   *path = cli->out ? cli->out : cfg->out_file;
  double        wall0 = wall_s(), t0 = 0.0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  checkpoint_path(path, ckpt, sizeof(ckpt));
  cfg_text = OxConfigToString(cfg);
  PetscCall(PetscLogStageRegister("oxvac setup", &stage_setup));
  PetscCall(PetscLogStageRegister("oxvac integrate", &stage_int));
  PetscCall(PetscLogStagePush(stage_setup));
  PetscCall(model_create(cfg, &m));
  if (cli->restart) {
    char *saved;
    PetscCall(OxHistoryRead(cli->restart, m.da, &m.ms, &hist, m.c, &saved));
    if (strcmp(saved, cfg_text)) {
      PetscCall(PetscFPrintf(comm, PETSC_STDERR, "%s:1: key 'protocol': the checkpoint %s was made with a different resolved config; expected the config "
                                  "(and --set overrides) of the interrupted run\n", cli->config, cli->restart));
      *status = OX_EXIT_INPUT;
    }
    PetscCall(PetscFree(saved));
    if (*status == OX_EXIT_INPUT) {
      PetscCall(OxHistoryDestroy(&hist));
      PetscCall(model_destroy(&m));
      free(cfg_text);
      PetscFunctionReturn(0);
    }
    t0 = hist.ts.row[hist.ts.n - 1].time_s;
    PetscCall(PetscStrncpy(last_ckpt, cli->restart, sizeof(last_ckpt)));
  } else {
    PetscCall(PetscMemzero(&hist, sizeof(hist)));
    PetscCall(OxObservablesSample(&m.op, m.c, 0.0, 0, prot->initial_soc, 0.0, &smp));
    PetscCall(OxTimeseriesAppend(&hist.ts, &smp));
    if (wants_field(cfg, 0)) PetscCall(OxHistoryStoreField(&hist, &m.ms, m.c, 0, 0.0, prot->initial_soc));
  }
  PetscCall(OxIntegratorCreate(cfg, &m.op, prot, m.c, t0, hist.released_mol, &integ));
  PetscCall(PetscLogStagePop());

  prog.enabled    = !cli->quiet && rank == 0;
  prog.tty        = isatty(fileno(stderr));
  prog.wall0      = prog.last_wall = wall_s();
  prog.t_end      = OxProtocolEndTime(prot);
  prog.ncycles    = OxProtocolNumCycles(prot);
  prog.nformation = cfg->formation.repeat;
  prog.last_pct   = -1;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  PetscCall(PetscLogStagePush(stage_int));
  *status = OX_EXIT_OK;
  for (int g = hist.next_seg; g < prot->nseg; g++) {
    const OxSegment *s = &prot->seg[g];
    PetscBool        ok;
    char             msg[256];
    int              stop = stop_requested, every = cfg->checkpoint_every_cycles, periodic;
    PetscCall(OxIntegratorAdvanceSegment(integ, g, &ok, msg, sizeof(msg)));
    if (!ok) {
      PetscCall(PetscPrintf(comm, "\noxvac: run failed in %s %d, step %d, at t = %.6g s: %s; last good checkpoint: %s\n",
                            s->cycle ? "cycle" : "formation cycle", s->cycle ? s->cycle : s->formation_cycle, s->step_index + 1, s->t1_s, msg,
                            last_ckpt));
      *status = OX_EXIT_RUN_FAILED;
      break;
    }
    hist.released_mol = OxIntegratorReleasedMol(integ);
    hist.next_seg     = g + 1;
    PetscCall(OxObservablesSample(&m.op, m.c, s->t1_s, s->cycle, s->s1, hist.released_mol, &smp));
    PetscCall(OxTimeseriesAppend(&hist.ts, &smp));
    if (s->last_of_cycle && s->cycle > 0 && wants_field(cfg, s->cycle)) PetscCall(OxHistoryStoreField(&hist, &m.ms, m.c, s->cycle, s->t1_s, s->s1));
    progress_report(&prog, s, g == prot->nseg - 1);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, comm));
    periodic = every > 0 && s->last_of_cycle && s->cycle > 0 && s->cycle % every == 0 && g < prot->nseg - 1;
    if (periodic || stop) {
      PetscCall(OxHistoryWrite(&hist, ckpt, cfg_text, cli->command_line, m.da, &m.ms, &m.op, m.c));
      PetscCall(PetscStrncpy(last_ckpt, ckpt, sizeof(last_ckpt)));
      /* A run restarted from here re-initialises CVODE; so does this one. */
      OxIntegratorForceRestart(integ);
    }
    if (stop) {
      PetscCall(PetscPrintf(comm, "\noxvac: stopped by signal %d at t = %.6g s (%s %d); checkpoint: %s; continue with: oxvac run %s -o %s --restart %s\n",
                            stop, s->t1_s, s->cycle ? "cycle" : "formation cycle", s->cycle ? s->cycle : s->formation_cycle, ckpt, cli->config,
                            path, ckpt));
      *status = OX_EXIT_RUN_FAILED;
      break;
    }
  }
  PetscCall(PetscLogStagePop());
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  if (*status == OX_EXIT_OK) {
    PetscCall(OxHistoryWrite(&hist, path, cfg_text, cli->command_line, m.da, &m.ms, &m.op, NULL));
    PetscCall(print_summary(comm, &m.op, &m.ms, integ, &hist.ts, wall_s() - wall0));
    PetscCall(PetscPrintf(comm, "oxvac: wrote %s\n", path));
  }
  free(cfg_text);
  PetscCall(OxHistoryDestroy(&hist));
  PetscCall(OxIntegratorDestroy(&integ));
  PetscCall(model_destroy(&m));
  PetscFunctionReturn(0);
}

int OxCommandRun(OxCli *cli)
{
  OxConfig       cfg;
  OxProtocol     prot;
  PetscMPIInt    rank;
  PetscErrorCode ierr;
  int            status;

  memset(&cfg, 0, sizeof(cfg));
  memset(&prot, 0, sizeof(prot));
  ierr = PetscInitialize(&cli->petsc_argc, &cli->petsc_argv, NULL, help);
  if (ierr) return OX_EXIT_RUN_FAILED;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  status = load_inputs(cli, rank, &cfg, &prot);
  if (status == 0) {
    ierr = simulate(cli, &cfg, &prot, &status);
    if (ierr) status = OX_EXIT_RUN_FAILED;
  }
  OxProtocolDestroy(&prot);
  OxConfigFree(&cfg);
  ierr = PetscFinalize();
  return ierr ? OX_EXIT_RUN_FAILED : status;
}
