/* The run and check commands: config -> microstructure -> operator ->
 * protocol + integrator -> observables -> output. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <petscdmda.h>
#include "oxvac/check.h"
#include "oxvac/cli.h"
#include "oxvac/common.h"
#include "oxvac/config.h"
#include "oxvac/error.h"
#include "oxvac/history.h"
#include "oxvac/integrator.h"
#include "oxvac/microstructure.h"
#include "oxvac/balance.h"
#include "oxvac/model.h"
#include "oxvac/observables.h"
#include "oxvac/operator.h"
#include "oxvac/output.h"
#include "oxvac/protocol.h"
#include "oxvac/run.h"
#include "oxvac/shell.h"
#include "oxvac/initial.h"
#include "oxvac/stress.h"

static const char help[] = "oxvac: oxygen-vacancy formation and diffusion in cathode particles\n";

/* Bytes every voxel of the grid needs before the solid is known: while the
 * operator is built the box holds the labels, the secondaries, the smoothed
 * solid indicator, its gradient (3), the layer points' shifts (3), the
 * exchange area and accessibility, and the voxel map, about 100 bytes. The
 * solver itself holds solid voxels and layer cells only (operator.h), so this
 * is a lower bound: only runs that cannot fit are refused. */
#define OX_BYTES_PER_VOXEL 100.0
#define OX_PROTOCOL_MAX_H 1e6 /* 114 years of cycling */
#define OX_D_MAX_CM2_S 1e-5   /* a liquid's diffusivity: the upper end of material.diffusivity_cm2_s */
#define OX_K_MAX_NM_S 1e6     /* the upper end of surface.exchange_nm_s */

/* Fail with "CONFIG:LINE: key 'KEY': ..." at where KEY is written (line 1 when it is a default). */
static int input_fail(const char *config, int nset, const char *const *sets, const char *key, char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 7, 8)));
static int input_fail(const char *config, int nset, const char *const *sets, const char *key, char *err, size_t errlen, const char *fmt, ...)
{
  char    file[OX_PATH_MAX];
  int     line = 1;
  va_list ap;
  OxConfigLocateKey(config, nset, sets, key, file, sizeof(file), &line);
  va_start(ap, fmt);
  OxInputErrorV(err, errlen, file, line, key, fmt, ap);
  va_end(ap);
  return OX_EXIT_INPUT;
}

/* Cross-key checks, once the grid is known: values each in their range that
 * together describe no run (docs/interface.md section 2). */
static int check_plausible(const char *config, int nset, const char *const *sets, const OxConfig *cfg, char *err, size_t errlen)
{
  const double h = cfg->voxel_nm, ext[3] = {cfg->shape[0] * h, cfg->shape[1] * h, cfg->shape[2] * h};
  const double nvox = (double)cfg->shape[0] * cfg->shape[1] * cfg->shape[2];
  const double diag = sqrt(ext[0] * ext[0] + ext[1] * ext[1] + ext[2] * ext[2]);

  if (cfg->mech_enabled && cfg->time_mode == OX_TIME_AVERAGED && (cfg->mech_eq_volume_A3 != 0.0 || cfg->mech_diffusion_volume_A3 != 0.0))
    return input_fail(config, nset, sets, cfg->mech_eq_volume_A3 != 0.0 ? "mechanics.coupling.eq_volume_A3" : "mechanics.coupling.diffusion_volume_A3", err,
                      errlen,
                      "stress coupling with solver.time_mode = \"averaged\" (the cycle average of exp(V sigma_h(soc) / kT) is not implemented); "
                      "expected time_mode \"resolved\", or both activation volumes 0");
  if (cfg->micro_type == OX_MICRO_GENERATED && cfg->primary_diameter_nm < h)
    return input_fail(config, nset, sets, "microstructure.primary_diameter_nm", err, errlen,
                      "%g nm is smaller than one voxel (grid.voxel_nm = %g); expected primaries of at least one voxel, better several", cfg->primary_diameter_nm, h);
  if (cfg->micro_type == OX_MICRO_SPHERE) {
    /* The voxel centre farthest from the centre: inside the sphere, every voxel is solid. */
    double far2 = 0.0;
    for (int d = 0; d < 3; d++) {
      double c = cfg->center_nm[d], lo = 0.5 * h - c, hi = ext[d] - 0.5 * h - c, m = fmax(fabs(lo), fabs(hi));
      far2 += m * m;
    }
    if (far2 <= cfg->radius_nm * cfg->radius_nm)
      return input_fail(config, nset, sets, "microstructure.radius_nm", err, errlen,
                        "the sphere (%g nm) covers the whole grid (%g x %g x %g nm), so no surface exchanges; expected a sphere inside its grid, e.g. radius_nm < %g",
                        cfg->radius_nm, ext[0], ext[1], ext[2], 0.5 * fmin(ext[0], fmin(ext[1], ext[2])));
  }
  /* A lamella thicker than the grid is the whole grid along its axis (small test grids keep the 80 nm default). */
  if (diag / cfg->profile_bin_nm > 1e5)
    return input_fail(config, nset, sets, "observables.profile_bin_nm", err, errlen,
                      "%g nm gives %.3g bins over the grid's diagonal (%g nm); expected at most 100000 bins, profile_bin_nm >= %g", cfg->profile_bin_nm,
                      diag / cfg->profile_bin_nm, diag, diag / 1e5);
  {
    long   pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double mem = pages > 0 && psize > 0 ? (double)pages * (double)psize : 0.0;
    double need = nvox * OX_BYTES_PER_VOXEL;
    if (mem > 0 && need > mem)
      return input_fail(config, nset, sets, cfg->has_shape ? "grid.shape" : cfg->has_domain ? "grid.domain_um" : "grid.voxel_nm", err, errlen,
                        "%d x %d x %d voxels need about %.3g GB (%.0f bytes per voxel) but this machine has %.3g GB; expected a grid that fits in memory (coarser voxels or a smaller domain)",
                        cfg->shape[0], cfg->shape[1], cfg->shape[2], need / 1e9, OX_BYTES_PER_VOXEL, mem / 1e9);
  }
  return 0;
}

