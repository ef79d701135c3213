/**
 * @file mechanics.c
 * @brief Linear elasticity on the voxel grid (mechanics.h, docs/mechanics.md).
 *
 * Trilinear hexahedra, one per voxel, nodes on the voxel corners, 2x2x2
 * Gauss quadrature of the stiffness. Every element has the same stiffness
 * matrix up to its weight (1 solid, OX_VOID_STIFFNESS electrolyte), so the
 * fine operator is applied element by element from one 24x24 matrix and a
 * weight per voxel: no fine matrix is stored. The eigenstrain is constant
 * per voxel; its load is B^T C eps* at the element centre (exact for a
 * constant field), and the stress reported per voxel is its element
 * average, C (B u - eps*) at the centre (B is bilinear).
 *
 * Multigrid: nested node grids (coarse node Ic at fine node min(2I, n)),
 * trilinear interpolation, Galerkin coarse operators: the first coarse
 * level is assembled element by element from the fine weights (each child's
 * P^T K P), the coarser ones as matrix products P^T A P. Chebyshev/Jacobi
 * smoothing, LU on the coarsest level, CG outside.
 *
 * Units: the system is solved for u / h with a unit Young's modulus
 * (K u~ = B^T C~ eps*), so every number is O(1); stress = E C~ (B u~ - eps*).
 */
#include "oxvac/mechanics.h"
#include "splitmix.h"
#include <math.h>
#include <petscdmda.h>
#include <petscksp.h>

/* Stiffness of electrolyte voxels relative to the solid's: the system stays
 * definite (no rigid-body or loose-grain modes), and a free surface is free
 * to this order (-ox_mech_void_stiffness changes it). */
#define OX_VOID_STIFFNESS 1e-12
#define OX_MG_MAX_LEVELS 12

static PetscLogEvent OX_EVENT_MECH_SOLVE = -1, OX_EVENT_MECH_APPLY = -1;

/* A node no solid voxel touches is held at 0 (its displacement moves no
 * solid: the ersatz electrolyte couples it by 1e-12 only); a node inside the
 * solid applies the stencil; any other node its voxels' element rows. */
enum { NODE_VOID = 0, NODE_SOLID = 1, NODE_MIXED = 2 };

typedef struct {
  DM       da;            /* node grid of this level, 3 dof */
  PetscInt nel[3];        /* elements per dimension */
  Mat      A;             /* level operator (fine: shell) */
  Mat      Pfree, Pfull;  /* interpolation from the next coarser level: without / with the constrained dofs */
} Level;

struct OxMechanics_ {
  MPI_Comm         comm;
  double           E_Pa, nu;
  double           K[24][24]; /* unit-E element stiffness on the unit cube */
  double           B[6][24];  /* strain of the nodal displacements at the centre, per unit h */
  double           C[6][6];   /* unit-E elasticity, Voigt (xx yy zz yz xz xy), engineering shear */
  PetscInt         xs, ys, zs, xm, ym, zm; /* owned voxels */
  PetscReal       *w;         /* per owned voxel (box order): element weight */
  PetscInt        *slot;      /* per owned voxel: its voxel-vector index, -1 on electrolyte */
  char            *surface;   /* per owned voxel: solid with a face on the electrolyte */
  const int       *label;     /* per owned voxel: primary id (the microstructure's) */
  double         (*axis)[3];  /* [nparticles + 1]: c axes */
  PetscInt         nparticles;
  Level            lev[OX_MG_MAX_LEVELS];
  PetscInt         nlev;
  Vec              x, f, xloc;
  double           S[27][3][3];   /* node stencil of a node inside one material: sum of its 8 elements' rows */
  unsigned char   *solid_g;       /* per ghosted voxel (width 1): 1 solid, 0 electrolyte or beyond the domain */
  unsigned char   *kind;          /* per owned node: NODE_VOID, NODE_SOLID (the stencil) or NODE_MIXED */
  PetscInt         vgs[3], vgm[3];/* its ghosted box */
  PetscReal        wvoid;
  Vec              cloc1;         /* ghosted local vector of the first coarse level (shell interpolation) */
  KSP              ksp;
};

/* ------------------------------------------------------------------------ */
/* The element                                                              */
/* ------------------------------------------------------------------------ */

/* Gradient of the trilinear shape function of node a = ix + 2 iy + 4 iz at (x, y, z) in [0,1]^3. */
static void shape_grad(int a, double x, double y, double z, double g[3])
{
  int    ix = a & 1, iy = (a >> 1) & 1, iz = (a >> 2) & 1;
  double nx = ix ? x : 1 - x, ny = iy ? y : 1 - y, nz = iz ? z : 1 - z;
  double dx = ix ? 1 : -1, dy = iy ? 1 : -1, dz = iz ? 1 : -1;
  g[0] = dx * ny * nz;
  g[1] = nx * dy * nz;
  g[2] = nx * ny * dz;
}

/* B (6 x 24) at (x, y, z): strain (Voigt, engineering shear) of the nodal displacements. */
static void strain_matrix(double x, double y, double z, double B[6][24])
{
  for (int r = 0; r < 6; r++)
    for (int q = 0; q < 24; q++) B[r][q] = 0.0;
  for (int a = 0; a < 8; a++) {
    double g[3];
    shape_grad(a, x, y, z, g);
    B[0][3 * a + 0] = g[0];
    B[1][3 * a + 1] = g[1];
    B[2][3 * a + 2] = g[2];
    B[3][3 * a + 1] = g[2], B[3][3 * a + 2] = g[1];
    B[4][3 * a + 0] = g[2], B[4][3 * a + 2] = g[0];
    B[5][3 * a + 0] = g[1], B[5][3 * a + 1] = g[0];
  }
}

static void element_setup(OxMechanics mc)
{
  const double nu = mc->nu, lam = nu / ((1 + nu) * (1 - 2 * nu)), mu = 0.5 / (1 + nu);
  const double gp[2] = {0.5 - 0.5 / sqrt(3.0), 0.5 + 0.5 / sqrt(3.0)};
  for (int r = 0; r < 6; r++)
    for (int s = 0; s < 6; s++) mc->C[r][s] = (r < 3 && s < 3 ? lam : 0.0) + (r == s ? (r < 3 ? 2 * mu : mu) : 0.0);
  for (int p = 0; p < 24; p++)
    for (int q = 0; q < 24; q++) mc->K[p][q] = 0.0;
  for (int g = 0; g < 8; g++) {
    double B[6][24], CB[6][24];
    strain_matrix(gp[g & 1], gp[(g >> 1) & 1], gp[(g >> 2) & 1], B);
    for (int r = 0; r < 6; r++)
      for (int q = 0; q < 24; q++) {
        CB[r][q] = 0.0;
        for (int s = 0; s < 6; s++) CB[r][q] += mc->C[r][s] * B[s][q];
      }
    for (int p = 0; p < 24; p++)
      for (int q = 0; q < 24; q++)
        for (int r = 0; r < 6; r++) mc->K[p][q] += 0.125 * B[r][p] * CB[r][q];
  }
  strain_matrix(0.5, 0.5, 0.5, mc->B);
}

/* Eigenstrain (Voigt, engineering shear) of a voxel: beta c Ic + a Ic + (cl - a) n n^T. */
static void eigenstrain(double vol, double a, double cl, const double n[3], double e[6])
{
  double d = cl - a;
  e[0] = vol + a + d * n[0] * n[0];
  e[1] = vol + a + d * n[1] * n[1];
  e[2] = vol + a + d * n[2] * n[2];
  e[3] = 2 * d * n[1] * n[2];
  e[4] = 2 * d * n[0] * n[2];
  e[5] = 2 * d * n[0] * n[1];
}

