/* CVODE BDF + SPGMR with a PETSc preconditioner, segment by segment. */
#include <cvodes/cvodes.h>
#include <nvector/nvector_petsc.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunnonlinsol/sunnonlinsol_newton.h>
#include <math.h>
#include <petscksp.h>
#include "oxvac/integrator.h"

struct OxIntegrator_private {
  SUNContext        sunctx;
  void             *cvode;
  N_Vector          y, yq;
  int               layer;      /* with a layer, y is one PETSc vector holding (voxels, layer) */
  int               shared;     /* y is a view of the arrays of c and u (adjacent in memory): no copies */
  Vec               c, u;       /* the model's state: copied into y and back around every advance */
  Vec               vc[2], vu[2]; /* views of the two parts of a state-shaped vector (two at a time) */
  PetscScalar      *va[2];
  Vec               vsrc[2];
  PetscInt          nc;         /* local length of the voxel part */
  SUNLinearSolver   ls;
  SUNNonlinearSolver nls;      /* conserving wrapper around Newton */
  SUNNonlinearSolver newton;   /* the wrapped Newton solver */
  SUNNonlinSolSysFn  sysfn;    /* CVODE's nonlinear residual G(ycor) */
  KSP               ksp;
  OxOperator       *op;
  const OxProtocol *prot;
  int               seg;        /* segment whose parameters the callbacks use; -1: averaged */
  OxParams          avg;        /* cycle-averaged parameters (seg = -1) */
  int               started;    /* CVodeInit done */
  double            t_s;        /* time of the state */
  OxIntegratorStats st;
  MPI_Comm          comm;
  double            stiffness;  /* largest D * segment duration / h^2 (create_preconditioner) */
  OxIntegratorHook  hook;       /* called with the soc of every evaluation (NULL: none) */
  void             *hook_ctx;
};

/* Parameters the callbacks use at time t: the protocol's, or the cycle
 * average; the hook (stress coupling) then sets the operator's factors for
 * that state of charge. Nonzero on a failure of the hook. */
static int params_at(OxIntegrator it, sunrealtype t, OxParams *prm)
{
  if (it->seg < 0) *prm = it->avg;
  else OxProtocolParams(it->prot, it->seg, t, prm);
  return it->hook ? (it->hook(it->hook_ctx, it->op, prm->soc) ? -1 : 0) : 0;
}

/* The voxel and layer parts (u NULL without a layer) of a state-shaped
 * vector, as views into its array in slot 0 or 1; parts_end releases them.
 * One PETSc vector rather than a many-vector: CVODE's reductions then run
 * as single PETSc/BLAS calls. */
static int parts(OxIntegrator it, N_Vector v, int slot, Vec *c, Vec *u)
{
  Vec y = N_VGetVector_Petsc(v);
  if (!it->layer) {
    *c = y;
    *u = NULL;
    return 0;
  }
  if (VecGetArray(y, &it->va[slot])) return -1;
  it->vsrc[slot] = y;
  if (VecPlaceArray(it->vc[slot], it->va[slot]) || VecPlaceArray(it->vu[slot], it->va[slot] + it->nc)) return -1;
  *c = it->vc[slot];
  *u = it->vu[slot];
  return 0;
}

static int parts_end(OxIntegrator it, int slot)
{
  if (!it->layer) return 0;
  if (VecResetArray(it->vc[slot]) || VecResetArray(it->vu[slot])) return -1;
  return VecRestoreArray(it->vsrc[slot], &it->va[slot]) ? -1 : 0;
}

/* Copy the model's state into y (to_y) or y back into it. */
static PetscErrorCode sync_state(OxIntegrator it, PetscBool to_y)
{
  Vec c, u;

  PetscFunctionBeginUser;
  if (!it->layer || it->shared) PetscFunctionReturn(0);
  PetscCheck(!parts(it, it->y, 0, &c, &u), it->comm, PETSC_ERR_LIB, "cannot view the state");
  if (to_y) {
    PetscCall(VecCopy(it->c, c));
    PetscCall(VecCopy(it->u, u));
  } else {
    PetscCall(VecCopy(c, it->c));
    PetscCall(VecCopy(u, it->u));
  }
  PetscCheck(!parts_end(it, 0), it->comm, PETSC_ERR_LIB, "cannot release the state view");
  PetscFunctionReturn(0);
}