static double table_max(const OxTable *t)
{
  double m = 0.0;
  for (int i = 0; i < t->n; i++) m = fmax(m, t->value[i]);
  return m;
}

/* D and k with every multiplier applied stay a solid's (each scale alone is in
 * its range; together they may not be): the key named is the step's scale
 * when it is not 1, else the global one. */
static int check_rates(const char *config, int nset, const char *const *sets, const OxConfig *cfg, char *err, size_t errlen)
{
  const double    dmax = table_max(&cfg->diffusivity_cm2_s) * cfg->diffusivity_scale, kmax = table_max(&cfg->exchange_nm_s) * cfg->exchange_scale;
  const OxBlock  *blocks[2] = {&cfg->formation, &cfg->cycling};
  const char     *names[2]  = {"formation", "cycling"};
  char            key[128];

  for (int b = 0; b < 2; b++)
    for (int i = 0; i < blocks[b]->nsteps; i++) {
      const OxStep *st = &blocks[b]->steps[i];
      double        D = dmax * st->diffusivity_scale, k = kmax * st->release_scale;
      if (D > OX_D_MAX_CM2_S) {
        if (st->diffusivity_scale != 1.0) snprintf(key, sizeof(key), "protocol.%s.steps.[%d].diffusivity_scale", names[b], i);
        else snprintf(key, sizeof(key), "material.diffusivity_scale");
        return input_fail(config, nset, sets, key, err, errlen,
                          "makes the diffusivity %.3g cm^2/s (largest D(soc) %.3g x material.diffusivity_scale %g x the step's %g); expected at most %g cm^2/s, a solid's",
                          D, table_max(&cfg->diffusivity_cm2_s), cfg->diffusivity_scale, st->diffusivity_scale, OX_D_MAX_CM2_S);
      }
      if (k > OX_K_MAX_NM_S) {
        if (st->release_scale != 1.0) snprintf(key, sizeof(key), "protocol.%s.steps.[%d].release_scale", names[b], i);
        else snprintf(key, sizeof(key), "surface.exchange_scale");
        return input_fail(config, nset, sets, key, err, errlen,
                          "makes the exchange rate %.3g nm/s (largest k(soc) %.3g x surface.exchange_scale %g x the step's release_scale %g); expected at most %g nm/s, beyond which the surface is at equilibrium anyway",
                          k, table_max(&cfg->exchange_nm_s), cfg->exchange_scale, st->release_scale, OX_K_MAX_NM_S);
      }
    }
  return 0;
}

/* Load config and protocol; on an input error say why. */
int OxLoadInputsMessage(const char *config, int nset, const char *const *sets, OxConfig *cfg, OxProtocol *prot, char *err, size_t errlen)
{
  int status = OxConfigLoad(config, nset, sets, cfg, err, errlen);
  if (status == 0) status = OxMicrostructureResolveGrid(cfg, err, errlen);
  if (status == 0 && (double)cfg->shape[0] * cfg->shape[1] * cfg->shape[2] > 2147483647.0)
    status = input_fail(config, nset, sets, cfg->has_shape ? "grid.shape" : cfg->has_domain ? "grid.domain_um" : "grid.voxel_nm", err, errlen,
                        "%d x %d x %d voxels exceed PETSc's 32-bit index range; expected at most 2^31 - 1 voxels", cfg->shape[0], cfg->shape[1], cfg->shape[2]);
  if (status == 0) status = check_plausible(config, nset, sets, cfg, err, errlen);
  if (status == 0) status = check_rates(config, nset, sets, cfg, err, errlen);
  if (status == 0) status = OxProtocolCreate(cfg, prot, err, errlen);
  if (status == 0 && OxProtocolEndTime(prot) > OX_PROTOCOL_MAX_H * 3600.0)
    status = input_fail(config, nset, sets, "protocol", err, errlen, "simulates %.3g h; expected at most %g h (fewer cycles or shorter steps)",
                        OxProtocolEndTime(prot) / 3600.0, OX_PROTOCOL_MAX_H);
  return status ? OX_EXIT_INPUT : 0;
}

int OxLoadInputs(const OxRunOptions *opt, int rank, OxConfig *cfg, OxProtocol *prot)
{
  char err[OX_ERR_MAX];
  int  status = OxLoadInputsMessage(opt->config, opt->nset, opt->sets, cfg, prot, err, sizeof(err));
  if (status != 0 && rank == 0) fprintf(stderr, "%s\n", err);
  return status;
}

/* What `run` and `check` were asked on the command line. */
static OxRunOptions run_options(const OxCli *cli)
{
  OxRunOptions o = {cli->config, cli->nset, cli->sets, cli->out, cli->restart, cli->quiet, 0, cli->command_line};
  return o;
}

