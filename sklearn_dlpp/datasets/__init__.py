"""Generated physics data sets: electron/photon, pass-the-class, jets, tracks, calorimeter."""

from sklearn_dlpp.datasets._calorimeter import make_calorimeter
from sklearn_dlpp.datasets._electron_photon import make_electron_photon
from sklearn_dlpp.datasets._events import make_events
from sklearn_dlpp.datasets._jets import make_jets
from sklearn_dlpp.datasets._pass_class import make_pass_class
from sklearn_dlpp.datasets._tracks import make_tracks

__all__ = [
    "make_calorimeter",
    "make_electron_photon",
    "make_events",
    "make_jets",
    "make_pass_class",
    "make_tracks",
]