/* CVODE retries on a positive return; a PETSc error is not recoverable, so -1. */
#define OX_CB(call) \
  do { \
    if ((call) != 0) return -1; \
  } while (0)

static int rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *ctx)
{
  OxIntegrator it = (OxIntegrator)ctx;
  OxParams     prm;
  Vec          c, u, f, fu;
  OX_CB(params_at(it, t, &prm));
  OX_CB(parts(it, y, 0, &c, &u));
  OX_CB(parts(it, ydot, 1, &f, &fu));
  OX_CB(OxOperatorApply(it->op, &prm, c, u, f, fu, PETSC_TRUE));
  OX_CB(parts_end(it, 1));
  OX_CB(parts_end(it, 0));
  return 0;
}

static int jtimes(N_Vector v, N_Vector jv, sunrealtype t, N_Vector y, N_Vector fy, void *ctx, N_Vector tmp)
{
  OxIntegrator it = (OxIntegrator)ctx;
  OxParams     prm;
  Vec          c, u, f, fu;
  (void)y, (void)fy, (void)tmp;
  OX_CB(params_at(it, t, &prm));
  OX_CB(parts(it, v, 0, &c, &u));
  OX_CB(parts(it, jv, 1, &f, &fu));
  OX_CB(OxOperatorApply(it->op, &prm, c, u, f, fu, PETSC_FALSE));
  OX_CB(parts_end(it, 1));
  OX_CB(parts_end(it, 0));
  return 0;
}

/* Released oxygen rate, mol/s: the quadrature CVODE integrates alongside c. */
static int rhs_released(sunrealtype t, N_Vector y, N_Vector yqdot, void *ctx)
{
  OxIntegrator it = (OxIntegrator)ctx;
  OxParams     prm;
  PetscReal    rate;
  Vec          c, u;
  OX_CB(params_at(it, t, &prm));
  OX_CB(parts(it, y, 0, &c, &u));
  OX_CB(OxOperatorExchangeRate(it->op, &prm, c, u, &rate));
  OX_CB(parts_end(it, 0));
  NV_Ith_S(yqdot, 0) = rate * it->op->site_mol_m3;
  return 0;
}

static int psetup(sunrealtype t, N_Vector y, N_Vector fy, sunbooleantype jok, sunbooleantype *jcur, sunrealtype gamma, void *ctx)
{
  OxIntegrator it = (OxIntegrator)ctx;
  OxParams     prm;
  (void)y, (void)fy, (void)jok;
  OX_CB(params_at(it, t, &prm));
  OX_CB(OxOperatorAssemblePrec(it->op, &prm, gamma));
  OX_CB(KSPSetOperators(it->ksp, it->op->P, it->op->P));
  *jcur = SUNTRUE;
  return 0;
}

static int psolve(sunrealtype t, N_Vector y, N_Vector fy, N_Vector r, N_Vector z, sunrealtype gamma, sunrealtype delta, int lr, void *ctx)
{
  OxIntegrator it = (OxIntegrator)ctx;
  Vec          rc, ru, zc, zu;
  (void)t, (void)y, (void)fy, (void)gamma, (void)delta, (void)lr;
  OX_CB(parts(it, r, 0, &rc, &ru));
  OX_CB(parts(it, z, 1, &zc, &zu));
  OX_CB(OxOperatorPrecApply(it->op, it->ksp, rc, ru, zc, zu));
  OX_CB(parts_end(it, 1));
  OX_CB(parts_end(it, 0));
  return 0;
}

/*
 * Conservation to round-off. The solid's vacancy inventory I = w.c (w the
 * volume of each unknown in voxels: 1 on solid voxels, less on a layer
 * column's voxel, the cell volumes in the layer) and the released-oxygen quadrature Q obey the same BDF
 * recursion only if every step's Newton residual G has w.G = 0; an inexact
 * Newton/Krylov solve leaves w.G of the order of the nonlinear tolerance, and
 * I - Q drifts by that much each step. The problem is affine in c, so after
 * Newton has converged one exact correction along u = w removes it:
 *   ycor += alpha u,  alpha = -w.G / (w.M u),  M = I - gamma J,  u = 1 on solid unknowns,
 *   w.M u = nsolid + gamma * sum_f G_f / V    (interior fluxes cancel).
 * The correction is far below the error tolerance, so accuracy is unchanged.
 */
