/* The stress of a run (stress.h). */
#include "oxvac/stress.h"
#include <math.h>
#include <petscviewerhdf5.h>

#define OX_BOLTZMANN_J_K 1.380649e-23
#define OX_A3_TO_M3 1e-30

struct OxStress_ {
  const OxConfig *cfg;
  OxMechanics     mech;
  PetscBool       couples, lattice;
  double          VD_kT, Veq_kT; /* activation volume / kT, 1/Pa */
  Vec             sA, sC;        /* sigma_h of a = 1 and of c = 1 (lattice parts; NULL without lattice strain) */
  Vec             xA, xC;        /* their displacements: with xV, the first guess of a stored field's solve */
  Vec             sV;            /* sigma_h of the vacancy field cref */
  Vec             cref;          /* the voxel means the vacancy part was solved for */
  Vec             fD, feq, work; /* factors given to the operator; scratch */
  Vec             xV;            /* displacement of the vacancy part: each solve starts from the last */
  PetscReal       rtol;          /* of the coupling solves (-ox_mech_coupling_rtol) */
  double          soc_cached;    /* soc of the factors in the operator (NaN: none) */
};

PetscBool OxStressCouples(const OxStress s) { return s && s->couples; }

void OxStressCheckpointVecs(const OxStress s, Vec *ref, Vec *disp)
{
  *ref  = s && s->couples ? s->cref : NULL;
  *disp = s && s->couples ? s->xV : NULL;
}

static int any_nonzero(const OxTable *t)
{
  for (int i = 0; i < t->n; i++)
    if (t->value[i] != 0.0) return 1;
  return 0;
}

/* sigma_h of one eigenstrain into the voxel vector out, from the displacement x (NULL: zero, full tolerance). */
static PetscErrorCode solve_h(OxStress s, Vec c, double beta, double a, double cl, Vec x, Vec out)
{
  PetscScalar *o;
  PetscFunctionBeginUser;
  PetscCall(VecGetArray(out, &o));
  if (x) PetscCall(OxMechanicsSolveFrom(s->mech, c, beta, a, cl, x, s->rtol, (PetscReal *)o, NULL));
  else PetscCall(OxMechanicsSolve(s->mech, c, beta, a, cl, (PetscReal *)o, NULL));
  PetscCall(VecRestoreArray(out, &o));
  PetscFunctionReturn(0);
}

PetscErrorCode OxStressCreate(const OxConfig *cfg, OxModel *m, OxStress *out)
{
  OxStress s;
  double   kT = OX_BOLTZMANN_J_K * cfg->mech_temperature_K;

  PetscFunctionBeginUser;
  *out = NULL;
  if (!cfg->mech_enabled) PetscFunctionReturn(0);
  PetscCall(PetscNew(&s));
  s->cfg        = cfg;
  s->soc_cached = NAN;
  s->couples    = cfg->mech_eq_volume_A3 != 0.0 || cfg->mech_diffusion_volume_A3 != 0.0;
  s->lattice    = any_nonzero(&cfg->mech_lattice_a) || any_nonzero(&cfg->mech_lattice_c);
  s->VD_kT      = cfg->mech_diffusion_volume_A3 * OX_A3_TO_M3 / kT;
  s->Veq_kT     = cfg->mech_eq_volume_A3 * OX_A3_TO_M3 / kT;
  PetscCall(OxMechanicsCreate(cfg, &m->op, &m->ms, &s->mech));
  if (s->couples) {
    PetscCall(OxOperatorCreateVoxelVec(&m->op, &s->sV));
    PetscCall(VecDuplicate(s->sV, &s->cref));
    PetscCall(VecZeroEntries(s->cref));
    PetscCall(VecDuplicate(s->sV, &s->fD));
    PetscCall(VecDuplicate(s->sV, &s->feq));
    PetscCall(VecDuplicate(s->sV, &s->work));
    PetscCall(OxMechanicsCreateDisplacement(s->mech, &s->xV));
    /* sigma_h to 1e-6 of its scale is far below what moves exp(V sigma_h / kT) */
    s->rtol = 1e-6;
    PetscCall(PetscOptionsGetReal(NULL, NULL, "-ox_mech_coupling_rtol", &s->rtol, NULL));
    if (s->lattice) { /* linear in the eigenstrain: the lattice parts once, for a = 1 and c = 1 */
      PetscCall(VecDuplicate(s->sV, &s->sA));
      PetscCall(VecDuplicate(s->sV, &s->sC));
      PetscCall(OxMechanicsCreateDisplacement(s->mech, &s->xA));
      PetscCall(OxMechanicsCreateDisplacement(s->mech, &s->xC));
      PetscCall(solve_h(s, NULL, 0.0, 1.0, 0.0, s->xA, s->sA)); /* to the coupling's tolerance: they only feed the factors */
      PetscCall(solve_h(s, NULL, 0.0, 0.0, 1.0, s->xC, s->sC));
    }
  }
  *out = s;
  PetscFunctionReturn(0);
}

