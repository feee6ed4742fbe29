"""Fit the traffic model to a usage report (`run_sim.py fit`, issue 9).

data.py      report rows -> the columns a fit needs
estimate.py  Poisson rates, shares, rate classes, weekly profile, meetings (MLE + 95 % intervals)
lengths.py   call length per kind: lognormal / exponential / empirical
licences.py  licences from Capability, or from the admin center's Active users export
model.py     every parameter of the traffic model, with tests and warnings
document.py  the fitted scenario as a mapping
compare.py   the fitted model simulated over the report's period, beside the report
"""
from .data import Calls, calls_of
from .model import Fitted, fit

__all__ = ["Calls", "calls_of", "Fitted", "fit"]