int OxCommandCheck(OxCli *cli)
{
  OxRunOptions opt = run_options(cli);
  OxConfig   cfg;
  OxProtocol prot;
  char      *text;
  int        status;

  memset(&cfg, 0, sizeof(cfg));
  memset(&prot, 0, sizeof(prot));
  status = OxLoadInputs(&opt, 0, &cfg, &prot);
  if (status == 0) {
    text = OxConfigToString(&cfg);
    fputs(text, stdout);
    printf("# protocol: %d segments, %d cycles, %.6g h simulated\n", prot.nseg, OxProtocolNumCycles(&prot), OxProtocolEndTime(&prot) / 3600.0);
    free(text);
    fflush(stdout);
    OxCheckWarnings(&cfg, &prot, cli->nset, cli->sets, stderr); /* valid, but plausibly a unit mistake: exit status stays 0 */
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

/* What the integrator did, kept for the summary after it is destroyed. */
typedef struct {
  OxIntegratorStats st;
  char              pc[64];
  double            stiff;
} SolverReport;

static PetscErrorCode solver_report(OxIntegrator integ, SolverReport *r)
{
  const char *pc;

  PetscFunctionBeginUser;
  PetscCall(OxIntegratorGetStats(integ, &r->st));
  PetscCall(OxIntegratorGetPC(integ, &pc, &r->stiff));
  PetscCall(PetscStrncpy(r->pc, pc, sizeof(r->pc)));
  PetscFunctionReturn(0);
}

static PetscErrorCode print_summary(MPI_Comm comm, const OxOperator *op, const OxMicrostructure *ms, const SolverReport *r, const OxTimeseries *ts,
                                    double wall)
{
  const OxIntegratorStats st = r->st;
  const OxSample         *last = &ts->row[ts->n - 1];
  const char             *pc = r->pc;
  double                  stiff = r->stiff;

  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(comm,
                        "oxvac: %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " voxels (%" PetscInt_FMT " solid), %" PetscInt_FMT
                        " unknowns (%" PetscInt_FMT " in the surface layer), %.4g h simulated in %.2f s wall\n",
                        ms->nx, ms->ny, ms->nz, op->nsolid, op->nsolid + op->nlayer, op->nlayer, last->time_s / 3600.0, wall));
  PetscCall(PetscPrintf(comm, "oxvac: %ld steps, %ld rhs, %ld linear iterations, %ld preconditioner setups, %ld error-test failures; PC %s (stiffness %.2g)\n",
                        st.nsteps, st.nrhs, st.nlinit, st.npsetup, st.nerrfail, pc, stiff));
  PetscCall(PetscPrintf(comm, "oxvac: oxygen loss %.6g at.%%, released %.6g mol, inventory %.6g mol (relative difference %.2e)\n", last->oxygen_loss_pct,
                        last->released_mol, last->inventory_mol,
                        last->released_mol != 0 ? (last->inventory_mol - last->released_mol) / last->released_mol : 0.0));
  PetscFunctionReturn(0);
}

/* What is being built, for the startup line on stderr. */
static void describe_build(const OxConfig *cfg, char *buf, size_t len)
{
  double     vox = (double)cfg->shape[0] * cfg->shape[1] * cfg->shape[2];
  int        n   = snprintf(buf, len, "oxvac: building %dx%dx%d voxels of %g nm (%.4g x %.4g x %.4g um, %.4g voxels): ", cfg->shape[0], cfg->shape[1],
                            cfg->shape[2], cfg->voxel_nm, 1e-3 * cfg->shape[0] * cfg->voxel_nm, 1e-3 * cfg->shape[1] * cfg->voxel_nm,
                            1e-3 * cfg->shape[2] * cfg->voxel_nm, vox);
  if (n < 0 || (size_t)n >= len) return;
  switch (cfg->micro_type) {
  case OX_MICRO_SPHERE: snprintf(buf + n, len - n, "one sphere of radius %g nm", cfg->radius_nm); break;
  case OX_MICRO_IMPORT: snprintf(buf + n, len - n, "the image %s", cfg->import_file); break;
  default:
    snprintf(buf + n, len - n, "generated, %d secondar%s of about %.0f primaries of %g nm in all (porosity %g)", cfg->n_secondaries,
             cfg->n_secondaries == 1 ? "y" : "ies", OxGenerateExpectedPrimaries(cfg), cfg->primary_diameter_nm, cfg->porosity);
  }
}

/* SIGTERM/SIGINT ask for a checkpoint and a clean stop at the next step end. */
static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { stop_requested = sig; }
int         OxSimulateStopSignal(void) { return (int)stop_requested; }

/* OUT.h5 -> OUT.ckpt.h5 */
static void checkpoint_path(const char *path, char *ck, size_t len)
{
  size_t n = strlen(path);
  if (n > 3 && !strcmp(path + n - 3, ".h5")) snprintf(ck, len, "%.*s.ckpt.h5", (int)(n - 3), path);
  else snprintf(ck, len, "%s.ckpt.h5", path);
}

/* The command that continues a stopped run: the same config and overrides, pasteable into a shell. */
static char *restart_command(const OxRunOptions *opt, const char *path, const char *ckpt)
{
  const char **argv = malloc((size_t)(2 * opt->nset + 7) * sizeof(char *));
  char        *text;
  int          n = 0;
  if (!argv) return NULL;
  argv[n++] = "oxvac";
  argv[n++] = "run";
  argv[n++] = opt->config;
  for (int i = 0; i < opt->nset; i++) {
    argv[n++] = "--set";
    argv[n++] = opt->sets[i];
  }
  argv[n++] = "-o";
  argv[n++] = path;
  argv[n++] = "--restart";
  argv[n++] = ckpt;
  text = OxShellJoin(n, argv);
  free(argv);
  return text;
}

/* With several ranks: how the solid voxels (the unknowns) and the box voxels spread over them. */
static PetscErrorCode print_decomposition(MPI_Comm comm, const OxOperator *op)
{
  PetscMPIInt size;
  PetscInt    n[2] = {op->nloc, op->xm * op->ym * op->zm}, lo[2], hi[2];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (size == 1) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Allreduce(n, lo, 2, MPIU_INT, MPI_MIN, comm));
  PetscCallMPI(MPI_Allreduce(n, hi, 2, MPIU_INT, MPI_MAX, comm));
  PetscCall(PetscFPrintf(comm, PETSC_STDERR,
                         "oxvac: %d ranks, solid voxels per rank %" PetscInt_FMT "..%" PetscInt_FMT " (ratio %.3f), box voxels per rank %" PetscInt_FMT
                         "..%" PetscInt_FMT "\n",
                         size, lo[0], hi[0], lo[0] > 0 ? (double)hi[0] / (double)lo[0] : 0.0, lo[1], hi[1]));
  PetscFunctionReturn(0);
}

/* Set-up needs the box with one ghost layer (labels, normals, the slot map);
 * the run needs only its layout. A fresh DMDA with the same ownership and no
 * ghost layer drops the ghost scatter and the communication buffers set-up
 * allocated (about 28 B per box voxel on one rank). */
