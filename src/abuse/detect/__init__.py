"""Detectors: one module per detector, each registered with ``abuse.detect.base.register``."""

from abuse.detect.base import (  # noqa: F401
    Cluster,
    DetectContext,
    Detector,
    DetectorResult,
    Finding,
    Spike,
    all_detectors,
    register,
)
