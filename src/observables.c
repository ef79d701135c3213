/* Scalar observables of the vacancy field. */
#include <stdlib.h>
#include "oxvac/observables.h"

PetscErrorCode OxObservablesSample(OxOperator *op, Vec c, double time_s, int cycle, double soc, double released_mol, OxSample *s)
{
  PetscScalar sum;
  double      v_m3 = op->h_m * op->h_m * op->h_m;

  PetscFunctionBeginUser;
  PetscCall(VecDot(c, op->solid, &sum));
  s->time_s          = time_s;
  s->cycle           = cycle;
  s->soc             = soc;
  s->vacancy_mean    = op->nsolid > 0 ? PetscRealPart(sum) / (double)op->nsolid : 0.0;
  s->oxygen_loss_pct = 100.0 * s->vacancy_mean;
  s->released_mol    = released_mol;
  s->inventory_mol   = PetscRealPart(sum) * v_m3 * op->site_mol_m3;
  PetscFunctionReturn(0);
}

PetscErrorCode OxTimeseriesAppend(OxTimeseries *ts, const OxSample *s)
{
  PetscFunctionBeginUser;
  if (ts->n == ts->cap) {
    int       cap = ts->cap ? 2 * ts->cap : 256;
    OxSample *r   = realloc(ts->row, (size_t)cap * sizeof(*r));
    PetscCheck(r, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory for the time series");
    ts->row = r;
    ts->cap = cap;
  }
  ts->row[ts->n++] = *s;
  PetscFunctionReturn(0);
}

void OxTimeseriesFree(OxTimeseries *ts)
{
  free(ts->row);
  ts->row = NULL;
  ts->n = ts->cap = 0;
}