/* ------------------------------------------------------------------------ */
/* Node grids                                                               */
/* ------------------------------------------------------------------------ */

/* Ghosted local index of node (i, j, k) of da. */
typedef struct {
  PetscInt gxs, gys, gzs, gxm, gym;
} Ghosted;

static inline PetscInt node_at(const Ghosted *g, PetscInt i, PetscInt j, PetscInt k)
{
  return ((k - g->gzs) * g->gym + (j - g->gys)) * g->gxm + (i - g->gxs);
}

static PetscErrorCode ghosted_of(DM da, Ghosted *g)
{
  PetscFunctionBeginUser;
  PetscCall(DMDAGetGhostCorners(da, &g->gxs, &g->gys, &g->gzs, &g->gxm, &g->gym, NULL));
  PetscFunctionReturn(0);
}

/* The 8 ghosted-local node indices of the element with lower corner (i, j, k). */
static inline void element_nodes(const Ghosted *g, PetscInt i, PetscInt j, PetscInt k, PetscInt nd[8])
{
  for (int a = 0; a < 8; a++) nd[a] = node_at(g, i + (a & 1), j + ((a >> 1) & 1), k + ((a >> 2) & 1));
}

/* Whether component d of node (i, j, k) is held by a symmetry plane. */
static inline int constrained(const PetscInt nel[3], PetscInt i, PetscInt j, PetscInt k, int d)
{
  PetscInt q = d == 0 ? i : d == 1 ? j : k;
  return q == 0 || q == nel[d];
}

static PetscErrorCode create_node_grid(MPI_Comm comm, const PetscInt nel[3], const PetscInt *ln[3], PetscInt np[3], DM *da)
{
  PetscFunctionBeginUser;
  PetscCall(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_BOX, nel[0] + 1, nel[1] + 1, nel[2] + 1, np[0],
                         np[1], np[2], 3, 1, ln[0], ln[1], ln[2], da));
  PetscCall(DMSetUp(*da));
  PetscFunctionReturn(0);
}

/* Coarse node counts per rank along one dimension: coarse node Ic sits on fine node min(2I, nf). */
static PetscBool coarse_ranges(PetscInt nel_f, PetscInt np, const PetscInt *lf, PetscInt *lc)
{
  PetscInt nel_c = (nel_f + 1) / 2, start = 0;
  for (PetscInt r = 0; r < np; r++) {
    PetscInt end = start + lf[r], cnt = 0;
    for (PetscInt Ic = 0; Ic <= nel_c; Ic++) {
      PetscInt fi = PetscMin(2 * Ic, nel_f);
      if (fi >= start && fi < end) cnt++;
    }
    lc[r] = cnt;
    if (cnt < 2) return PETSC_FALSE;
    start = end;
  }
  return PETSC_TRUE;
}

/* 1D interpolation of fine node i from the coarse nodes: up to 2 (index, weight). */
static int interp_1d(PetscInt nel_f, PetscInt i, PetscInt Ic[2], double w[2])
{
  if (i == nel_f) { /* the last node: the last coarse node */
    Ic[0] = (nel_f + 1) / 2;
    w[0] = 1.0;
    return 1;
  }
  if (i % 2 == 0) {
    Ic[0] = i / 2;
    w[0] = 1.0;
    return 1;
  }
  Ic[0] = (i - 1) / 2, Ic[1] = (i + 1) / 2;
  w[0] = w[1] = 0.5;
  return 2;
}

