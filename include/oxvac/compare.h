/**
 * @file compare.h
 * @brief Measured Mn3+ profiles (docs/interface.md section 5) and the residuals of a
 *        result against them: what `oxvac compare` prints and `oxvac fit`
 *        minimises.
 *
 * Owns: reading MEASURED.csv (every defect an input error,
 * "FILE:LINE: key 'column': what is wrong; what is expected"), reading a
 * result's /lamella or /profiles at the measured cycles, interpolating the
 * model at the measured distances, and the statistics per cycle. Plain C and
 * HDF5, no PETSc: call it on one rank or on all.
 */
#ifndef OXVAC_COMPARE_H
#define OXVAC_COMPARE_H

#include <stddef.h>

/** Measured points, in file order. */
typedef struct {
  char    source[4096]; /**< the file as given */
  char    citation[512]; /**< text after "# source:" on a comment line ("" if none) */
  int     synthetic;    /**< first comment line says "synthetic" */
  int     n;
  int    *cycle, *line; /**< line: 1-based line in the file, for messages */
  double *distance_nm, *mn3_fraction, *sigma;
  int     n_implausible;    /**< rows whose mn3_fraction is > 3 sigma outside [0, 1] (kept, warned about) */
  int     implausible_line; /**< the first of them (0: none) */
} OxMeasured;

typedef enum { OX_GEOMETRY_LAMELLA, OX_GEOMETRY_3D } OxGeometry;

/** Residuals of one result against one measurement. */
typedef struct {
  int     n;          /**< points (= measured n) */
  double *model;      /**< model Mn3+ fraction at each measured point */
  double *residual;   /**< (model - measured) / sigma at each point */
  int     ncycles;    /**< distinct measured cycles, ascending */
  int    *cycle, *npoints;
  double *wrms;       /**< sqrt(sum r^2 / sum 1/sigma^2): weighted RMS of model - measured, in Mn3+ fraction */
  double *chi2_red;   /**< sum r^2 / npoints per cycle */
  double  chi2;       /**< sum r^2 over all points */
  /* Added for `oxvac compare` output; fit need not read them. */
  double *chi2_cycle; /**< sum r^2 per cycle */
  double  wrms_all;   /**< weighted RMS over all points */
  double  chi2_red_all; /**< chi2 / n: nothing is fitted, so no parameters are subtracted */
  int     measured_error; /**< on failure: 1 when it is the measurement's (a row the result cannot answer, an empty CSV), 0 when it is the result file's */
} OxComparison;

/**
 * @brief Read and check a measured CSV (docs/compare.md).
 * @param[in]  path  the CSV; also copied to m->source and used in messages
 * @param[out] m     the points; on an error they are freed (only source kept)
 * @return 0, or 2 on an input error (message in err).
 */
int  OxMeasuredLoad(const char *path, OxMeasured *m, char *err, size_t errlen);
void OxMeasuredFree(OxMeasured *m);

/**
 * @brief Residuals of the result file against m.
 *
 * The model at a point: linear interpolation in distance between the centres
 * of the non-empty bins (count > 0) of GROUP/cycle_NNNNNN; the first value
 * above the first centre, the last value up to half a bin past the last one.
 * @param[out] cmp  filled on success; zeroed on an error (OxComparisonFree is
 *                  safe either way)
 * @return 0, or 2 when the result lacks what is needed (a measured cycle
 *         not stored, no /lamella, a point deeper than the model's particle,
 *         ...; message in err)
 */
int  OxCompareResult(const char *result_h5, const OxMeasured *m, OxGeometry geometry, OxComparison *cmp, char *err, size_t errlen);
void OxComparisonFree(OxComparison *cmp);

/** @brief The result group read for a geometry: "/lamella" or "/profiles". */
const char *OxGeometryGroup(OxGeometry geometry);

#endif