static OxIntegrator nls_owner(SUNNonlinearSolver S) { return (OxIntegrator)S->content; }

static SUNNonlinearSolver_Type nls_gettype(SUNNonlinearSolver S) { return SUNNonlinSolGetType(nls_owner(S)->newton); }
static int nls_initialize(SUNNonlinearSolver S) { return SUNNonlinSolInitialize(nls_owner(S)->newton); }
static int nls_setup(SUNNonlinearSolver S, N_Vector y, void *mem) { return SUNNonlinSolSetup(nls_owner(S)->newton, y, mem); }
static int nls_setlsetupfn(SUNNonlinearSolver S, SUNNonlinSolLSetupFn f) { return SUNNonlinSolSetLSetupFn(nls_owner(S)->newton, f); }
static int nls_setlsolvefn(SUNNonlinearSolver S, SUNNonlinSolLSolveFn f) { return SUNNonlinSolSetLSolveFn(nls_owner(S)->newton, f); }
static int nls_setctestfn(SUNNonlinearSolver S, SUNNonlinSolConvTestFn f, void *d) { return SUNNonlinSolSetConvTestFn(nls_owner(S)->newton, f, d); }
static int nls_setmaxiters(SUNNonlinearSolver S, int n) { return SUNNonlinSolSetMaxIters(nls_owner(S)->newton, n); }
static int nls_getnumiters(SUNNonlinearSolver S, long *n) { return SUNNonlinSolGetNumIters(nls_owner(S)->newton, n); }
static int nls_getcuriter(SUNNonlinearSolver S, int *n) { return SUNNonlinSolGetCurIter(nls_owner(S)->newton, n); }
static int nls_getnumconvfails(SUNNonlinearSolver S, long *n) { return SUNNonlinSolGetNumConvFails(nls_owner(S)->newton, n); }
static int nls_free(SUNNonlinearSolver S)
{
  S->content = NULL;
  SUNNonlinSolFreeEmpty(S);
  return 0;
}
static int nls_setsysfn(SUNNonlinearSolver S, SUNNonlinSolSysFn f)
{
  nls_owner(S)->sysfn = f;
  return SUNNonlinSolSetSysFn(nls_owner(S)->newton, f);
}

static int nls_solve(SUNNonlinearSolver S, N_Vector y0, N_Vector ycor, N_Vector w, sunrealtype tol, sunbooleantype lsetup, void *mem)
{
  OxIntegrator it = nls_owner(S);
  OxParams     prm;
  sunrealtype  tcur, gamma, rl1;
  N_Vector     ypred, yn, fn, zn1;
  void        *udata;
  PetscReal    wG, alpha, cond = 0.0, inv_v = 1.0 / (it->op->h_m * it->op->h_m * it->op->h_m);
  Vec          gc, gu, yc, yu;
  int          flag = SUNNonlinSolSolve(it->newton, y0, ycor, w, tol, lsetup, mem);
  /* scratch for G: the Newton update vector, free once the solve is done
   * (its next use starts by overwriting it), so no vector of our own */
  N_Vector     res = ((SUNNonlinearSolverContent_Newton)it->newton->content)->delta;

  if (flag != SUN_NLS_SUCCESS) return flag;
  if (it->sysfn(ycor, res, mem)) return -1;
  if (parts(it, res, 0, &gc, &gu) || OxOperatorInventory(it->op, gc, gu, &wG) || parts_end(it, 0)) return -1;
  if (CVodeGetNonlinearSystemData(it->cvode, &tcur, &ypred, &yn, &fn, &gamma, &rl1, &zn1, &udata) < 0) return -1;
  if (params_at(it, tcur, &prm)) return -1;
  if (OxOperatorExchangeConductance(it->op, &prm, &cond)) return -1;
  alpha = -wG / ((PetscReal)it->op->nsolid + gamma * cond * inv_v);
  if (parts(it, ycor, 0, &yc, &yu)) return -1;
  if (VecShift(yc, alpha)) return -1; /* every voxel unknown is solid */
  if (yu && VecShift(yu, alpha)) return -1;
  if (parts_end(it, 0)) return -1;
  return SUN_NLS_SUCCESS;
}

