"""Cluster a folder of already-cropped product photos (Python API of ``shelfscan cluster``)."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from shelfscan.cluster.methods import ClusterResult, cluster_embeddings
from shelfscan.errors import InputError, expect

CHUNK = 256  # photos read and embedded at a time (keeps memory flat on big folders)


@dataclass
class FolderClusters:
    """Clusters of the crops found in a folder.

    Attributes:
        root: the folder.
        names: N image paths relative to ``root`` (POSIX, sorted).
        result: the :class:`ClusterResult` (labels in the order of ``names``).
        features: float32 (N, D) embeddings.
        problems: ``"path: expected ..., got ..."`` for each file that could not be read (left out).
    """

    root: Path
    names: list[str]
    result: ClusterResult
    features: np.ndarray
    problems: list[str] = field(default_factory=list)

    def write_csv(self, path: str | Path) -> Path:
        """``image,cluster`` rows (cluster -1 = unassigned) in the order of ``names``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image", "cluster"])
            writer.writerows(zip(self.names, self.result.labels.tolist()))
        return path


def cluster_folder(crops_dir: str | Path, *, method: str = "auto", embedder=None, k: int | None = None,
                   distance_threshold: float | None = None, progress: bool = False) -> FolderClusters:
    """Embed every image under ``crops_dir`` (recursively) and cluster them.

    Args:
        crops_dir: folder of product photos, one product per photo.
        method, k, distance_threshold: see :func:`cluster_embeddings`.
        embedder: a :class:`~shelfscan.embed.CropEmbedder` (default: CPU, 224-pixel input, which describes whole
            product photos better than the 112 pixels used for shelf crops).
        progress: show a progress bar.

    Raises:
        InputError: ``crops_dir`` is not a folder, or holds no readable image.
    """
    from tqdm import tqdm

    from shelfscan.data.images import find_images, read_image
    from shelfscan.embed import CropEmbedder
    from shelfscan.embed.crops import resize_crop

    root = Path(crops_dir)
    expect(root.is_dir(), "CROPS_DIR", "a folder of product photos", str(root))
    paths = find_images([root])
    if not paths:
        raise InputError(f"{root}: expected image files (searched recursively), got none")
    embedder = CropEmbedder(input_size=224) if embedder is None else embedder
    names, feats, problems = [], [], []
    bar = tqdm(total=len(paths), desc="embed", unit="img", disable=not progress)
    for start in range(0, len(paths), CHUNK):
        batch = []
        for path in paths[start:start + CHUNK]:
            try:
                batch.append(resize_crop(read_image(path), embedder.input_size))
            except InputError as exc:
                problems.append(str(exc))
                continue
            names.append(path.relative_to(root).as_posix())
        if batch:
            feats.append(embedder.embed_resized(np.stack(batch)))
        bar.update(len(paths[start:start + CHUNK]))
    bar.close()
    if not names:
        raise InputError(f"{root}: expected readable images, got {len(problems)} unreadable files "
                         f"(first: {problems[0]})")
    features = np.concatenate(feats)
    result = cluster_embeddings(features, method=method, k=k, distance_threshold=distance_threshold)
    return FolderClusters(root, names, result, features, problems)
