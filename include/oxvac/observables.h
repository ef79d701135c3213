/**
 * @file observables.h
 * @brief What a run reports: means over the solid, oxygen loss, and the
 *        time series of them (one row per protocol step end, at least).
 */
#ifndef OXVAC_OBSERVABLES_H
#define OXVAC_OBSERVABLES_H

#include "oxvac/operator.h"

/** One row of /timeseries. */
typedef struct {
  double time_s;
  int cycle;
  double soc;
  double vacancy_mean;    /**< c averaged over solid voxels */
  double oxygen_loss_pct; /**< 100 * vacancy_mean */
  double released_mol;    /**< time integral of the exchange flux */
  double inventory_mol;   /**< vacancies held by the solid */
} OxSample;

typedef struct {
  int n, cap;
  OxSample *row;
} OxTimeseries;

/** @brief Sample the state: means and inventory (collective). */
PetscErrorCode OxObservablesSample(OxOperator *op, Vec c, double time_s, int cycle, double soc, double released_mol, OxSample *s);

PetscErrorCode OxTimeseriesAppend(OxTimeseries *ts, const OxSample *s);
void OxTimeseriesFree(OxTimeseries *ts);

#endif