PetscErrorCode OxStressDestroy(OxStress *ps)
{
  OxStress s = *ps;
  PetscFunctionBeginUser;
  if (!s) PetscFunctionReturn(0);
  PetscCall(OxMechanicsDestroy(&s->mech));
  PetscCall(VecDestroy(&s->sA));
  PetscCall(VecDestroy(&s->sC));
  PetscCall(VecDestroy(&s->xA));
  PetscCall(VecDestroy(&s->xC));
  PetscCall(VecDestroy(&s->sV));
  PetscCall(VecDestroy(&s->cref));
  PetscCall(VecDestroy(&s->fD));
  PetscCall(VecDestroy(&s->feq));
  PetscCall(VecDestroy(&s->work));
  PetscCall(VecDestroy(&s->xV));
  PetscCall(PetscFree(*ps));
  PetscFunctionReturn(0);
}

PetscErrorCode OxStressStoreField(OxStress s, OxHistory *h, OxModel *m)
{
  int          f   = h->nfields - 1;
  double       soc = h->field_soc[f];
  double       la, lc;
  Vec          sh, vm;
  PetscScalar *a, *b;

  PetscFunctionBeginUser;
  if (!s) PetscFunctionReturn(0);
  la = OxTableEvalLinear(&s->cfg->mech_lattice_a, soc);
  lc = OxTableEvalLinear(&s->cfg->mech_lattice_c, soc);
  if (!h->c_axis) {
    PetscCall(PetscMalloc1(3 * (m->ms.nparticles ? m->ms.nparticles : 1), &h->c_axis));
    for (PetscInt p = 1; p <= m->ms.nparticles; p++) OxMechanicsAxis(s->mech, p, h->c_axis + 3 * (p - 1));
  }
  PetscCall(VecDuplicate(h->field[f], &sh));
  PetscCall(VecDuplicate(h->field[f], &vm));
  PetscCall(VecGetArray(sh, &a));
  PetscCall(VecGetArray(vm, &b));
  if (s->couples) {
    /* the coupling's displacements, superposed, start the full-tolerance
     * solve: at a cycle end xV is of this very field (its forced update;
     * zero without vacancy expansion) */
    Vec x;
    PetscCall(VecDuplicate(s->xV, &x));
    PetscCall(VecCopy(s->xV, x));
    if (s->lattice) PetscCall(VecAXPBYPCZ(x, la, lc, 1.0, s->xA, s->xC));
    PetscCall(OxMechanicsSolveFrom(s->mech, h->field[f], s->cfg->mech_vacancy_expansion, la, lc, x, 0.0, (PetscReal *)a, (PetscReal *)b));
    PetscCall(VecDestroy(&x));
  } else PetscCall(OxMechanicsSolve(s->mech, h->field[f], s->cfg->mech_vacancy_expansion, la, lc, (PetscReal *)a, (PetscReal *)b));
  PetscCall(VecRestoreArray(vm, &b));
  PetscCall(VecRestoreArray(sh, &a));
  PetscCall(OxHistoryStoreStress(h, &m->ms, &m->op, sh, vm));
  PetscCall(VecDestroy(&sh));
  PetscCall(VecDestroy(&vm));
  PetscFunctionReturn(0);
}

/* The vacancy part of the reference field cref, from the displacement xV. */
static PetscErrorCode solve_vacancy(OxStress s)
{
  PetscFunctionBeginUser;
  PetscCall(solve_h(s, s->cref, s->cfg->mech_vacancy_expansion, 0.0, 0.0, s->xV, s->sV));
  s->soc_cached = NAN; /* the factors change */
  PetscFunctionReturn(0);
}

/* Dataset /state/NAME of the checkpoint at path into x (a global vector of its DM). */
static PetscErrorCode load_state(const char *path, const char *name, Vec x)
{
  PetscViewer v;
  PetscFunctionBeginUser;
  PetscCall(PetscViewerHDF5Open(PetscObjectComm((PetscObject)x), path, FILE_MODE_READ, &v));
  PetscCall(PetscViewerHDF5PushGroup(v, "/state"));
  PetscCall(PetscObjectSetName((PetscObject)x, name));
  PetscCall(VecLoad(x, v));
  PetscCall(PetscViewerHDF5PopGroup(v));
  PetscCall(PetscViewerDestroy(&v));
  PetscFunctionReturn(0);
}

