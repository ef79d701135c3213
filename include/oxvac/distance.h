/**
 * @file distance.h
 * @brief Exact squared Euclidean distance transform of a voxel (or pixel)
 *        array: the squared distance, in samples, from every point to the
 *        nearest feature point (src/distance.c).
 *
 * Owns: the transform (Felzenszwalb and Huttenlocher, "Distance transforms of
 * sampled functions", 2012: one lower envelope of parabolas per line, axis by
 * axis) for arrays of 1 to 3 dimensions, x fastest, stored in double or in
 * float. Users: the closing that derives an imported image's secondaries
 * (float, src/import.c) and the distance-to-surface profiles (double,
 * src/profiles.c).
 *
 * On entry a point holds 0 on a feature and OX_DISTANCE_FAR elsewhere; on
 * return its squared distance to the nearest feature, an exact integer
 * (computed in double on each line). Points with no feature anywhere in the
 * array keep OX_DISTANCE_FAR exactly (in float: (float)OX_DISTANCE_FAR, which
 * is >= OX_DISTANCE_FAR).
 *
 * Memory: the array itself (the caller's: 8 bytes a point in double, 4 in
 * float) and four line buffers of the longest axis. Float storage holds every
 * squared distance below 2^24 exactly (distances under 4096 samples); beyond
 * that the value stored between the axis passes is rounded to float.
 */
#ifndef OXVAC_DISTANCE_H
#define OXVAC_DISTANCE_H

#include <petscsys.h>

/** "No feature here": a non-feature point on entry, and one with no feature in the array on return. */
#define OX_DISTANCE_FAR 1.0e30

/**
 * @brief Squared Euclidean distance transform in place, in double.
 * @param ndim  1, 2 or 3
 * @param n     the sizes, x first (x fastest in f)
 * @param f     n[0] * ... * n[ndim-1] values: 0 on features, OX_DISTANCE_FAR elsewhere
 */
PetscErrorCode OxDistanceSquared(int ndim, const PetscInt n[], double *f);

/** @brief The same transform on float storage (half the memory; see the note on 2^24 above). */
PetscErrorCode OxDistanceSquaredFloat(int ndim, const PetscInt n[], float *f);

#endif
