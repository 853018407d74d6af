"""Post-processing of raw detector candidates: NMS, Soft-IoU NMS and the EM-Merger."""
from shelfscan.postprocess.em_merge import em_merge
from shelfscan.postprocess.merge import METHODS, merge_candidates
from shelfscan.postprocess.nms import nms, soft_iou_nms

__all__ = ["METHODS", "em_merge", "merge_candidates", "nms", "soft_iou_nms"]
