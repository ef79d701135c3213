/**
 * @file fit.h
 * @brief `oxvac fit`: positive config values (scale factors) fitted to
 *        measured Mn3+ profiles by repeated forward runs.
 *
 * Owns: the bounded Levenberg-Marquardt minimiser in log space with a
 * finite-difference Jacobian, the covariance and identifiability analysis at
 * the optimum, and the command itself (src/fit.c). The minimiser and the
 * analysis are plain C on a residual callback, so they know nothing of
 * oxvac's model; the command supplies a callback that runs the model and
 * compares it with the measurement (compare.h).
 */
#ifndef OXVAC_FIT_H
#define OXVAC_FIT_H

/**
 * @brief Residuals r[0..n-1] at parameters theta[0..p-1].
 * @return 0 on success; 1 when theta cannot be evaluated (the model rejects
 *         it or the run fails there: the minimiser treats it as a rejected
 *         step); 2 on a fatal error (the minimiser stops and returns 2).
 *         Collective where the residuals are: every rank must return the
 *         same status and residuals.
 */
typedef int (*OxFitResidualFn)(void *ctx, const double *theta, double *r);

/** @brief Called once per iteration (after the Jacobian), for progress lines. */
typedef void (*OxFitProgressFn)(void *ctx, int iteration, int nevals, double chi2, const double *theta);

/** What the minimiser needs to know. */
typedef struct {
  int           n, p;      /**< residuals, parameters (p <= n) */
  const double *lo, *hi;   /**< box on theta, lo < hi */
  double        fd_step;   /**< forward-difference step in theta (e.g. 0.03) */
  double        max_step;  /**< largest change of one theta in one step (e.g. 2) */
  double        hold_below; /**< hold theta_j for a step where |dr/dtheta_j| is below this (the data do not see it) */
  double        ftol;      /**< stop when an accepted step lowers chi2 by less than ftol relative */
  double        xtol;      /**< ... or changes no theta by more than xtol */
  int           max_evals; /**< residual evaluations, all counted (the final Jacobian included) */
  OxFitProgressFn progress; /**< may be NULL */
  const double *r0;        /**< [n] residuals at theta0 when already known (counted as one evaluation), else NULL */
} OxFitProblem;

typedef enum {
  OX_FIT_CONVERGED,   /**< chi2 or step below tolerance */
  OX_FIT_STALLED,     /**< no step lowers chi2 any more (a minimum to evaluation accuracy) */
  OX_FIT_BOUNDED,     /**< every parameter is at a bound or without effect */
  OX_FIT_MAX_EVALS    /**< the evaluation budget ran out first */
} OxFitStop;

/** The minimiser's result; arrays allocated by OxFitMinimize, freed by OxFitResultFree. */
typedef struct {
  double   *theta;  /**< [p] best parameters */
  double   *r;      /**< [n] residuals at theta */
  double   *J;      /**< [p][n] column-major Jacobian dr/dtheta at theta: J[j*n + i] */
  double    chi2;   /**< sum r^2 at theta */
  double    chi2_start;
  int       nevals, niter;
  OxFitStop stop;
} OxFitResult;

/**
 * @brief Minimise sum r^2 over the box by Levenberg-Marquardt.
 *
 * Parameters at a bound whose gradient points out of the box, and parameters
 * whose Jacobian column is below hold_below, are held for that step; each
 * change is limited to max_step and clipped to the box. A step whose
 * predicted decrease of chi2 is below ftol is not tried: converged. The
 * Jacobian at the returned theta is always computed (for the covariance).
 *
 * @param[in]  theta0 [p] start, inside the box
 * @return 0; 1 when the start itself cannot be evaluated; 2 on a fatal error
 *         from fn
 */
int  OxFitMinimize(const OxFitProblem *pb, OxFitResidualFn fn, void *ctx, const double *theta0, OxFitResult *res);
void OxFitResultFree(OxFitResult *res);

/**
 * @brief Covariance of theta at an optimum: s2 * pinv(J^T J), with
 *        s2 = max(1, chi2 / (n - p)).
 *
 * Directions of J^T J with an eigenvalue below 1e-12 of the largest are
 * undetermined: a parameter with a weight above 1e-3 in any of them gets
 * an infinite variance (and correlations 0 with the others).
 *
 * @param[out] cov  [p][p] covariance (row-major)
 * @param[out] s2   the factor applied
 */
void OxFitCovariance(int n, int p, const double *J, double chi2, double *cov, double *s2);

/**
 * @brief Eigen-decomposition of a symmetric p x p matrix (cyclic Jacobi).
 * @param[in,out] A  row-major; destroyed
 * @param[out]    w  [p] eigenvalues, ascending
 * @param[out]    V  [p][p] row-major, column k the eigenvector of w[k]
 */
void OxSymEigen(int p, double *A, double *w, double *V);

#endif