static PetscErrorCode layout_only_box(DM *da)
{
  DM              nda;
  PetscInt        M, N, P, mp, np, pp;
  const PetscInt *lx, *ly, *lz;

  PetscFunctionBeginUser;
  PetscCall(DMDAGetInfo(*da, NULL, &M, &N, &P, &mp, &np, &pp, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(*da, &lx, &ly, &lz));
  PetscCall(DMDACreate3d(PetscObjectComm((PetscObject)*da), DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, M, N, P, mp, np, pp, 1,
                         0, lx, ly, lz, &nda));
  PetscCall(DMSetUp(nda));
  PetscCall(DMDestroy(da));
  *da = nda;
  PetscFunctionReturn(0);
}

PetscErrorCode OxModelCreate(const OxConfig *cfg, OxModel *m)
{
  PetscFunctionBeginUser;
  m->state = NULL;
  /* cfg->shape is complete here: from grid.shape, grid.domain_um or the imported image */
  PetscCall(DMDACreate3d(PETSC_COMM_WORLD, DM_BOUNDARY_GHOSTED, DM_BOUNDARY_GHOSTED, DM_BOUNDARY_GHOSTED, DMDA_STENCIL_STAR, cfg->shape[0], cfg->shape[1],
                         cfg->shape[2], PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, 1, 1, NULL, NULL, NULL, &m->da));
  PetscCall(DMSetFromOptions(m->da));
  PetscCall(DMSetUp(m->da));
  PetscCall(OxMicrostructureCreate(cfg, m->da, &m->ms));
  PetscCall(OxBalanceBySolid(&m->da, &m->ms));
  PetscCall(OxOperatorCreate(cfg, m->da, &m->ms, &m->op));
  PetscCall(OxMicrostructureCompact(&m->ms)); /* the geometry is built: labels as int32 from here on */
  PetscCall(layout_only_box(&m->da));
  m->op.da = m->da;
  PetscCall(OxSurfaceCreateLayerVec(&m->op.surf, PETSC_COMM_WORLD, &m->u));
  if (m->u) {
    /* voxel and layer states side by side in one array, which the
     * integrator then advances in place (integrator.c) */
    PetscInt nu, Nu;
    PetscCall(VecGetLocalSize(m->u, &nu));
    PetscCall(VecGetSize(m->u, &Nu));
    PetscCall(VecDestroy(&m->u));
    PetscCall(PetscCalloc1(m->op.nloc + nu + 1, &m->state));
    PetscCall(VecCreateMPIWithArray(PETSC_COMM_WORLD, 1, m->op.nloc, m->op.nsolid, m->state, &m->c));
    PetscCall(VecCreateMPIWithArray(PETSC_COMM_WORLD, 1, nu, Nu, m->state + m->op.nloc, &m->u));
  } else PetscCall(OxOperatorCreateVoxelVec(&m->op, &m->c));
  PetscCall(PetscObjectSetName((PetscObject)m->c, "c"));
  PetscFunctionReturn(0);
}

PetscErrorCode OxModelDestroy(OxModel *m)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&m->c));
  PetscCall(VecDestroy(&m->u));
  PetscCall(PetscFree(m->state));
  PetscCall(OxOperatorDestroy(&m->op));
  PetscCall(OxMicrostructureDestroy(&m->ms));
  PetscCall(DMDestroy(&m->da));
  PetscFunctionReturn(0);
}

/* First segment of cycling pass `cycle` (1..N), or nseg if there is none. */
static int first_segment_of_cycle(const OxProtocol *prot, int cycle)
{
  for (int g = 0; g < prot->nseg; g++)
    if (prot->seg[g].cycle == cycle) return g;
  return prot->nseg;
}

/* A vacancy fraction this far outside [0, 1] is no solver noise (any rtol in
 * range undershoots far less): the run stops rather than report it. */
#define OX_STATE_TOL 1e-3

/* The test option -ox_fault_segment G (with -ox_fault_value V, NaN by
 * default): V is planted in the first voxel after segment G, so that tests
 * can reach state_check's failure path. Read once per run. */
typedef struct {
  PetscInt  seg; /* -1: none */
  PetscReal value;
} Fault;

static PetscErrorCode fault_from_options(Fault *f)
{
  PetscBool set;

  PetscFunctionBeginUser;
  f->seg   = -1;
  f->value = NAN;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-ox_fault_segment", &f->seg, &set));
  if (!set || f->seg < 0) f->seg = -1;
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-ox_fault_value", &f->value, NULL));
  PetscFunctionReturn(0);
}

/*
 * Whether the state after segment g (g < 0: an averaged cycle, fault NULL)
 * is physical: finite, and within [0, 1] to OX_STATE_TOL; why says what is
 * wrong otherwise.
 */
static PetscErrorCode state_check(OxModel *m, const Fault *fault, int g, PetscBool *good, char *why, size_t len)
{
  PetscReal lo, hi;
  PetscBool finite;

  PetscFunctionBeginUser;
  if (fault && g >= 0 && fault->seg == g) {
    PetscCall(VecSetValue(m->c, 0, fault->value, INSERT_VALUES));
    PetscCall(VecAssemblyBegin(m->c));
    PetscCall(VecAssemblyEnd(m->c));
  }
  PetscCall(OxStateRange(m->c, m->u, &lo, &hi, &finite));
  *good = finite && lo >= -OX_STATE_TOL && hi <= 1.0 + OX_STATE_TOL ? PETSC_TRUE : PETSC_FALSE;
  if (!finite) PetscCall(PetscSNPrintf(why, len, "the vacancy fraction is not finite (NaN or Inf) somewhere in the solid"));
  else if (!*good)
    PetscCall(PetscSNPrintf(why, len, "the vacancy fraction left [0, 1] by more than %g (smallest %.6g, largest %.6g)", (double)OX_STATE_TOL, (double)lo,
                            (double)hi));
  PetscFunctionReturn(0);
}