PetscErrorCode OxStressRead(OxStress s, OxModel *m, const char *path)
{
  Vec box;
  PetscFunctionBeginUser;
  if (!s || !s->couples) PetscFunctionReturn(0);
  if (s->cfg->mech_vacancy_expansion == 0.0) PetscFunctionReturn(0); /* no vacancy part */
  PetscCall(DMCreateGlobalVector(m->da, &box));
  PetscCall(load_state(path, "mechanics_reference", box));
  PetscCall(OxOperatorFromBox(&m->op, box, s->cref));
  PetscCall(VecDestroy(&box));
  /* the displacement of the last solve: its stress again, without a
   * solve, and the next solve starts from it as the uninterrupted run's does */
  PetscCall(load_state(path, "mechanics_displacement", s->xV));
  {
    PetscScalar *o;
    PetscCall(VecGetArray(s->sV, &o));
    PetscCall(OxMechanicsStressOf(s->mech, s->cref, s->cfg->mech_vacancy_expansion, 0.0, 0.0, s->xV, (PetscReal *)o, NULL));
    PetscCall(VecRestoreArray(s->sV, &o));
  }
  s->soc_cached = NAN;
  PetscFunctionReturn(0);
}

PetscErrorCode OxStressUpdate(OxStress s, OxModel *m, PetscBool force)
{
  PetscFunctionBeginUser;
  if (!s || !s->couples || s->cfg->mech_vacancy_expansion == 0.0) PetscFunctionReturn(0); /* no vacancy part: sV stays 0 */
  PetscCall(OxOperatorVoxelMean(&m->op, m->c, m->u, s->work));
  if (!force) {
    PetscReal moved;
    PetscCall(VecAXPY(s->work, -1.0, s->cref));
    PetscCall(VecNorm(s->work, NORM_INFINITY, &moved));
    if (moved <= s->cfg->mech_update_tolerance) PetscFunctionReturn(0);
    PetscCall(OxOperatorVoxelMean(&m->op, m->c, m->u, s->work));
  }
  PetscCall(VecCopy(s->work, s->cref));
  PetscCall(solve_vacancy(s));
  PetscFunctionReturn(0);
}

PetscErrorCode OxStressAtSoc(void *ctx, OxOperator *op, double soc)
{
  OxStress           s = (OxStress)ctx;
  const PetscScalar *v, *pa = NULL, *pc = NULL;
  PetscScalar       *d, *q;
  double             a = 0.0, c = 0.0;
  PetscInt           n;

  PetscFunctionBeginUser;
  if (!s || !s->couples) PetscFunctionReturn(0);
  /* without lattice strain the stress does not depend on soc */
  if (!isnan(s->soc_cached) && (!s->lattice || soc == s->soc_cached)) PetscFunctionReturn(0);
  if (s->lattice) {
    a = OxTableEvalLinear(&s->cfg->mech_lattice_a, soc);
    c = OxTableEvalLinear(&s->cfg->mech_lattice_c, soc);
    PetscCall(VecGetArrayRead(s->sA, &pa));
    PetscCall(VecGetArrayRead(s->sC, &pc));
  }
  PetscCall(VecGetLocalSize(s->sV, &n));
  PetscCall(VecGetArrayRead(s->sV, &v));
  PetscCall(VecGetArray(s->fD, &d));
  PetscCall(VecGetArray(s->feq, &q));
  for (PetscInt m = 0; m < n; m++) {
    double sig = PetscRealPart(v[m]) + (pa ? a * PetscRealPart(pa[m]) + c * PetscRealPart(pc[m]) : 0.0);
    d[m]       = exp(0.5 * s->VD_kT * sig); /* its square root: a face takes the product of its two voxels' */
    q[m]       = exp(s->Veq_kT * sig);
  }
  PetscCall(VecRestoreArray(s->feq, &q));
  PetscCall(VecRestoreArray(s->fD, &d));
  PetscCall(VecRestoreArrayRead(s->sV, &v));
  if (pa) {
    PetscCall(VecRestoreArrayRead(s->sA, &pa));
    PetscCall(VecRestoreArrayRead(s->sC, &pc));
  }
  PetscCall(OxOperatorSetStressFactors(op, s->fD, s->feq));
  s->soc_cached = soc;
  PetscFunctionReturn(0);
}
