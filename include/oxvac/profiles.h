/**
 * @file profiles.h
 * @brief What the X-ray microscope sees: Mn3+ from the vacancy field by
 *        charge balance, its profile against the distance from each
 *        particle's own surface (3D), and a virtual lamella (a slab through
 *        a secondary particle's centre, projected along the beam) with the
 *        Mn3+ profile against the distance from the projected particle edge.
 *
 * Owns: the geometry of both reductions, built once per run (the distance
 * map, the slab, the projected particle edges), and their evaluation for a
 * vacancy field. The geometry is built on the first rank from the whole grid
 * (about 40 bytes per voxel there while OxProfilerCreate runs); each rank
 * then keeps only its own solid voxels' part (a 3D bin per solid voxel, the
 * slab's voxels with their pixel and overlap), so an evaluation sums on
 * every rank and adds the bin and pixel sums on the first. Results are
 * broadcast: every rank holds the same profiles.
 */
#ifndef OXVAC_PROFILES_H
#define OXVAC_PROFILES_H

#include <petscdmda.h>
#include "oxvac/config.h"
#include "oxvac/microstructure.h"
#include "oxvac/operator.h"

/**
 * @brief Mn3+ fraction of Mn for vacancy site fraction c: each vacancy
 *        leaves two electrons, there are two oxygen sites per formula unit,
 *        and mn_share of the electrons reduce Mn4+ to Mn3+:
 *        min(1, mn_share * 4 c / formula_mn), and 0 for c <= 0.
 */
double OxMn3Fraction(double c, double mn_share, double formula_mn);

/** A profile against distance: bins of bin_nm, empty bins have count 0 and NaN means. */
typedef struct {
  PetscInt n;                 /**< bins */
  double   bin_nm;
  double  *distance_nm;       /**< bin centres */
  double  *mn3_fraction;      /**< mean Mn3+ fraction of Mn in the bin */
  double  *vacancy_fraction;  /**< mean vacancy fraction in the bin */
  double  *count;             /**< solid volume in voxels (3D) or pixels (lamella) in the bin */
} OxProfile;

void OxProfileFree(OxProfile *p);

typedef struct OxProfiler_private *OxProfiler;

/**
 * @brief Build the geometry of the reductions (collective).
 *
 * 3D: the distance of a solid voxel from its particle's surface is
 * (e + 1/2) voxels, e the Euclidean distance from its centre to the nearest
 * voxel that has a face neighbour of another label (electrolyte or another
 * primary); the domain faces are mirror planes, not surfaces.
 *
 * Lamella: the slab is normal to observables.lamella.axis, thickness_nm
 * thick, centred on the centre of the largest secondary (the sphere's centre
 * for type "sphere"); voxels cut by a slab face count by their overlap. The
 * beam runs along the axis: a pixel's solid thickness T = sum of overlaps of
 * its solid voxels, its Mn3+ fraction = sum(overlap * mn3) / T (what a
 * transmission image of Mn gives). A pixel belongs to the particle with the
 * most solid in its column; its edge distance is (e + 1/2) pixels with e the
 * 2D Euclidean distance to the nearest pixel with a neighbour of another
 * particle (or empty). Bins average pixels weighted by T.
 */
PetscErrorCode OxProfilerCreate(const OxConfig *cfg, const OxOperator *op, const OxMicrostructure *ms, OxProfiler *pr);
PetscErrorCode OxProfilerDestroy(OxProfiler *pr);

/**
 * Sub-voxel samples of this rank (the surface layer): depth below the
 * surface, volume in voxels, value. They come in chunks, so that no array of
 * all of them is needed: fill writes the samples start, start + 1, ... (at
 * most max) and returns how many it wrote, 0 past the last.
 */
typedef struct {
  PetscInt (*fill)(void *ctx, PetscInt start, PetscInt max, double *depth_nm, double *weight, double *value);
  void *ctx;
} OxProfileSamples;

/**
 * @brief Leave the voxels where mask > 0.5 (a voxel vector) out of the 3D
 *        profile: their volume comes as depth samples instead.
 */
PetscErrorCode OxProfilerExclude(OxProfiler pr, Vec mask);

/**
 * @brief The 3D profile and the lamella of the voxel vector c (collective; every rank
 *        gets them). The 3D profile also bins extra (NULL for none) at the
 *        samples' own depths; the lamella uses c alone. A bin's count is
 *        the solid volume in it, in voxels.
 */
PetscErrorCode OxProfilerCompute(OxProfiler pr, Vec c, const OxProfileSamples *extra, OxProfile *prof3d, OxProfile *lamella);

/** @brief mn3 = OxMn3Fraction(c) voxel by voxel; c and mn3 are voxel vectors. */
PetscErrorCode OxProfilerMn3Field(OxProfiler pr, Vec c, Vec mn3);

/** @brief Slab description for the result file: centre (m), axis (0,1,2), thickness (nm). */
void OxProfilerLamellaGeometry(OxProfiler pr, double centre_m[3], int *axis, double *thickness_nm);

#endif