static SUNNonlinearSolver conserving_newton(OxIntegrator it)
{
  SUNNonlinearSolver S = SUNNonlinSolNewEmpty(it->sunctx);
  if (!S) return NULL;
  S->content              = it;
  S->ops->gettype         = nls_gettype;
  S->ops->initialize      = nls_initialize;
  S->ops->setup           = nls_setup;
  S->ops->solve           = nls_solve;
  S->ops->free            = nls_free;
  S->ops->setsysfn        = nls_setsysfn;
  S->ops->setlsetupfn     = nls_setlsetupfn;
  S->ops->setlsolvefn     = nls_setlsolvefn;
  S->ops->setctestfn      = nls_setctestfn;
  S->ops->setmaxiters     = nls_setmaxiters;
  S->ops->getnumiters     = nls_getnumiters;
  S->ops->getcuriter      = nls_getcuriter;
  S->ops->getnumconvfails = nls_getnumconvfails;
  return S;
}

/* SPGMR's basis size and restarts, and the highest BDF order (see OxIntegratorCreate). */
#define OX_KRYLOV_DIM 2
#define OX_KRYLOV_RESTARTS 4
#define OX_BDF_MAX_ORDER 5

/* Check a SUNDIALS return flag right after the call, naming the call. */
#define OX_SUN(call) \
  do { \
    int flag_ = (call); \
    PetscCheck(flag_ >= 0, comm, PETSC_ERR_LIB, "SUNDIALS call %s failed with flag %d", #call, flag_); \
  } while (0)

/*
 * How stiff the diffusion part of I - gamma J can get: the largest
 * D(t) * duration / h^2 over the protocol's segments (a BDF step never spans
 * more than its segment). Far below 1 the matrix is diagonally dominant and
 * an incomplete factorisation is nearly exact; AMG pays only when diffusion
 * couples many voxels within one step.
 */
static double max_stiffness(const OxIntegrator it)
{
  double kmax = 0.0, h2 = it->op->h_m * it->op->h_m;
  for (int g = 0; g < it->prot->nseg; g++) {
    const OxSegment *s = &it->prot->seg[g];
    OxParams         a, b;
    OxProtocolParams(it->prot, g, s->t0_s, &a);
    OxProtocolParams(it->prot, g, s->t1_s, &b);
    kmax = PetscMax(kmax, PetscMax(a.D_m2_s, b.D_m2_s) * (s->t1_s - s->t0_s) / h2);
  }
  return kmax;
}

/* Below this stiffness block Jacobi is the default PC (its blocks IC(0):
 * PETSc picks incomplete Cholesky for a matrix marked symmetric, as P is),
 * above it hypre BoomerAMG (bench/RESULTS.md: ILU is 3x faster than AMG on
 * the 48^3 cube at 230 and on inputs/demo.cfg at 2e-3). */
#define OX_STIFFNESS_AMG 1e4

static PetscErrorCode create_preconditioner(OxIntegrator it)
{
  PC        pc;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(KSPCreate(it->comm, &it->ksp));
  PetscCall(KSPSetType(it->ksp, KSPPREONLY));
  PetscCall(KSPGetPC(it->ksp, &pc));
  /* Default from the problem (the same on a restart, so restarts stay
   * bitwise); any PC can be chosen with -pc_type. (PETSc's GAMG stalled
   * on the decoupled identity rows of electrolyte when P still had them;
   * it was not measured again on the solid-only P.) */
  PetscCall(PetscOptionsHasName(NULL, NULL, "-pc_type", &set));
  it->stiffness = max_stiffness(it);
  if (!set) PetscCall(PCSetType(pc, it->stiffness <= OX_STIFFNESS_AMG ? PCBJACOBI : PCHYPRE));
  PetscCall(KSPSetFromOptions(it->ksp));
  PetscFunctionReturn(0);
}

PetscErrorCode OxIntegratorCreate(const OxConfig *cfg, OxOperator *op, const OxProtocol *prot, Vec c, Vec u, double t0_s, double released_mol,
                                  OxIntegrator *out)
{
  OxIntegrator it;
  MPI_Comm     comm = PetscObjectComm((PetscObject)op->da);

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&it));
  it->comm = comm;
  it->op   = op;
  it->prot = prot;
  it->t_s  = t0_s;
  it->seg  = -1;
  OX_SUN(SUNContext_Create((void *)&it->comm, &it->sunctx));
  it->layer = u != NULL;
  it->c     = c;
  it->u     = u;
  if (it->layer) {
    PetscInt nu;
    Vec      Y;
    PetscCall(VecGetLocalSize(c, &it->nc));
    PetscCall(VecGetLocalSize(u, &nu));
    {
      /* The model keeps c and u in one array (OxModelCreate): y is then a
       * view of it, one state vector less and no copies around each advance. */
      const PetscScalar *ca, *ua;
      PetscCall(VecGetArrayRead(c, &ca));
      PetscCall(VecGetArrayRead(u, &ua));
      it->shared = ua == ca + it->nc;
      if (it->shared) PetscCall(VecCreateMPIWithArray(comm, 1, it->nc + nu, PETSC_DETERMINE, (PetscScalar *)ca, &Y));
      PetscCall(VecRestoreArrayRead(u, &ua));
      PetscCall(VecRestoreArrayRead(c, &ca));
    }
    if (!it->shared) PetscCall(VecCreateMPI(comm, it->nc + nu, PETSC_DETERMINE, &Y));
    for (int k = 0; k < 2; k++) {
      PetscCall(VecCreateMPIWithArray(comm, 1, it->nc, PETSC_DETERMINE, NULL, &it->vc[k]));
      PetscCall(VecCreateMPIWithArray(comm, 1, nu, PETSC_DETERMINE, NULL, &it->vu[k]));
    }
    it->y = N_VMake_Petsc(Y, it->sunctx); /* destroyed with the integrator (N_VMake does not own it) */
    PetscCheck(it->y, comm, PETSC_ERR_MEM, "could not create SUNDIALS vectors");
    PetscCall(sync_state(it, PETSC_TRUE));
  } else it->y = N_VMake_Petsc(c, it->sunctx);
  it->yq = N_VNew_Serial(1, it->sunctx);
  PetscCheck(it->y && it->yq, comm, PETSC_ERR_MEM, "could not create SUNDIALS vectors");
  NV_Ith_S(it->yq, 0) = released_mol;
  it->cvode = CVodeCreate(CV_BDF, it->sunctx);
  PetscCheck(it->cvode, comm, PETSC_ERR_MEM, "CVodeCreate failed");
  {
    /* Highest BDF order (each order keeps one history vector, 8 B per
     * unknown); set before CVodeInit, which allocates the history. */
    PetscInt maxord = OX_BDF_MAX_ORDER;
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-ox_bdf_max_order", &maxord, NULL));
    PetscCheck(maxord >= 1 && maxord <= 5, comm, PETSC_ERR_ARG_OUTOFRANGE, "-ox_bdf_max_order %" PetscInt_FMT ": expected 1 to 5", maxord);
    OX_SUN(CVodeSetMaxOrd(it->cvode, (int)maxord));
  }
  OX_SUN(CVodeInit(it->cvode, rhs, t0_s, it->y));
  OX_SUN(CVodeSStolerances(it->cvode, cfg->rtol, cfg->atol));
  OX_SUN(CVodeSetUserData(it->cvode, it));
  OX_SUN(CVodeSetMaxNumSteps(it->cvode, 1000000));
  {
    /* A short Krylov basis with restarts: the preconditioned systems
     * converge in one or two iterations on the demo, the 48^3 cube and the
     * csernica2021 geometry, and each basis vector costs 8 B per unknown.
     * -ox_krylov_dim and -ox_krylov_restarts change them. */
    PetscInt maxl = OX_KRYLOV_DIM, restarts = OX_KRYLOV_RESTARTS;
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-ox_krylov_dim", &maxl, NULL));
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-ox_krylov_restarts", &restarts, NULL));
    it->ls = SUNLinSol_SPGMR(it->y, SUN_PREC_LEFT, (int)maxl, it->sunctx);
    PetscCheck(it->ls, comm, PETSC_ERR_MEM, "SUNLinSol_SPGMR failed");
    OX_SUN(SUNLinSol_SPGMRSetMaxRestarts(it->ls, (int)restarts));
  }
  it->newton = SUNNonlinSol_Newton(it->y, it->sunctx);
  it->nls    = conserving_newton(it);
  PetscCheck(it->newton && it->nls, comm, PETSC_ERR_MEM, "could not create the nonlinear solver");
  OX_SUN(CVodeSetNonlinearSolver(it->cvode, it->nls));
  OX_SUN(CVodeSetLinearSolver(it->cvode, it->ls, NULL));
  OX_SUN(CVodeSetPreconditioner(it->cvode, psetup, psolve));
  OX_SUN(CVodeSetJacTimes(it->cvode, NULL, jtimes));
  OX_SUN(CVodeQuadInit(it->cvode, rhs_released, it->yq));
  /* The quadrature must take part in every Nordsieck-history operation of
   * the state (CVODES skips some, e.g. on an order increase, when the
   * quadrature is left out of error control), else I - Q drifts. Tolerances
   * so loose that it never limits the step keep the state in charge. */
  OX_SUN(CVodeSetQuadErrCon(it->cvode, SUNTRUE));
  OX_SUN(CVodeQuadSStolerances(it->cvode, 1.0e6, 1.0e6 * (released_mol > 0 ? released_mol : 1.0)));
  PetscCall(create_preconditioner(it));
  *out = it;
  PetscFunctionReturn(0);
}

