from shelfscan.inference.detector import Detector

__all__ = ["Detector"]