/* Keep the state as the stored field of cycle, with its stress (mechanics). */
static PetscErrorCode store_field(OxHistory *hist, OxModel *m, OxStress stress, int cycle, double t_s, double soc)
{
  PetscFunctionBeginUser;
  PetscCall(OxHistoryStoreField(hist, &m->ms, &m->op, m->c, m->u, cycle, t_s, soc));
  PetscCall(OxStressStoreField(stress, hist, m));
  PetscFunctionReturn(0);
}

/* Resolved cycles whose averaged counterpart estimates the averaging error. */
#define OX_AVERAGING_WINDOW 3

/*
 * Cycle-averaged mode after the resolved window: averaged operator from the
 * end of the window to the end of the protocol, one row per cycle end. The
 * window itself is integrated a second time, averaged, from the state at its
 * start (c_win), and the difference is the error estimate.
 */
static PetscErrorCode run_averaged(const OxConfig *cfg, const OxProtocol *prot, OxModel *m, OxIntegrator integ, OxHistory *hist, OxStress stress,
                                   Vec c_win, Vec u_win, double released_win, int *status, int quiet, int silent)
{
  MPI_Comm     comm = PETSC_COMM_WORLD;
  int          ncyc = OxProtocolNumCycles(prot), W = PetscMin(OX_AVERAGING_WINDOW, ncyc), ca = ncyc >= 2 ? 2 : 1;
  int          g0 = first_segment_of_cycle(prot, ca), g1 = first_segment_of_cycle(prot, ca + 1) - 1;
  int          gw = first_segment_of_cycle(prot, 1);
  OxParams     avg;
  OxIntegrator integ2;
  OxSample     smp, s_win0, s_win1;
  PetscBool    ok;
  char         msg[256];
  double       t_win0 = prot->seg[gw].t0_s, t_win1 = prot->seg[first_segment_of_cycle(prot, W + 1) - 1].t1_s;

  PetscFunctionBeginUser;
  PetscCall(OxOperatorSetCycleAverage(&m->op, prot, g0, g1, &avg));
  /* error estimate: the same window, averaged, from the same state */
  PetscCall(OxObservablesSample(&m->op, c_win, u_win, t_win0, 0, 0.0, released_win, &s_win0));
  PetscCall(OxIntegratorCreate(cfg, &m->op, prot, c_win, u_win, t_win0, released_win, &integ2));
  PetscCall(OxIntegratorAdvanceAveraged(integ2, &avg, t_win1, t_win1, &ok, msg, sizeof(msg)));
  PetscCheck(ok, comm, PETSC_ERR_NOT_CONVERGED, "averaged window failed: %s", msg);
  PetscCall(OxIntegratorDestroy(&integ2));
  PetscCall(OxObservablesSample(&m->op, c_win, u_win, t_win1, W, 0.0, 0.0, &s_win1));
  {
    const OxSample *r = &hist->ts.row[hist->ts.n - 1]; /* resolved, end of the window */
    double          dres = r->vacancy_mean - s_win0.vacancy_mean, davg = s_win1.vacancy_mean - s_win0.vacancy_mean;
    hist->avg_window        = W;
    hist->avg_err_increment = dres != 0.0 ? (davg - dres) / dres : 0.0;
    hist->avg_err_loss      = r->vacancy_mean != 0.0 ? (s_win1.vacancy_mean - r->vacancy_mean) / r->vacancy_mean : 0.0;
    if (!silent)
      PetscCall(PetscPrintf(comm,
                          "oxvac: averaging error estimate over cycles 1-%d (resolved vs averaged): oxygen-loss increment %+.3e relative, "
                          "total oxygen loss %+.3e relative\n",
                          W, hist->avg_err_increment, hist->avg_err_loss));
  }
  for (int k = W + 1; k <= ncyc; k++) {
    const OxSegment *last = &prot->seg[first_segment_of_cycle(prot, k + 1) - 1];
    PetscCall(OxIntegratorAdvanceAveraged(integ, &avg, last->t1_s, OxProtocolEndTime(prot), &ok, msg, sizeof(msg)));
    if (ok) PetscCall(state_check(m, NULL, -1, &ok, msg, sizeof(msg)));
    if (!ok) {
      PetscCall(PetscPrintf(comm, "\noxvac: run failed in averaged cycle %d at t = %.6g s: %s; last good checkpoint: none\n", k, last->t1_s, msg));
      *status = OX_EXIT_RUN_FAILED;
      break;
    }
    hist->released_mol = OxIntegratorReleasedMol(integ);
    PetscCall(OxObservablesSample(&m->op, m->c, m->u, last->t1_s, k, last->s1, hist->released_mol, &smp));
    PetscCall(OxTimeseriesAppend(&hist->ts, &smp));
    if (wants_field(cfg, k)) PetscCall(store_field(hist, m, stress, k, last->t1_s, last->s1));
    if (!quiet && (k % PetscMax(1, ncyc / 100) == 0 || k == ncyc))
      PetscCall(PetscFPrintf(comm, PETSC_STDERR, "averaged cycle %d/%d  t = %.4g h\n", k, ncyc, last->t1_s / 3600.0));
    int stop = k < ncyc ? stop_requested : 0;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, comm)); /* every rank leaves together */
    if (stop) {
      PetscCall(PetscPrintf(comm, "\noxvac: stopped by signal at averaged cycle %d; averaged runs write no checkpoint in this version\n", k));
      *status = OX_EXIT_RUN_FAILED;
      break;
    }
  }
  PetscFunctionReturn(0);
}

/* A result or checkpoint that could not be written (a full or read-only
 * disk): one plain line on stderr with where the run was, the file, why,
 * and the last good checkpoint (intact: the failed write never touches it). */
