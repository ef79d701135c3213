/**
 * @file units.h
 * @brief Physical constants and unit conversions, in one place.
 *
 * Values with a unit carry it in their name. Conversions are multiplicative
 * factors "to SI": x_m = x_nm * OX_NM_TO_M.
 */
#ifndef OXVAC_UNITS_H
#define OXVAC_UNITS_H

#define OX_NM_TO_M 1.0e-9
#define OX_UM_TO_M 1.0e-6
#define OX_CM2_TO_M2 1.0e-4
#define OX_MIN_TO_S 60.0
#define OX_H_TO_S 3600.0
#define OX_AVOGADRO_PER_MOL 6.02214076e23

/*
 * Oxygen sites per volume of the layered oxide. The R-3m cell of Li-rich
 * layered oxides (a ~ 2.85 A, c ~ 14.24 A, the usual values for this family)
 * holds three MO2 units, i.e. six oxygen sites: 6 / (sqrt(3)/2 a^2 c)
 * = 5.99e28 m^-3 = 9.95e4 mol/m^3. Released oxygen in mol is the vacancy
 * inventory (site fraction times volume) times this density.
 */
#define OX_HEX_A_M 2.85e-10
#define OX_HEX_C_M 14.24e-10
#define OX_OXYGEN_SITES_PER_CELL 6.0

/** @brief Oxygen-site density in mol/m^3 from the lattice constants above. */
static inline double OxOxygenSitesMolPerM3(void)
{
  const double v_cell_m3 = 0.86602540378443864676 * OX_HEX_A_M * OX_HEX_A_M * OX_HEX_C_M;
  return OX_OXYGEN_SITES_PER_CELL / v_cell_m3 / OX_AVOGADRO_PER_MOL;
}

#endif
