"""Post-processing of oxvac result files (layout: docs/interface.md section 4;
reading one in Python: docs/user-guide.md section 3).

Modules:
  oxvac.result        read a result file (time series, particles, secondaries,
                      fields, geometry, stored profiles and lamellae)
  oxvac.metrics       report quantities: the Mn3+ conversion (the one place
                      the package converts a vacancy fraction), oxygen loss,
                      distance-from-own-surface profiles and penetration depth,
                      particle groups inside / outside a secondary
  oxvac.measured      a measured Mn3+ profile CSV and the model at its points
                      (the rule of `oxvac compare`)
  oxvac.plot          figures of any result: `python3 -m oxvac.plot
                      SUBCOMMAND RESULT.h5 [-o FILE.png|.pdf]` (also the
                      console script `oxvac-plot`); oxvac.plot.sweep plots a
                      sweep's summary.csv
  oxvac.csernica2021  the Csernica et al. (2021) validation report (REPORT.md)
  oxvac.provenance    the machine line the validation scripts store

Use it from a checkout with PYTHONPATH=postprocess, or install it
(postprocess/pyproject.toml). Only numpy, h5py, scipy and matplotlib are
needed (Debian's /usr/bin/python3 has them).
"""
__version__ = "0.1.0"