/* Pfree from coarse level lc to fine level lf (without the constrained dofs) and, when full, Pfull (with them, for P^T A P). */
static PetscErrorCode create_interpolation(Level *fine, Level *coarse, PetscBool full)
{
  PetscInt               xs, ys, zs, xm, ym, zm, nloc_f, nloc_c;
  ISLocalToGlobalMapping lf, lcm;
  Ghosted                gf, gc;

  PetscFunctionBeginUser;
  PetscCall(DMDAGetCorners(fine->da, &xs, &ys, &zs, &xm, &ym, &zm));
  nloc_f = 3 * xm * ym * zm;
  {
    PetscInt a, b, c;
    PetscCall(DMDAGetCorners(coarse->da, NULL, NULL, NULL, &a, &b, &c));
    nloc_c = 3 * a * b * c;
  }
  PetscCall(DMGetLocalToGlobalMapping(fine->da, &lf));
  PetscCall(DMGetLocalToGlobalMapping(coarse->da, &lcm));
  PetscCall(ghosted_of(fine->da, &gf));
  PetscCall(ghosted_of(coarse->da, &gc));
  for (int v = full ? 0 : 1; v < 2; v++) {
    Mat *P = v ? &fine->Pfree : &fine->Pfull;
    PetscCall(MatCreateAIJ(PetscObjectComm((PetscObject)fine->da), nloc_f, nloc_c, PETSC_DETERMINE, PETSC_DETERMINE, 8, NULL, 8, NULL, P));
    PetscCall(MatSetLocalToGlobalMapping(*P, lf, lcm));
    for (PetscInt k = zs; k < zs + zm; k++)
      for (PetscInt j = ys; j < ys + ym; j++)
        for (PetscInt i = xs; i < xs + xm; i++) {
          PetscInt Ix[2], Iy[2], Iz[2];
          double   wx[2], wy[2], wz[2];
          int      nx = interp_1d(fine->nel[0], i, Ix, wx), ny = interp_1d(fine->nel[1], j, Iy, wy), nz = interp_1d(fine->nel[2], k, Iz, wz);
          for (int d = 0; d < 3; d++) {
            PetscInt    row = 3 * node_at(&gf, i, j, k) + d, col[8], n = 0;
            PetscScalar val[8];
            if (v && constrained(fine->nel, i, j, k, d)) continue;
            for (int c = 0; c < nz; c++)
              for (int b = 0; b < ny; b++)
                for (int a = 0; a < nx; a++) {
                  if (v && constrained(coarse->nel, Ix[a], Iy[b], Iz[c], d)) continue;
                  col[n]   = 3 * node_at(&gc, Ix[a], Iy[b], Iz[c]) + d;
                  val[n++] = wx[a] * wy[b] * wz[c];
                }
            PetscCall(MatSetValuesLocal(*P, 1, &row, n, col, val, INSERT_VALUES));
          }
        }
    PetscCall(MatAssemblyBegin(*P, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(*P, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

/* The interpolation from the first coarse level to the fine one, matrix-free
 * (an assembled one would hold 8 entries per fine dof): Pfree semantics,
 * constrained dofs of either grid left out. */
static PetscErrorCode interp_apply(OxMechanics mc, Vec xc, Vec yf, PetscBool transpose)
{
  Level       *F = &mc->lev[0], *Cl = &mc->lev[1];
  PetscInt     xs, ys, zs, xm, ym, zm;
  Ghosted      gc;
  PetscScalar *cl, *fa;

  PetscFunctionBeginUser;
  PetscCall(DMDAGetCorners(F->da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(ghosted_of(Cl->da, &gc));
  if (!mc->cloc1) PetscCall(DMCreateLocalVector(Cl->da, &mc->cloc1));
  if (transpose) PetscCall(VecZeroEntries(mc->cloc1));
  else PetscCall(DMGlobalToLocal(Cl->da, xc, INSERT_VALUES, mc->cloc1));
  PetscCall(VecGetArray(mc->cloc1, &cl));
  PetscCall(VecGetArray(yf, &fa)); /* transpose: the fine input */
  for (PetscInt k = zs, q = 0; k < zs + zm; k++)
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++, q++) {
        PetscInt Ix[2], Iy[2], Iz[2];
        double   wx[2], wy[2], wz[2];
        int      nx = interp_1d(F->nel[0], i, Ix, wx), ny = interp_1d(F->nel[1], j, Iy, wy), nz = interp_1d(F->nel[2], k, Iz, wz);
        for (int d = 0; d < 3; d++) {
          double acc = 0.0;
          if (constrained(F->nel, i, j, k, d) || mc->kind[q] == NODE_VOID) { /* held dofs take no correction */
            if (!transpose) fa[3 * q + d] = 0.0;
            continue;
          }
          for (int c = 0; c < nz; c++)
            for (int b = 0; b < ny; b++)
              for (int a = 0; a < nx; a++) {
                PetscInt at;
                if (constrained(Cl->nel, Ix[a], Iy[b], Iz[c], d)) continue;
                at = 3 * node_at(&gc, Ix[a], Iy[b], Iz[c]) + d;
                if (transpose) cl[at] += wx[a] * wy[b] * wz[c] * fa[3 * q + d];
                else acc += wx[a] * wy[b] * wz[c] * cl[at];
              }
          if (!transpose) fa[3 * q + d] = acc;
        }
      }
  PetscCall(VecRestoreArray(yf, &fa));
  PetscCall(VecRestoreArray(mc->cloc1, &cl));
  if (transpose) {
    PetscCall(VecZeroEntries(xc));
    PetscCall(DMLocalToGlobal(Cl->da, mc->cloc1, ADD_VALUES, xc));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode interp_mult(Mat P, Vec xc, Vec yf)
{
  OxMechanics mc;
  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(P, &mc));
  PetscCall(interp_apply(mc, xc, yf, PETSC_FALSE));
  PetscFunctionReturn(0);
}

static PetscErrorCode interp_mult_transpose(Mat P, Vec xf, Vec yc)
{
  OxMechanics mc;
  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(P, &mc));
  PetscCall(interp_apply(mc, yc, xf, PETSC_TRUE)); /* xf is only read */
  PetscFunctionReturn(0);
}

static PetscErrorCode create_interp_shell(OxMechanics mc)
{
  PetscInt nf, nc;
  Vec      a, b;
  PetscFunctionBeginUser;
  PetscCall(DMGetGlobalVector(mc->lev[0].da, &a));
  PetscCall(DMGetGlobalVector(mc->lev[1].da, &b));
  PetscCall(VecGetLocalSize(a, &nf));
  PetscCall(VecGetLocalSize(b, &nc));
  PetscCall(DMRestoreGlobalVector(mc->lev[0].da, &a));
  PetscCall(DMRestoreGlobalVector(mc->lev[1].da, &b));
  PetscCall(MatCreateShell(mc->comm, nf, nc, PETSC_DETERMINE, PETSC_DETERMINE, mc, &mc->lev[0].Pfree));
  PetscCall(MatShellSetOperation(mc->lev[0].Pfree, MATOP_MULT, (void (*)(void))interp_mult));
  PetscCall(MatShellSetOperation(mc->lev[0].Pfree, MATOP_MULT_TRANSPOSE, (void (*)(void))interp_mult_transpose));
  PetscFunctionReturn(0);
}

/* Rows and columns of the constrained dofs of an assembled level: identity. */
static PetscErrorCode constrain_level(Level *L)
{
  PetscInt  xs, ys, zs, xm, ym, zm, n = 0, *rows, rstart;
  PetscFunctionBeginUser;
  PetscCall(DMDAGetCorners(L->da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(MatGetOwnershipRange(L->A, &rstart, NULL));
  PetscCall(PetscMalloc1(3 * xm * ym * zm, &rows));
  for (PetscInt k = zs, q = 0; k < zs + zm; k++)
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++)
        for (int d = 0; d < 3; d++, q++)
          if (constrained(L->nel, i, j, k, d)) rows[n++] = rstart + q;
  PetscCall(MatZeroRowsColumns(L->A, n, rows, 1.0, NULL, NULL));
  PetscCall(PetscFree(rows));
  PetscFunctionReturn(0);
}

/* P_c^T K P_c of a child at position p (0, 1) of a coarse element of extent e (1, 2) per dimension. */
static void child_galerkin(const double K[24][24], const int e[3], const int p[3], double G[24][24])
{
  double P[8][8]; /* child node -> coarse node weights */
  for (int a = 0; a < 8; a++)
    for (int A = 0; A < 8; A++) {
      double wgt = 1.0;
      for (int d = 0; d < 3; d++) {
        double t = (double)(p[d] + ((a >> d) & 1)) / e[d];
        wgt *= ((A >> d) & 1) ? t : 1.0 - t;
      }
      P[a][A] = wgt;
    }
  /* G = P^T K P per dof pair (the interpolation acts on each component alike) */
  double KP[24][24];
  for (int q = 0; q < 24; q++)
    for (int B = 0; B < 8; B++)
      for (int d = 0; d < 3; d++) {
        double s = 0.0;
        for (int b = 0; b < 8; b++) s += K[q][3 * b + d] * P[b][B];
        KP[q][3 * B + d] = s;
      }
  for (int A = 0; A < 8; A++)
    for (int d = 0; d < 3; d++)
      for (int r = 0; r < 24; r++) {
        double s = 0.0;
        for (int a = 0; a < 8; a++) s += P[a][A] * KP[3 * a + d][r];
        G[3 * A + d][r] = s;
      }
}

/* Element matrix of level lev (1 or 2) element E from the fine weights wl
 * (ghosted by 3): the Galerkin sum over its children of P_c^T K_c P_c, the
 * children's matrices those of the level below (the fine: weight times K). */
static void coarse_element(const OxMechanics mc, int lev, const PetscInt E[3], const PetscScalar ***wl, double (*G1)[24][24], int *have1,
                           double KE[24][24])
{
  const PetscInt *nelf = mc->lev[lev - 1].nel;
  int             e[3];
  for (int d = 0; d < 3; d++) e[d] = (int)PetscMin(2, nelf[d] - 2 * E[d]);
  for (int a = 0; a < 24; a++)
    for (int b = 0; b < 24; b++) KE[a][b] = 0.0;
  for (int pz = 0; pz < e[2]; pz++)
    for (int py = 0; py < e[1]; py++)
      for (int px = 0; px < e[0]; px++) {
        int      p[3] = {px, py, pz}, cfg = 0;
        PetscInt C[3] = {2 * E[0] + px, 2 * E[1] + py, 2 * E[2] + pz};
        for (int d = 2; d >= 0; d--) cfg = 3 * cfg + (e[d] == 1 ? 2 : p[d]);
        if (lev == 1) {
          double wgt = PetscRealPart(wl[C[2]][C[1]][C[0]]);
          if (!have1[cfg]) {
            child_galerkin(mc->K, e, p, G1[cfg]);
            have1[cfg] = 1;
          }
          for (int a = 0; a < 24; a++)
            for (int b = 0; b < 24; b++) KE[a][b] += wgt * G1[cfg][a][b];
        } else {
          double Kc[24][24], Gc[24][24];
          coarse_element(mc, 1, C, wl, G1, have1, Kc);
          child_galerkin(Kc, e, p, Gc);
          for (int a = 0; a < 24; a++)
            for (int b = 0; b < 24; b++) KE[a][b] += Gc[a][b];
        }
      }
}

/*
 * Coarse level lev (1 or 2) assembled element by element from the fine
 * weights: level 1 in symmetric block storage (upper triangle, 3x3 blocks:
 * it is the largest matrix of the hierarchy), level 2 as AIJ for the
 * products below it. A dof held by a symmetry plane gets its row and column
 * zeroed and a positive diagonal (the interpolation leaves it out).
 */
static PetscErrorCode assemble_coarse(OxMechanics mc, int lev, PetscBool sym, const PetscScalar ***wl)
{
  Level   *L = &mc->lev[lev];
  PetscInt xs, ys, zs, xm, ym, zm;
  Ghosted  gc;
  double (*G1)[24][24];
  int      have1[27] = {0};
  double   KE[24][24];

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(27, &G1));
  PetscCall(DMSetMatType(L->da, sym ? MATSBAIJ : MATAIJ));
  PetscCall(DMCreateMatrix(L->da, &L->A));
  if (sym) PetscCall(MatSetOption(L->A, MAT_IGNORE_LOWER_TRIANGULAR, PETSC_TRUE));
  PetscCall(DMDAGetCorners(L->da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(ghosted_of(L->da, &gc));
  for (PetscInt K = zs; K < PetscMin(zs + zm, L->nel[2]); K++)
    for (PetscInt J = ys; J < PetscMin(ys + ym, L->nel[1]); J++)
      for (PetscInt Ic = xs; Ic < PetscMin(xs + xm, L->nel[0]); Ic++) {
        PetscInt E[3] = {Ic, J, K}, nd[8], idx[24];
        coarse_element(mc, lev, E, wl, G1, have1, KE);
        for (int a = 0; a < 8; a++)
          for (int d = 0; d < 3; d++) {
            int q = 3 * a + d;
            if (!constrained(L->nel, Ic + (a & 1), J + ((a >> 1) & 1), K + ((a >> 2) & 1), d)) continue;
            for (int r = 0; r < 24; r++) KE[q][r] = KE[r][q] = 0.0;
            KE[q][q] = 1.0;
          }
        element_nodes(&gc, Ic, J, K, nd);
        for (int a = 0; a < 8; a++)
          for (int d = 0; d < 3; d++) idx[3 * a + d] = 3 * nd[a] + d;
        PetscCall(MatSetValuesLocal(L->A, 24, idx, 24, idx, &KE[0][0], ADD_VALUES));
      }
  PetscCall(MatAssemblyBegin(L->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(L->A, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscFree(G1));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------ */
/* The matrix-free fine operator                                            */
/* ------------------------------------------------------------------------ */

/* Node stencil: row block of node a of an element against its node b, summed over the 8 element positions. */
static void stencil_setup(OxMechanics mc)
{
  for (int o = 0; o < 27; o++)
    for (int r = 0; r < 3; r++)
      for (int q = 0; q < 3; q++) mc->S[o][r][q] = 0.0;
  for (int a = 0; a < 8; a++)
    for (int b = 0; b < 8; b++) {
      int o = ((((b >> 2) & 1) - ((a >> 2) & 1) + 1) * 3 + (((b >> 1) & 1) - ((a >> 1) & 1) + 1)) * 3 + ((b & 1) - (a & 1) + 1);
      for (int r = 0; r < 3; r++)
        for (int q = 0; q < 3; q++) mc->S[o][r][q] += mc->K[3 * a + r][3 * b + q];
    }
}

static inline int solid_at(const OxMechanics mc, PetscInt i, PetscInt j, PetscInt k)
{
  return mc->solid_g[((k - mc->vgs[2]) * mc->vgm[1] + (j - mc->vgs[1])) * mc->vgm[0] + (i - mc->vgs[0])];
}


static void classify_nodes(OxMechanics mc, const PetscInt nel[3], const PetscInt own[6])
{
  for (PetscInt k = own[2], q = 0; k < own[2] + own[5]; k++)
    for (PetscInt j = own[1]; j < own[1] + own[4]; j++)
      for (PetscInt i = own[0]; i < own[0] + own[3]; i++, q++) {
        int nsolid = 0, nvox = 0;
        for (int e = 0; e < 8; e++) {
          PetscInt ei = i - (e & 1), ej = j - ((e >> 1) & 1), ek = k - ((e >> 2) & 1);
          if (ei < 0 || ej < 0 || ek < 0 || ei >= nel[0] || ej >= nel[1] || ek >= nel[2]) continue;
          nvox++;
          nsolid += solid_at(mc, ei, ej, ek);
        }
        mc->kind[q] = nsolid == 0 ? NODE_VOID : nsolid == 8 && nvox == 8 ? NODE_SOLID : NODE_MIXED;
      }
}

/*
 * y = op(x) on the owned nodes, node by node from the ghosted x (its
 * constrained dofs zeroed): a node inside one material (its 8 voxels all
 * solid or all electrolyte) applies the 27-point stencil S times its weight
 * (243 multiply-adds), any other node the rows of its voxels' element
 * matrices (up to 576). No scatter: every owned row is computed where it is owned.
 */
static void apply_nodes(const OxMechanics mc, const Ghosted *g, const PetscInt nel[3], const PetscInt own[6], const PetscScalar *x, PetscScalar *y)
{
  const PetscInt sy = g->gxm, sz = g->gxm * g->gym;
  for (PetscInt k = own[2], q = 0; k < own[2] + own[5]; k++)
    for (PetscInt j = own[1]; j < own[1] + own[4]; j++)
      for (PetscInt i = own[0]; i < own[0] + own[3]; i++, q++) {
        PetscInt     n = node_at(g, i, j, k);
        PetscScalar *yo = y + 3 * q;
        if (mc->kind[q] == NODE_VOID) {
          for (int r = 0; r < 3; r++) yo[r] = x[3 * n + r];
          continue;
        }
        if (mc->kind[q] == NODE_SOLID) {
          double acc[3] = {0.0, 0.0, 0.0}, wgt = 1.0;
          for (int dz = -1, o = 0; dz <= 1; dz++)
            for (int dy = -1; dy <= 1; dy++)
              for (int dx = -1; dx <= 1; dx++, o++) {
                const PetscScalar *xn = x + 3 * (n + dz * sz + dy * sy + dx);
                for (int r = 0; r < 3; r++) acc[r] += mc->S[o][r][0] * xn[0] + mc->S[o][r][1] * xn[1] + mc->S[o][r][2] * xn[2];
              }
          for (int r = 0; r < 3; r++) yo[r] = wgt * acc[r];
          continue;
        }
        double acc[3] = {0.0, 0.0, 0.0};
        for (int a = 0; a < 8; a++) { /* the node is node a of the element with lower corner (i, j, k) - a */
          PetscInt ei = i - (a & 1), ej = j - ((a >> 1) & 1), ek = k - ((a >> 2) & 1), nd[8];
          double   part[3] = {0.0, 0.0, 0.0}, wgt;
          if (ei < 0 || ej < 0 || ek < 0 || ei >= nel[0] || ej >= nel[1] || ek >= nel[2]) continue;
          wgt = solid_at(mc, ei, ej, ek) ? 1.0 : mc->wvoid;
          element_nodes(g, ei, ej, ek, nd);
          for (int b = 0; b < 8; b++) {
            const PetscScalar *xb = x + 3 * nd[b];
            for (int r = 0; r < 3; r++) part[r] += mc->K[3 * a + r][3 * b] * xb[0] + mc->K[3 * a + r][3 * b + 1] * xb[1] + mc->K[3 * a + r][3 * b + 2] * xb[2];
          }
          for (int r = 0; r < 3; r++) acc[r] += wgt * part[r];
        }
        for (int r = 0; r < 3; r++) yo[r] = acc[r];
      }
}

/* Zero the constrained dofs of a ghosted local fine vector (they enter no other row). */
static void zero_constrained_local(const Ghosted *g, PetscInt gzm, const PetscInt nel[3], PetscScalar *x)
{
  for (PetscInt k = g->gzs; k < g->gzs + gzm; k++)
    for (PetscInt j = g->gys; j < g->gys + g->gym; j++)
      for (PetscInt i = g->gxs; i < g->gxs + g->gxm; i++) {
        if (i != 0 && j != 0 && k != 0 && i != nel[0] && j != nel[1] && k != nel[2]) continue; /* only face nodes are held */
        for (int d = 0; d < 3; d++)
          if (constrained(nel, i, j, k, d)) x[3 * node_at(g, i, j, k) + d] = 0.0;
      }
}

/* Owned constrained dofs of the fine grid: out = in (y = x, or diag = 1). */
static PetscErrorCode set_constrained(OxMechanics mc, Vec out, Vec in, PetscScalar value)
{
  Level       *L = &mc->lev[0];
  PetscInt     xs, ys, zs, xm, ym, zm;
  PetscScalar *o;
  const PetscScalar *x = NULL;

  PetscFunctionBeginUser;
  PetscCall(DMDAGetCorners(L->da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(VecGetArray(out, &o));
  if (in) PetscCall(VecGetArrayRead(in, &x));
  for (PetscInt k = zs, q = 0; k < zs + zm; k++)
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++)
        for (int d = 0; d < 3; d++, q++)
          if (constrained(L->nel, i, j, k, d)) o[q] = x ? x[q] : value;
  if (in) PetscCall(VecRestoreArrayRead(in, &x));
  PetscCall(VecRestoreArray(out, &o));
  PetscFunctionReturn(0);
}

static PetscErrorCode fine_mult(Mat A, Vec x, Vec y)
{
  OxMechanics mc;
  PetscScalar *xa, *ya;
  Ghosted      g;
  PetscInt     own[6], gzm;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &mc));
  PetscCall(PetscLogEventBegin(OX_EVENT_MECH_APPLY, 0, 0, 0, 0));
  PetscCall(ghosted_of(mc->lev[0].da, &g));
  PetscCall(DMDAGetGhostCorners(mc->lev[0].da, NULL, NULL, NULL, NULL, NULL, &gzm));
  PetscCall(DMDAGetCorners(mc->lev[0].da, &own[0], &own[1], &own[2], &own[3], &own[4], &own[5]));
  PetscCall(DMGlobalToLocal(mc->lev[0].da, x, INSERT_VALUES, mc->xloc));
  PetscCall(VecGetArray(mc->xloc, &xa));
  zero_constrained_local(&g, gzm, mc->lev[0].nel, xa);
  PetscCall(VecGetArrayWrite(y, &ya));
  apply_nodes(mc, &g, mc->lev[0].nel, own, xa, ya);
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArray(mc->xloc, &xa));
  PetscCall(set_constrained(mc, y, x, 0.0));
  PetscCall(PetscLogFlops(2.0 * 243.0 * own[3] * own[4] * own[5]));
  PetscCall(PetscLogEventEnd(OX_EVENT_MECH_APPLY, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode compute_diagonal(OxMechanics mc, Vec diag);

/* computed when asked (the Jacobi smoother keeps its own copy) */
static PetscErrorCode fine_diagonal(Mat A, Vec d)
{
  OxMechanics mc;
  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &mc));
  PetscCall(compute_diagonal(mc, d));
  PetscFunctionReturn(0);
}

static PetscErrorCode compute_diagonal(OxMechanics mc, Vec diag)
{
  PetscScalar *ya;
  Ghosted      g;

  PetscFunctionBeginUser;
  PetscCall(ghosted_of(mc->lev[0].da, &g));
  PetscCall(VecZeroEntries(mc->xloc));
  PetscCall(VecGetArray(mc->xloc, &ya));
  for (PetscInt k = mc->zs, v = 0; k < mc->zs + mc->zm; k++)
    for (PetscInt j = mc->ys; j < mc->ys + mc->ym; j++)
      for (PetscInt i = mc->xs; i < mc->xs + mc->xm; i++, v++) {
        PetscInt nd[8];
        element_nodes(&g, i, j, k, nd);
        for (int a = 0; a < 8; a++)
          for (int d = 0; d < 3; d++) ya[3 * nd[a] + d] += mc->w[v] * mc->K[3 * a + d][3 * a + d];
      }
  PetscCall(VecRestoreArray(mc->xloc, &ya));
  PetscCall(VecZeroEntries(diag));
  PetscCall(DMLocalToGlobal(mc->lev[0].da, mc->xloc, ADD_VALUES, diag));
  PetscCall(set_constrained(mc, diag, NULL, 1.0));
  {
    PetscScalar *d;
    PetscInt     n;
    PetscCall(VecGetLocalSize(diag, &n));
    PetscCall(VecGetArray(diag, &d));
    for (PetscInt q = 0; q < n / 3; q++)
      if (mc->kind[q] == NODE_VOID) d[3 * q] = d[3 * q + 1] = d[3 * q + 2] = 1.0;
    PetscCall(VecRestoreArray(diag, &d));
  }
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------ */
/* Set-up                                                                   */
/* ------------------------------------------------------------------------ */

void OxMechanicsAxis(const OxMechanics mc, PetscInt id, double n[3])
{
  for (int d = 0; d < 3; d++) n[d] = mc->axis[id][d];
}

static void random_axis(long seed, PetscInt id, double n[3])
{
  /* splitmix64 keyed by (seed, id), a stream of its own (not the diffusivity multiplier's) */
  uint64_t h = OxSplitMix64(((uint64_t)seed << 32) ^ (uint64_t)id ^ 0x6D656368ULL);
  double   z = 2.0 * OxUnitOpen(h) - 1.0, phi = 2.0 * M_PI * OxUnitOpen(OxSplitMix64(h)), r = sqrt(1.0 - z * z);
  n[0] = r * cos(phi), n[1] = r * sin(phi), n[2] = z;
}

static PetscErrorCode setup_solver(OxMechanics mc)
{
  PC       pc;
  PetscInt L = mc->nlev;

  PetscFunctionBeginUser;
  PetscCall(KSPCreate(mc->comm, &mc->ksp));
  PetscCall(KSPSetOptionsPrefix(mc->ksp, "ox_mech_"));
  PetscCall(KSPSetType(mc->ksp, KSPCG));
  PetscCall(KSPSetOperators(mc->ksp, mc->lev[0].A, mc->lev[0].A));
  PetscCall(KSPSetTolerances(mc->ksp, 1e-9, 1e-30, PETSC_DEFAULT, 500));
  PetscCall(KSPSetNormType(mc->ksp, KSP_NORM_UNPRECONDITIONED));
  PetscCall(KSPGetPC(mc->ksp, &pc));
  if (L > 1) {
    PetscCall(PCSetType(pc, PCMG));
    PetscCall(PCMGSetLevels(pc, (PetscInt)L, NULL));
    PetscCall(PCMGSetType(pc, PC_MG_MULTIPLICATIVE));
    PetscCall(PCMGSetGalerkin(pc, PC_MG_GALERKIN_NONE));
    for (PetscInt l = 0; l < L; l++) {
      KSP      sm;
      PC       spc;
      PetscInt mg = L - 1 - l; /* PCMG: 0 is the coarsest */
      PetscCall(PCMGGetSmoother(pc, mg, &sm));
      PetscCall(KSPSetOperators(sm, mc->lev[l].A, mc->lev[l].A));
      if (mg > 0) {
        PetscCall(KSPSetType(sm, KSPCHEBYSHEV));
        PetscCall(KSPChebyshevEstEigSet(sm, 0, 0.1, 0, 1.1));
        {
          /* CG estimates the extreme eigenvalue of the Jacobi-scaled SPD
           * level well (PETSc's default GMRES with 10 iterations fell
           * short on inputs/demo.cfg: an indefinite smoother) */
          KSP est;
          PetscCall(KSPChebyshevEstEigGetKSP(sm, &est));
          if (est) {
            PetscCall(KSPSetType(est, KSPCG));
            PetscCall(KSPSetTolerances(est, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 20));
          }
        }
        PetscCall(KSPSetTolerances(sm, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 3));
        PetscCall(KSPGetPC(sm, &spc));
        PetscCall(PCSetType(spc, PCJACOBI));
        PetscCall(PCMGSetInterpolation(pc, mg, mc->lev[l].Pfree));
      }
    }
  } else PetscCall(PCSetType(pc, PCJACOBI));
  PetscCall(KSPSetFromOptions(mc->ksp));
  PetscCall(KSPSetUp(mc->ksp));
  PetscFunctionReturn(0);
}

/* Whether level F is worth coarsening and every rank keeps two coarse nodes per
 * dimension; the coarse ownership ranges lc and element counts nel then. */
static PetscErrorCode coarsening(const Level *F, const PetscInt np[3], PetscInt lc[3][64], PetscInt nel[3], PetscBool *ok)
{
  PetscFunctionBeginUser;
  *ok = PETSC_FALSE;
  if (PetscMin(F->nel[0], PetscMin(F->nel[1], F->nel[2])) < 4 || (F->nel[0] + 1) * (F->nel[1] + 1) * (F->nel[2] + 1) < 1500) PetscFunctionReturn(0);
  for (int d = 0; d < 3; d++) {
    const PetscInt *lf[3] = {NULL, NULL, NULL};
    if (np[d] > 64) PetscFunctionReturn(0);
    PetscCall(DMDAGetOwnershipRanges(F->da, &lf[0], &lf[1], &lf[2]));
    if (!coarse_ranges(F->nel[d], np[d], lf[d], lc[d])) PetscFunctionReturn(0);
    nel[d] = (F->nel[d] + 1) / 2;
  }
  *ok = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode OxMechanicsCreate(const OxConfig *cfg, const OxOperator *op, const OxMicrostructure *ms, OxMechanics *out)
{
  OxMechanics     mc;
  MPI_Comm        comm = PetscObjectComm((PetscObject)op->da);
  PetscInt        M, N, P, np[3];
  const PetscInt *lv[3];
  PetscInt       *ln[3];
  PetscReal       wvoid = OX_VOID_STIFFNESS;
  DM              dav;
  Vec             wg, wlv;

  PetscFunctionBeginUser;
  if (OX_EVENT_MECH_SOLVE < 0) {
    PetscClassId id;
    PetscCall(PetscClassIdRegister("oxvac mechanics", &id));
    PetscCall(PetscLogEventRegister("OxMechSolve", id, &OX_EVENT_MECH_SOLVE));
    PetscCall(PetscLogEventRegister("OxMechApply", id, &OX_EVENT_MECH_APPLY));
  }
  PetscCall(PetscNew(&mc));
  mc->comm = comm;
  mc->E_Pa = cfg->mech_young_GPa * 1e9;
  mc->nu   = cfg->mech_poisson;
  element_setup(mc);
  stencil_setup(mc);
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-ox_mech_void_stiffness", &wvoid, NULL));
  mc->wvoid = wvoid;
  PetscCall(DMDAGetInfo(op->da, NULL, &M, &N, &P, &np[0], &np[1], &np[2], NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(op->da, &lv[0], &lv[1], &lv[2]));
  mc->xs = op->xs, mc->ys = op->ys, mc->zs = op->zs, mc->xm = op->xm, mc->ym = op->ym, mc->zm = op->zm;

  /* element weights, voxel slots and labels of the owned voxels */
  PetscInt nown = mc->xm * mc->ym * mc->zm;
  PetscCall(PetscMalloc3(nown, &mc->w, nown, &mc->slot, nown, &mc->surface));
  mc->label      = ms->label;
  mc->nparticles = ms->nparticles;
  for (PetscInt k = 0, v = 0; k < mc->zm; k++)
    for (PetscInt j = 0; j < mc->ym; j++)
      for (PetscInt i = 0; i < mc->xm; i++, v++) {
        PetscInt g = ((k + op->zs - op->gzs) * op->gym + (j + op->ys - op->gys)) * op->gxm + (i + op->xs - op->gxs);
        PetscInt m = op->map[g];
        mc->slot[v] = m < op->nloc ? m : -1;
        mc->w[v]    = m < op->nloc ? 1.0 : wvoid;
        mc->surface[v] = 0;
        if (m < op->nloc) {
          const PetscInt st[3] = {1, op->gxm, op->gxm * op->gym}, at[3] = {i + op->xs, j + op->ys, k + op->zs}, n[3] = {M, N, P};
          for (int d = 0; d < 3; d++)
            for (int sgn = -1; sgn <= 1; sgn += 2) {
              PetscInt q = at[d] + sgn;
              if (q >= 0 && q < n[d] && op->map[g + sgn * st[d]] >= op->nloc + op->nghost) mc->surface[v] = 1;
            }
        }
      }
  PetscCall(PetscMalloc1(mc->nparticles + 1, &mc->axis));
  for (PetscInt p = 0; p <= mc->nparticles; p++) {
    if (cfg->mech_aligned || p == 0) mc->axis[p][0] = mc->axis[p][1] = 0.0, mc->axis[p][2] = 1.0;
    else random_axis(cfg->seed, p, mc->axis[p]);
  }

  /* the fine node grid: each rank owns the lower corners of its voxels, the last one the far faces too */
  for (int d = 0; d < 3; d++) {
    PetscCall(PetscMalloc1(np[d], &ln[d]));
    for (PetscInt r = 0; r < np[d]; r++) ln[d][r] = lv[d][r] + (r == np[d] - 1);
  }
  mc->lev[0].nel[0] = M, mc->lev[0].nel[1] = N, mc->lev[0].nel[2] = P;
  PetscCall(create_node_grid(comm, mc->lev[0].nel, (const PetscInt **)ln, np, &mc->lev[0].da));
  PetscCall(DMCreateGlobalVector(mc->lev[0].da, &mc->x));
  PetscCall(VecDuplicate(mc->x, &mc->f));
  PetscCall(DMCreateLocalVector(mc->lev[0].da, &mc->xloc));
  {
    PetscInt nl;
    PetscCall(VecGetLocalSize(mc->x, &nl));
    PetscCall(MatCreateShell(comm, nl, nl, PETSC_DETERMINE, PETSC_DETERMINE, mc, &mc->lev[0].A));
    PetscCall(MatShellSetOperation(mc->lev[0].A, MATOP_MULT, (void (*)(void))fine_mult));
    PetscCall(MatShellSetOperation(mc->lev[0].A, MATOP_GET_DIAGONAL, (void (*)(void))fine_diagonal));
    PetscCall(MatSetOption(mc->lev[0].A, MAT_SYMMETRIC, PETSC_TRUE));
    PetscCall(MatSetOption(mc->lev[0].A, MAT_SPD, PETSC_TRUE));
  }

  /* ghosted fine voxel weights: the node classes and the first coarse level */
  PetscCall(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_BOX, M, N, P, np[0], np[1], np[2], 1, 3, lv[0], lv[1],
                         lv[2], &dav)); /* width 3: a level-2 element spans 4 fine voxels per axis */
  PetscCall(DMSetUp(dav));
  PetscCall(DMCreateGlobalVector(dav, &wg));
  {
    PetscScalar *a;
    PetscCall(VecGetArray(wg, &a));
    for (PetscInt v = 0; v < nown; v++) a[v] = mc->w[v];
    PetscCall(VecRestoreArray(wg, &a));
  }
  PetscCall(DMCreateLocalVector(dav, &wlv));
  PetscCall(DMGlobalToLocal(dav, wg, INSERT_VALUES, wlv));
  {
    /* solid flags of the ghosted voxels: the node-wise apply needs the voxels around every owned node */
    const PetscScalar *a;
    PetscInt           n;
    PetscCall(DMDAGetGhostCorners(dav, &mc->vgs[0], &mc->vgs[1], &mc->vgs[2], &mc->vgm[0], &mc->vgm[1], &mc->vgm[2]));
    n = mc->vgm[0] * mc->vgm[1] * mc->vgm[2];
    PetscCall(PetscMalloc1(n, &mc->solid_g));
    PetscCall(VecGetArrayRead(wlv, &a));
    for (PetscInt v = 0; v < n; v++) mc->solid_g[v] = PetscRealPart(a[v]) == 1.0;
    PetscCall(VecRestoreArrayRead(wlv, &a));
  }
  {
    PetscInt own[6];
    PetscCall(DMDAGetCorners(mc->lev[0].da, &own[0], &own[1], &own[2], &own[3], &own[4], &own[5]));
    PetscCall(PetscMalloc1(own[3] * own[4] * own[5], &mc->kind));
    classify_nodes(mc, mc->lev[0].nel, own);
  }

  /* coarser levels while every rank keeps two nodes per dimension and the grid is worth coarsening */
  mc->nlev = 1;
  while (mc->nlev < OX_MG_MAX_LEVELS) {
    Level   *F = &mc->lev[mc->nlev - 1], *Cl = &mc->lev[mc->nlev];
    PetscInt lc[3][64], *lcp[3];
    PetscBool ok;
    PetscCall(coarsening(F, np, lc, Cl->nel, &ok));
    if (!ok) break;
    for (int d = 0; d < 3; d++) lcp[d] = lc[d];
    PetscCall(create_node_grid(comm, Cl->nel, (const PetscInt **)lcp, np, &Cl->da));
    if (mc->nlev <= 2) { /* from the fine weights */
      const PetscScalar ***wl;
      if (mc->nlev == 1) PetscCall(create_interp_shell(mc));
      else PetscCall(create_interpolation(F, Cl, PETSC_FALSE)); /* level 2 comes from the fine weights, not a product */
      PetscCall(DMDAVecGetArrayRead(dav, wlv, (void *)&wl));
      {
        /* level 1 symmetric-block unless it is the coarsest (LU wants AIJ) */
        PetscInt  lc2[3][64], nel2[3];
        PetscBool more = PETSC_FALSE;
        if (mc->nlev == 1) PetscCall(coarsening(Cl, np, lc2, nel2, &more));
        PetscCall(assemble_coarse(mc, (int)mc->nlev, more, wl));
      }
      PetscCall(DMDAVecRestoreArrayRead(dav, wlv, (void *)&wl));
    } else {
      PetscCall(create_interpolation(F, Cl, PETSC_TRUE));
      PetscCall(MatPtAP(F->A, F->Pfull, MAT_INITIAL_MATRIX, 2.0, &Cl->A));
      PetscCall(MatDestroy(&F->Pfull)); /* only for the product */
      PetscCall(constrain_level(Cl));
    }
    mc->nlev++;
  }
  PetscCall(VecDestroy(&wlv));
  PetscCall(VecDestroy(&wg));
  PetscCall(DMDestroy(&dav));
  for (int d = 0; d < 3; d++) PetscCall(PetscFree(ln[d]));
  PetscCall(setup_solver(mc));
  *out          = mc;
  PetscFunctionReturn(0);
}

PetscErrorCode OxMechanicsDestroy(OxMechanics *pmc)
{
  OxMechanics mc = *pmc;
  PetscFunctionBeginUser;
  if (!mc) PetscFunctionReturn(0);
  PetscCall(KSPDestroy(&mc->ksp));
  for (PetscInt l = 0; l < mc->nlev; l++) {
    PetscCall(MatDestroy(&mc->lev[l].A));
    PetscCall(MatDestroy(&mc->lev[l].Pfree));
    PetscCall(MatDestroy(&mc->lev[l].Pfull));
    PetscCall(DMDestroy(&mc->lev[l].da));
  }
  PetscCall(VecDestroy(&mc->x));
  PetscCall(VecDestroy(&mc->f));
  PetscCall(VecDestroy(&mc->xloc));
  PetscCall(PetscFree3(mc->w, mc->slot, mc->surface));
  PetscCall(PetscFree(mc->axis));
  PetscCall(PetscFree(mc->solid_g));
  PetscCall(PetscFree(mc->kind));
  PetscCall(VecDestroy(&mc->cloc1));
  PetscCall(PetscFree(*pmc));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------ */
/* Solve and stress                                                         */
/* ------------------------------------------------------------------------ */

PetscErrorCode OxMechanicsCreateDisplacement(OxMechanics mc, Vec *u)
{
  PetscFunctionBeginUser;
  PetscCall(DMCreateGlobalVector(mc->lev[0].da, u));
  PetscCall(VecZeroEntries(*u));
  PetscFunctionReturn(0);
}

PetscErrorCode OxMechanicsSolve(OxMechanics mc, Vec c, double beta, double a, double cl, PetscReal *sigma_h, PetscReal *von_mises)
{
  PetscFunctionBeginUser;
  PetscCall(VecZeroEntries(mc->x));
  PetscCall(OxMechanicsSolveFrom(mc, c, beta, a, cl, mc->x, 0.0, sigma_h, von_mises));
  PetscFunctionReturn(0);
}

PetscErrorCode OxMechanicsSolveFrom(OxMechanics mc, Vec c, double beta, double a, double cl, Vec u, PetscReal rtol, PetscReal *sigma_h,
                                    PetscReal *von_mises)
{
  const PetscScalar *ca = NULL;
  PetscScalar       *fa;
  Ghosted            g;
  PetscReal          fnorm;

  PetscFunctionBeginUser;
  PetscCall(ghosted_of(mc->lev[0].da, &g));
  if (c) PetscCall(VecGetArrayRead(c, &ca));
  /* load: B^T C eps* of every solid voxel */
  PetscCall(VecZeroEntries(mc->xloc));
  PetscCall(VecGetArray(mc->xloc, &fa));
  for (PetscInt k = mc->zs, v = 0; k < mc->zs + mc->zm; k++)
    for (PetscInt j = mc->ys; j < mc->ys + mc->ym; j++)
      for (PetscInt i = mc->xs; i < mc->xs + mc->xm; i++, v++) {
        PetscInt m = mc->slot[v], nd[8];
        double   e[6], s[6];
        if (m < 0) continue;
        eigenstrain(ca ? beta * PetscRealPart(ca[m]) : 0.0, a, cl, mc->axis[mc->label[v]], e);
        for (int r = 0; r < 6; r++) {
          s[r] = 0.0;
          for (int q = 0; q < 6; q++) s[r] += mc->C[r][q] * e[q];
        }
        element_nodes(&g, i, j, k, nd);
        for (int p = 0; p < 24; p++) {
          double t = 0.0;
          for (int r = 0; r < 6; r++) t += mc->B[r][p] * s[r];
          fa[3 * nd[p / 3] + p % 3] += t;
        }
      }
  PetscCall(VecRestoreArray(mc->xloc, &fa));
  PetscCall(VecZeroEntries(mc->f));
  PetscCall(DMLocalToGlobal(mc->lev[0].da, mc->xloc, ADD_VALUES, mc->f));
  PetscCall(set_constrained(mc, mc->f, NULL, 0.0));
  PetscCall(VecNorm(mc->f, NORM_2, &fnorm));
  if (fnorm == 0.0) PetscCall(VecZeroEntries(u));
  else {
    KSPConvergedReason why;
    PetscInt           its;
    PetscReal          rt, at, dt;
    PetscInt           mx;
    PetscCall(KSPGetTolerances(mc->ksp, &rt, &at, &dt, &mx));
    PetscCall(KSPSetTolerances(mc->ksp, rtol > 0.0 ? rtol : rt, at, dt, mx));
    PetscCall(KSPSetInitialGuessNonzero(mc->ksp, PETSC_TRUE));
    PetscCall(PetscLogEventBegin(OX_EVENT_MECH_SOLVE, 0, 0, 0, 0));
    PetscCall(KSPSolve(mc->ksp, mc->f, u));
    PetscCall(PetscLogEventEnd(OX_EVENT_MECH_SOLVE, 0, 0, 0, 0));
    PetscCall(KSPSetTolerances(mc->ksp, rt, at, dt, mx));
    PetscCall(KSPGetConvergedReason(mc->ksp, &why));
    PetscCall(KSPGetIterationNumber(mc->ksp, &its));
    PetscCheck(why > 0, mc->comm, PETSC_ERR_NOT_CONVERGED, "the elasticity solve did not converge (%s after %" PetscInt_FMT " iterations)",
               KSPConvergedReasons[why], its);
  }
  if (c) PetscCall(VecRestoreArrayRead(c, &ca));
  PetscCall(OxMechanicsStressOf(mc, c, beta, a, cl, u, sigma_h, von_mises));
  PetscFunctionReturn(0);
}

PetscErrorCode OxMechanicsStressOf(OxMechanics mc, Vec c, double beta, double a, double cl, Vec u, PetscReal *sigma_h, PetscReal *von_mises)
{
  Vec                floc;
  const PetscScalar *ca = NULL, *xa;
  PetscScalar       *fa;
  Ghosted            g;
  const PetscInt    *nel = mc->lev[0].nel;

  PetscFunctionBeginUser;
  PetscCall(ghosted_of(mc->lev[0].da, &g));
  if (c) PetscCall(VecGetArrayRead(c, &ca));
  /* stress at the element centres */
  PetscCall(DMGlobalToLocal(mc->lev[0].da, u, INSERT_VALUES, mc->xloc));
  PetscCall(VecGetArrayRead(mc->xloc, &xa));
  PetscCall(VecDuplicate(mc->xloc, &floc)); /* nodal sums (only now: the solve's peak does not hold it) */
  PetscCall(VecZeroEntries(floc));
  PetscCall(VecGetArray(floc, &fa));
  for (PetscInt k = mc->zs, v = 0; k < mc->zs + mc->zm; k++)
    for (PetscInt j = mc->ys; j < mc->ys + mc->ym; j++)
      for (PetscInt i = mc->xs; i < mc->xs + mc->xm; i++, v++) {
        PetscInt m = mc->slot[v], nd[8];
        double   e[6], s[6], ue[24];
        if (m < 0) continue;
        eigenstrain(ca ? beta * PetscRealPart(ca[m]) : 0.0, a, cl, mc->axis[mc->label[v]], e);
        element_nodes(&g, i, j, k, nd);
        for (int q = 0; q < 8; q++)
          for (int d = 0; d < 3; d++)
            ue[3 * q + d] = constrained(nel, i + (q & 1), j + ((q >> 1) & 1), k + ((q >> 2) & 1), d) ? 0.0 : PetscRealPart(xa[3 * nd[q] + d]);
        for (int r = 0; r < 6; r++) {
          double t = 0.0;
          for (int q = 0; q < 24; q++) t += mc->B[r][q] * ue[q];
          e[r] = t - e[r];
        }
        for (int r = 0; r < 6; r++) {
          s[r] = 0.0;
          for (int q = 0; q < 6; q++) s[r] += mc->C[r][q] * e[q];
          s[r] *= mc->E_Pa;
        }
        {
          double sh = (s[0] + s[1] + s[2]) / 3.0;
          double vm = sqrt(0.5 * ((s[0] - s[1]) * (s[0] - s[1]) + (s[1] - s[2]) * (s[1] - s[2]) + (s[2] - s[0]) * (s[2] - s[0])) +
                           3.0 * (s[3] * s[3] + s[4] * s[4] + s[5] * s[5]));
          if (sigma_h) sigma_h[m] = sh;
          if (von_mises) von_mises[m] = vm;
          for (int q = 0; q < 8; q++) { /* nodal sums for the recovery at the surface */
            fa[3 * nd[q] + 0] += sh;
            fa[3 * nd[q] + 1] += vm;
            fa[3 * nd[q] + 2] += 1.0;
          }
        }
      }
  PetscCall(VecRestoreArrayRead(mc->xloc, &xa));
  PetscCall(VecRestoreArray(floc, &fa));
  if (c) PetscCall(VecRestoreArrayRead(c, &ca));
  /* Surface voxels: the stress of one staircase voxel is poor (a corner
   * voxel is free on three sides), so it is recovered from its neighbours:
   * the mean over its 8 nodes of each node's mean over the solid voxels
   * around it (docs/mechanics.md; at R = 20 voxels 4.0 % RMS of the peak
   * instead of 5.1 % on the free sphere). */
  PetscCall(VecZeroEntries(mc->f));
  PetscCall(DMLocalToGlobal(mc->lev[0].da, floc, ADD_VALUES, mc->f));
  PetscCall(DMGlobalToLocal(mc->lev[0].da, mc->f, INSERT_VALUES, floc));
  PetscCall(VecGetArrayRead(floc, &xa));
  for (PetscInt k = mc->zs, v = 0; k < mc->zs + mc->zm; k++)
    for (PetscInt j = mc->ys; j < mc->ys + mc->ym; j++)
      for (PetscInt i = mc->xs; i < mc->xs + mc->xm; i++, v++) {
        PetscInt m = mc->slot[v], nd[8];
        double   sh = 0.0, vm = 0.0;
        if (m < 0 || !mc->surface[v]) continue;
        element_nodes(&g, i, j, k, nd);
        for (int q = 0; q < 8; q++) {
          double cnt = PetscRealPart(xa[3 * nd[q] + 2]);
          sh += PetscRealPart(xa[3 * nd[q] + 0]) / cnt / 8.0;
          vm += PetscRealPart(xa[3 * nd[q] + 1]) / cnt / 8.0;
        }
        if (sigma_h) sigma_h[m] = sh;
        if (von_mises) von_mises[m] = vm;
      }
  PetscCall(VecRestoreArrayRead(floc, &xa));
  PetscCall(VecDestroy(&floc));
  PetscFunctionReturn(0);
}