PetscErrorCode OxIntegratorDestroy(OxIntegrator *pit)
{
  OxIntegrator it = *pit;

  PetscFunctionBeginUser;
  if (!it) PetscFunctionReturn(0);
  CVodeFree(&it->cvode);
  SUNLinSolFree(it->ls);
  SUNNonlinSolFree(it->nls);
  SUNNonlinSolFree(it->newton);
  if (it->layer) {
    Vec Y = N_VGetVector_Petsc(it->y);
    PetscCall(VecDestroy(&Y));
    for (int k = 0; k < 2; k++) {
      PetscCall(VecDestroy(&it->vc[k]));
      PetscCall(VecDestroy(&it->vu[k]));
    }
  }
  N_VDestroy(it->y);
  N_VDestroy(it->yq);
  SUNContext_Free(&it->sunctx);
  PetscCall(KSPDestroy(&it->ksp));
  PetscCall(PetscFree(*pit));
  PetscFunctionReturn(0);
}

static void add_stats(OxIntegrator it)
{
  long v;
  if (CVodeGetNumSteps(it->cvode, &v) >= 0) it->st.nsteps += v;
  if (CVodeGetNumRhsEvals(it->cvode, &v) >= 0) it->st.nrhs += v;
  if (CVodeGetNumLinIters(it->cvode, &v) >= 0) it->st.nlinit += v;
  if (CVodeGetNumPrecEvals(it->cvode, &v) >= 0) it->st.npsetup += v;
  if (CVodeGetNumPrecSolves(it->cvode, &v) >= 0) it->st.npsolve += v;
  if (CVodeGetNumErrTestFails(it->cvode, &v) >= 0) it->st.nerrfail += v;
  if (CVodeGetNumNonlinSolvConvFails(it->cvode, &v) >= 0) it->st.nnlfail += v;
}

