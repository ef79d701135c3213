"""Post-processing of oxvac result files (contract section 4).

Modules:
  oxresult     read a result file (time series, particles, fields, geometry)
  metrics      report quantities: oxygen loss at a cycle, Mn valence,
               distance-from-own-surface profiles and penetration depth,
               particle groups inside / outside a secondary
  plots        PNG figures (matplotlib, Agg)
  csernica2021 the Csernica et al. (2021) validation report (REPORT.md)

Only numpy, h5py, scipy and matplotlib are needed (/usr/bin/python3).
"""
