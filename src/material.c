/* The parameter law (material.h). */
#include "oxvac/material.h"

#define OX_CM2_S_TO_M2_S 1.0e-4
#define OX_NM_S_TO_M_S 1.0e-9

void OxMaterialParams(const OxConfig *cfg, double soc, double step_diffusivity_scale, double step_release_scale, OxParams *out)
{
  out->soc      = soc;
  out->D_m2_s   = cfg->diffusivity_scale * step_diffusivity_scale * OxTableEvalLog(&cfg->diffusivity_cm2_s, soc) * OX_CM2_S_TO_M2_S;
  out->k_m_s    = cfg->exchange_scale * step_release_scale * OxTableEvalLog(&cfg->exchange_nm_s, soc) * OX_NM_S_TO_M_S;
  out->c_eq     = OxTableEvalLinear(&cfg->equilibrium_fraction, soc);
  out->averaged = 0;
}
