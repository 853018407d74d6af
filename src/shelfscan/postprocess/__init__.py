"""Post-processing of raw detector candidates: NMS, Soft-IoU NMS and the EM-Merger."""
from shelfscan.postprocess.merge import METHODS, merge_candidates
from shelfscan.postprocess.nms import nms, soft_iou_nms

__all__ = ["METHODS", "em_merge", "merge_candidates", "nms", "soft_iou_nms"]


def __getattr__(name: str):
    """``em_merge`` is imported on first use: it needs SciPy, which plain NMS (every default detect) does not."""
    if name == "em_merge":
        from shelfscan.postprocess.em_merge import em_merge

        return em_merge
    raise AttributeError(f"module 'shelfscan.postprocess' has no attribute {name!r}")
