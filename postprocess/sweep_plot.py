#!/usr/bin/python3
"""Thin wrapper kept for old command lines: the sweep plot lives in the oxvac
package, oxvac.plot.sweep. Prefer

    PYTHONPATH=postprocess python3 -m oxvac.plot sweep SUMMARY.csv --x PARAM ...

(or `oxvac-plot sweep ...` once postprocess/ is installed)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from oxvac.plot.sweep import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(prog="sweep_plot.py"))