static PetscErrorCode write_failed(MPI_Comm comm, const char *what, const char *file, const char *why, const OxSegment *s, const char *last_ckpt,
                                   int last_cycle, double last_t)
{
  char last[PETSC_MAX_PATH_LEN + 96];

  PetscFunctionBeginUser;
  if (last_cycle < 0) PetscCall(PetscSNPrintf(last, sizeof(last), "none"));
  else PetscCall(PetscSNPrintf(last, sizeof(last), "%s (cycle %d, t = %.6g s)", last_ckpt, last_cycle, last_t));
  PetscCall(PetscFPrintf(comm, PETSC_STDERR, "\noxvac: cannot write %s %s at the end of %s %d, step %d (t = %.6g s): %s; the run stops; last good checkpoint: %s\n",
                         what, file, s->cycle ? "cycle" : "formation cycle", s->cycle ? s->cycle : s->formation_cycle, s->step_index + 1, s->t1_s, why, last));
  PetscFunctionReturn(0);
}

/* The simulation proper, once the inputs are valid. */
PetscErrorCode OxSimulate(const OxRunOptions *opt, const OxConfig *cfg, const OxProtocol *prot, int *status)
{
  MPI_Comm      comm = PETSC_COMM_WORLD;
  OxModel       m;
  OxIntegrator  integ = NULL;
  OxHistory     hist;
  OxSample      smp;
  PetscMPIInt   rank;
  PetscLogStage stage_setup, stage_int;
  Progress      prog = {0};
  char         *cfg_text, ckpt[PETSC_MAX_PATH_LEN + 16], last_ckpt[PETSC_MAX_PATH_LEN + 16] = "none";
  const char   *path = opt->out ? opt->out : cfg->out_file;
  double        wall0 = wall_s(), t0 = 0.0, released_win = 0.0;
  int           averaged = cfg->time_mode == OX_TIME_AVERAGED && OxProtocolNumCycles(prot) > OX_AVERAGING_WINDOW;
  int           g_win = first_segment_of_cycle(prot, 1), g_end = averaged ? first_segment_of_cycle(prot, OX_AVERAGING_WINDOW + 1) : prot->nseg;
  Vec           c_win = NULL, u_win = NULL, c_good = NULL, u_good = NULL;
  OxProfiler    prof  = NULL;
  OxStress      stress = NULL;
  int           first_seg;
  Fault         fault;
  int           ckpt_layer = 0, last_ckpt_cycle = -1;
  double        last_ckpt_t = 0.0;
  char          why[512];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  checkpoint_path(path, ckpt, sizeof(ckpt));
  cfg_text = OxConfigToString(cfg);
  /* Input errors found before any work: an unwritable result path, a checkpoint that does not fit. */
  {
    char why[512];
    PetscCall(OxOutputCheckPath(comm, path, why, sizeof(why)));
    if (!why[0] && OxSameFile(path, opt->config)) snprintf(why, sizeof(why), "it is the config file itself");
    if (!why[0] && opt->restart && OxSameFile(path, opt->restart)) snprintf(why, sizeof(why), "it is the --restart checkpoint itself");
    if (why[0]) {
      PetscCall(PetscFPrintf(comm, PETSC_STDERR, "%s:1: key 'output.file': cannot write %s: %s; expected a writable file path (output.file or -o)\n",
                             opt->config, path, why));
      *status = OX_EXIT_INPUT;
    } else if (opt->restart) {
      OxCheckpointExpect ex = {cfg->shape[0], cfg->shape[1], cfg->shape[2], cfg->layer_cells, 1, prot};
      int                r  = OxHistoryCheckCheckpoint(opt->restart, cfg_text, &ex, &ckpt_layer, why, sizeof(why));
      if (r < 0)
        PetscCall(PetscFPrintf(comm, PETSC_STDERR,
                               "%s:1: key 'protocol': --restart %s was made with a different resolved config; expected the checkpoint of a run of this config (and --set overrides)\n",
                               opt->config, opt->restart));
      else if (r == 0) PetscCall(PetscFPrintf(comm, PETSC_STDERR, "%s: %s\n", opt->restart, why));
      if (r != 1) *status = OX_EXIT_INPUT;
    }
    if (*status == OX_EXIT_INPUT) {
      free(cfg_text);
      PetscFunctionReturn(0);
    }
  }
  /* registered once per process: fit runs many simulations */
  PetscCall(PetscLogStageGetId("oxvac setup", &stage_setup));
  if (stage_setup < 0) PetscCall(PetscLogStageRegister("oxvac setup", &stage_setup));
  PetscCall(PetscLogStageGetId("oxvac integrate", &stage_int));
  if (stage_int < 0) PetscCall(PetscLogStageRegister("oxvac integrate", &stage_int));
  stop_requested = 0;
  if (!opt->quiet) {
    char line[OX_PATH_MAX + 256];
    describe_build(cfg, line, sizeof(line));
    PetscCall(PetscFPrintf(comm, PETSC_STDERR, "%s\n", line));
  }
  OxGenerateSetProgress(!opt->quiet);
  PetscCall(PetscLogStagePush(stage_setup));
  PetscCall(OxModelCreate(cfg, &m));
  OxGenerateSetProgress(0);
  if (!opt->quiet) PetscCall(print_decomposition(comm, &m.op));
  {
    /* Input errors only the built model shows, found before anything is written: one message, one way out. */
    char      bad[OX_ERR_MAX + OX_PATH_MAX] = "";
    PetscReal area = 0.0;
    for (PetscInt f = 0; f < m.op.surf.nface; f++) area += m.op.surf.face[f].area_m2;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &area, 1, MPIU_REAL, MPIU_SUM, comm));
    if (m.op.nsolid == 0)
      PetscCall(PetscSNPrintf(bad, sizeof(bad), "%s:1: key 'microstructure': no voxel of the grid is solid; expected particles larger than a voxel inside the grid",
                              opt->config));
    else if (!(area > 0.0) && !cfg->mech_enabled) /* a solid that no face of which exchanges loses nothing (a stress computation still says something) */
      PetscCall(PetscSNPrintf(bad, sizeof(bad),
                              "%s:1: key 'microstructure': no solid/electrolyte face exchanges (the solid fills the grid, or no face is accessible); expected particles with electrolyte around them inside the grid",
                              opt->config));
    else if (opt->restart && (m.u != NULL) != (ckpt_layer != 0)) /* only the model knows whether the layer has cells */
      PetscCall(PetscSNPrintf(bad, sizeof(bad), "%s: dataset '/state/layer': %s; expected %s", opt->restart, ckpt_layer ? "present" : "missing",
                              m.u ? "the surface layer cells of this config" : "none: this model's surface layer has no cells"));
    if (!bad[0] && !opt->restart) PetscCall(OxInitialApply(cfg, &m.op, m.c, m.u, bad, sizeof(bad)));
    if (bad[0]) {
      PetscCall(PetscFPrintf(comm, PETSC_STDERR, "%s\n", bad));
      *status = OX_EXIT_INPUT;
      PetscCall(PetscLogStagePop());
      PetscCall(OxModelDestroy(&m));
      free(cfg_text);
      PetscFunctionReturn(0);
    }
  }
  PetscCall(OxProfilerCreate(cfg, &m.op, &m.ms, &prof));
  PetscCall(OxStressCreate(cfg, &m, &stress));
  if (m.u) { /* the layer columns' voxels enter the 3D profile as depth samples */
    Vec          mask;
    PetscScalar *ma;
    PetscCall(VecDuplicate(m.c, &mask));
    PetscCall(VecZeroEntries(mask));
    PetscCall(VecGetArray(mask, &ma));
    OxSurfaceLayerToVoxels(&m.op.surf, NULL, 0, ma);
    PetscCall(VecRestoreArray(mask, &ma));
    PetscCall(OxProfilerExclude(prof, mask));
    PetscCall(VecDestroy(&mask));
  }
  if (opt->restart) {
    char *saved;
    PetscCall(OxHistoryRead(opt->restart, m.da, &m.ms, &m.op, prof, &hist, m.c, m.u, &saved));
    PetscCall(PetscFree(saved));
    t0 = hist.ts.row[hist.ts.n - 1].time_s;
    PetscCall(PetscStrncpy(last_ckpt, opt->restart, sizeof(last_ckpt)));
    last_ckpt_cycle = hist.ts.row[hist.ts.n - 1].cycle;
    last_ckpt_t     = t0;
  } else {
    PetscCall(PetscMemzero(&hist, sizeof(hist)));
    hist.profiler = prof;
    PetscCall(OxObservablesSample(&m.op, m.c, m.u, 0.0, 0, prot->initial_soc, 0.0, &smp));
    PetscCall(OxTimeseriesAppend(&hist.ts, &smp));
    if (wants_field(cfg, 0)) PetscCall(store_field(&hist, &m, stress, 0, 0.0, prot->initial_soc));
  }
  hist.mn3_field = cfg->mn3_field ? PETSC_TRUE : PETSC_FALSE;
  if (OxStressCouples(stress)) {
    /* the vacancy stress of the checkpoint's reference field, so that a restart goes on exactly */
    if (opt->restart) PetscCall(OxStressRead(stress, &m, opt->restart));
    else PetscCall(OxStressUpdate(stress, &m, PETSC_TRUE));
    OxStressCheckpointVecs(stress, &hist.stress_ref, &hist.stress_disp); /* borrowed: written into checkpoints */
  }
  PetscCall(OxIntegratorCreate(cfg, &m.op, prot, m.c, m.u, t0, hist.released_mol, &integ));
  if (OxStressCouples(stress)) OxIntegratorSetHook(integ, OxStressAtSoc, stress);
  PetscCall(PetscLogStagePop());

  prog.enabled    = !opt->quiet && rank == 0;
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
  PetscCall(VecDuplicate(m.c, &c_good));
  if (m.u) PetscCall(VecDuplicate(m.u, &u_good));
  PetscCall(fault_from_options(&fault));
  first_seg = hist.next_seg;
  for (int g = hist.next_seg; g < g_end; g++) {
    const OxSegment *s = &prot->seg[g];
    if (averaged && g == g_win) {
      PetscCall(VecDuplicate(m.c, &c_win));
      PetscCall(VecCopy(m.c, c_win));
      if (m.u) {
        PetscCall(VecDuplicate(m.u, &u_win));
        PetscCall(VecCopy(m.u, u_win));
      }
      released_win = hist.released_mol;
    }
    PetscBool        ok;
    char             msg[256];
    int              stop, every = cfg->checkpoint_every_cycles, periodic;
    PetscCall(VecCopy(m.c, c_good)); /* the state at the segment start: what a failure keeps */
    if (m.u) PetscCall(VecCopy(m.u, u_good));
    PetscCall(OxIntegratorAdvanceSegment(integ, g, &ok, msg, sizeof(msg)));
    if (ok) PetscCall(state_check(&m, &fault, g, &ok, msg, sizeof(msg)));
    stop = g < prot->nseg - 1 ? stop_requested : 0; /* a signal during the last step: just finish */
    if (!ok) {
      /* Checkpoint the last good state (the history still ends there), unless it is where the run began. */
      PetscCall(VecCopy(c_good, m.c));
      if (m.u) PetscCall(VecCopy(u_good, m.u));
      PetscBool kept = PETSC_FALSE;
      if (!averaged && g > first_seg) {
        hist.wall_time_s = wall_s() - wall0;
        PetscCall(OxHistoryTryWrite(&hist, ckpt, cfg_text, opt->command_line, m.da, &m.ms, &m.op, m.c, m.u, why, sizeof(why)));
        kept = why[0] ? PETSC_FALSE : PETSC_TRUE; /* else the earlier checkpoint stays the last good one */
        if (kept) PetscCall(PetscStrncpy(last_ckpt, ckpt, sizeof(last_ckpt)));
      }
      PetscCall(PetscPrintf(comm, "\noxvac: run failed in %s %d, step %d (t = %.6g to %.6g s): %s; last good checkpoint: %s%s\n",
                            s->cycle ? "cycle" : "formation cycle", s->cycle ? s->cycle : s->formation_cycle, s->step_index + 1, s->t0_s, s->t1_s,
                            msg, last_ckpt, kept ? " (the state at the start of this step)" : ""));
      *status = OX_EXIT_RUN_FAILED;
      break;
    }
    hist.released_mol = OxIntegratorReleasedMol(integ);
    hist.next_seg     = g + 1;
    PetscCall(OxStressUpdate(stress, &m, s->last_of_cycle ? PETSC_TRUE : PETSC_FALSE));
    PetscCall(OxObservablesSample(&m.op, m.c, m.u, s->t1_s, s->cycle, s->s1, hist.released_mol, &smp));
    PetscCall(OxTimeseriesAppend(&hist.ts, &smp));
    if (s->last_of_cycle && s->cycle > 0 && wants_field(cfg, s->cycle))
      PetscCall(store_field(&hist, &m, stress, s->cycle, s->t1_s, s->s1));
    progress_report(&prog, s, g == g_end - 1);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, comm));
    periodic = !averaged && every > 0 && s->last_of_cycle && s->cycle > 0 && s->cycle % every == 0 && g < prot->nseg - 1;
    if ((periodic || stop) && !averaged) {
      hist.wall_time_s = wall_s() - wall0;
      PetscCall(OxHistoryTryWrite(&hist, ckpt, cfg_text, opt->command_line, m.da, &m.ms, &m.op, m.c, m.u, why, sizeof(why)));
      if (why[0]) {
        PetscCall(write_failed(comm, "the checkpoint", ckpt, why, s, last_ckpt, last_ckpt_cycle, last_ckpt_t));
        *status = OX_EXIT_RUN_FAILED;
        break;
      }
      PetscCall(PetscStrncpy(last_ckpt, ckpt, sizeof(last_ckpt)));
      last_ckpt_cycle = s->cycle;
      last_ckpt_t     = s->t1_s;
    }
    if (stop) {
      if (averaged)
        PetscCall(PetscPrintf(comm, "\noxvac: stopped by signal %d at t = %.6g s; averaged runs write no checkpoint in this version\n", stop, s->t1_s));
      else {
        char *hint = restart_command(opt, path, ckpt);
        PetscCall(PetscPrintf(comm, "\noxvac: stopped by signal %d at t = %.6g s (%s %d); checkpoint: %s; continue with: %s\n", stop, s->t1_s,
                              s->cycle ? "cycle" : "formation cycle", s->cycle ? s->cycle : s->formation_cycle, ckpt, hint ? hint : "(out of memory)"));
        free(hint);
      }
      *status = OX_EXIT_RUN_FAILED;
      break;
    }
  }
  if (averaged && *status == OX_EXIT_OK && c_win)
    PetscCall(run_averaged(cfg, prot, &m, integ, &hist, stress, c_win, u_win, released_win, status, opt->quiet, opt->silent));
  PetscCall(VecDestroy(&c_win));
  PetscCall(VecDestroy(&u_win));
  PetscCall(VecDestroy(&c_good));
  PetscCall(VecDestroy(&u_good));
  PetscCall(PetscLogStagePop());
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  if (*status == OX_EXIT_OK) {
    SolverReport rep;
    /* the result is written with the solver's memory given back: its
     * box-sized buffers do not add to the run's peak */
    PetscCall(solver_report(integ, &rep));
    PetscCall(OxIntegratorDestroy(&integ));
    hist.wall_time_s = wall_s() - wall0;
    PetscCall(OxHistoryTryWrite(&hist, path, cfg_text, opt->command_line, m.da, &m.ms, &m.op, NULL, NULL, why, sizeof(why)));
    if (why[0]) {
      PetscCall(write_failed(comm, "the result", path, why, &prot->seg[prot->nseg - 1], last_ckpt, last_ckpt_cycle, last_ckpt_t));
      *status = OX_EXIT_RUN_FAILED;
    } else if (!opt->silent) {
      PetscCall(print_summary(comm, &m.op, &m.ms, &rep, &hist.ts, wall_s() - wall0));
      PetscCall(PetscPrintf(comm, "oxvac: wrote %s\n", path));
    }
  }
  free(cfg_text);
  PetscCall(OxHistoryDestroy(&hist));
  PetscCall(OxStressDestroy(&stress));
  PetscCall(OxProfilerDestroy(&prof));
  PetscCall(OxIntegratorDestroy(&integ));
  PetscCall(OxModelDestroy(&m));
  PetscFunctionReturn(0);
}

