"""An independent held-out data set: planted abuse and honest look-alikes, written from the
data contract and the threat descriptions alone, to score the detectors on data they were
never tuned on."""