static PetscErrorCode advance_to(OxIntegrator it, double t1, double tstop, PetscBool *ok, char *msg, size_t msglen);

PetscErrorCode OxIntegratorAdvanceSegment(OxIntegrator it, int g, PetscBool *ok, char *msg, size_t msglen)
{
  const OxSegment *s = &it->prot->seg[g];
  MPI_Comm         comm = it->comm;

  PetscFunctionBeginUser;
  *ok = PETSC_TRUE;
  it->seg = g;
  if (!(s->t1_s > s->t0_s)) PetscFunctionReturn(0); /* instantaneous step: nothing to integrate */
  /* The BDF history restarts at every segment start, so that a run
   * restarted from a checkpoint at any segment end (periodic, or written on
   * a signal) takes exactly the steps the uninterrupted run takes. It costs
   * little: the forcing jumps or kinks at most segment ends anyway (against
   * restarting at jumps only: 6 % fewer steps on inputs/demo.cfg, 6 % more
   * on 50 cycles of bench C's secondary). */
  if (it->started) add_stats(it);
  PetscCall(sync_state(it, PETSC_TRUE));
  OX_SUN(CVodeReInit(it->cvode, s->t0_s, it->y));
  OX_SUN(CVodeQuadReInit(it->cvode, it->yq));
  it->started = 1;
  PetscCall(advance_to(it, s->t1_s, s->t1_s, ok, msg, msglen));
  PetscFunctionReturn(0);
}