/* This process's rank as the MPI launcher announces it (0 when not launched). */
int OxLauncherRank(void)
{
  static const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
    const char *v = getenv(vars[i]);
    if (v) return atoi(v);
  }
  return 0;
}

int OxCommandRun(OxCli *cli)
{
  OxRunOptions   opt = run_options(cli);
  OxConfig       cfg;
  OxProtocol     prot;
  PetscErrorCode ierr;
  int            status;

  memset(&cfg, 0, sizeof(cfg));
  memset(&prot, 0, sizeof(prot));
  /* Inputs are plain files: check them before MPI starts, so a bad config
   * costs nothing and cannot hang in MPI start-up. Under mpiexec only the
   * first rank (from the launcher's environment) prints. */
  status = OxLoadInputs(&opt, OxLauncherRank(), &cfg, &prot);
  if (status != 0) {
    OxProtocolDestroy(&prot);
    OxConfigFree(&cfg);
    return status;
  }
  ierr = PetscInitialize(&cli->petsc_argc, &cli->petsc_argv, NULL, help);
  if (ierr) return OX_EXIT_RUN_FAILED;
  ierr = OxSimulate(&opt, &cfg, &prot, &status);
  if (ierr) status = OX_EXIT_RUN_FAILED;
  OxProtocolDestroy(&prot);
  OxConfigFree(&cfg);
  ierr = PetscFinalize();
  return ierr ? OX_EXIT_RUN_FAILED : status;
}