/* Integrate from the current time to t1 (interpolated where a step passes
 * it); steps never cross tstop >= t1. */
static PetscErrorCode advance_to(OxIntegrator it, double t1, double tstop, PetscBool *ok, char *msg, size_t msglen)
{
  MPI_Comm    comm = it->comm;
  sunrealtype tret = it->t_s;

  PetscFunctionBeginUser;
  *ok = PETSC_TRUE;
  OX_SUN(CVodeSetStopTime(it->cvode, tstop));
  while (tret < t1) {
    int flag = CVode(it->cvode, t1, it->y, &tret, CV_NORMAL);
    if (flag < 0) {
      char *name = CVodeGetReturnFlagName(flag);
      PetscCall(PetscSNPrintf(msg, msglen, "CVODE failed (%s) at t = %.6g s", name ? name : "?", (double)tret));
      free(name);
      *ok = PETSC_FALSE;
      PetscFunctionReturn(0);
    }
  }
  OX_SUN(CVodeGetQuad(it->cvode, &tret, it->yq));
  PetscCall(sync_state(it, PETSC_FALSE));
  it->t_s = t1;
  PetscFunctionReturn(0);
}

PetscErrorCode OxIntegratorAdvanceAveraged(OxIntegrator it, const OxParams *avg, double t1_s, double tstop_s, PetscBool *ok, char *msg, size_t msglen)
{
  MPI_Comm comm = it->comm;

  PetscFunctionBeginUser;
  *ok = PETSC_TRUE;
  if (it->seg >= 0 || !it->started) { /* entering averaged mode: the forcing changes */
    if (it->started) add_stats(it);
    it->seg = -1;
    it->avg = *avg;
    PetscCall(sync_state(it, PETSC_TRUE));
    OX_SUN(CVodeReInit(it->cvode, it->t_s, it->y));
    OX_SUN(CVodeQuadReInit(it->cvode, it->yq));
    it->started = 1;
  }
  PetscCall(advance_to(it, t1_s, tstop_s, ok, msg, msglen));
  PetscFunctionReturn(0);
}

double OxIntegratorReleasedMol(OxIntegrator it) { return NV_Ith_S(it->yq, 0); }

void OxIntegratorSetHook(OxIntegrator it, OxIntegratorHook hook, void *ctx)
{
  it->hook     = hook;
  it->hook_ctx = ctx;
}

PetscErrorCode OxIntegratorGetPC(OxIntegrator it, const char **type, double *stiffness)
{
  PC pc;

  PetscFunctionBeginUser;
  PetscCall(KSPGetPC(it->ksp, &pc));
  PetscCall(PCGetType(pc, type));
  *stiffness = it->stiffness;
  PetscFunctionReturn(0);
}

PetscErrorCode OxIntegratorGetStats(OxIntegrator it, OxIntegratorStats *st)
{
  PetscFunctionBeginUser;
  *st = it->st;
  if (it->started) {
    OxIntegratorStats saved = it->st;
    add_stats(it);
    *st    = it->st;
    it->st = saved;
  }
  PetscFunctionReturn(0);
}
