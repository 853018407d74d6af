"""Fine-tuning the crop embedder's network on product crops of real shelf photos, with or without type labels.

``train_embedder`` samples a few photos per step and some crops of each, makes two random views of every crop
(:mod:`crop_views`), embeds them with the trunk (GeM, p = 3, as ``CropEmbedder``) and lowers the within-photo
contrastive loss of :mod:`shelf_contrast` with the pair relations of :mod:`crop_bank`. The stem and the first
``frozen_stages`` stages keep their ImageNet weights and every BatchNorm keeps its statistics. The result is a
lukemelas-layout state_dict that ``CropEmbedder(weights=...)``, ``export_embedder`` and
``benchmarks/count_real_shelves.py --embedder-weights`` read.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from shelfscan.embed.trunk import FeatureTrunk, lukemelas_state_dict
from shelfscan.engine.crop_bank import BankConfig, CropBank, box_in_window
from shelfscan.engine.crop_views import ViewConfig, random_views
from shelfscan.engine.embed_config import EmbedTrainConfig
from shelfscan.engine.train import warmup_cosine
from shelfscan.engine.shelf_contrast import batch_relations, shelf_contrastive_loss
from shelfscan.errors import InputError, expect


def dataset_photos(paths: list[str | Path], splits: list[str] | None = None, exclude: set[str] = frozenset(),
                   report=None):
    """``(name, image, xyxy)`` for every photo of the datasets at ``paths`` (each of ``splits`` that it holds,
    every split when None), except the image names in ``exclude``: the input of ``crop_bank.build_bank``.

    ``report``, if given, is called with a line for each dataset (photos used, photos excluded)."""
    from shelfscan.data import list_splits, load_dataset, read_image

    for path in paths:
        have = list_splits(path) or [None]
        wanted = have if splits is None or have == [None] else [s for s in have if s in splits]
        expect(bool(wanted), f"dataset {path}", f"one of the splits {splits}", f"splits {have}")
        for split in wanted:
            ds = load_dataset(path, split=split)
            left = [r for r in ds if r.name not in exclude]
            if report is not None:
                report(f"{path} [{split or 'all'}]: {len(left)} photos, {len(ds) - len(left)} excluded")
            for record in left:
                yield record.name, read_image(record.path), record.boxes.xyxy


def type_label_files(label_dirs: str | Path | list[str | Path], only: list[str] | None = None,
                     what: str = "type labels") -> list[Path]:
    """The type-label files (``*.json``) of the folders ``label_dirs``, by stem; ``only``: the stems to keep (None:
    all). InputError naming ``what`` for a folder without label files, a stem of ``only`` with no file, or a stem
    with a file in two folders."""
    dirs = [label_dirs] if isinstance(label_dirs, (str, Path)) else list(label_dirs)
    files = []
    for folder in dirs:
        found = sorted(Path(folder).glob("*.json"))
        expect(bool(found), what, f"type-label JSON files in {folder}", "none")
        files += found
    stems = [f.stem for f in files]
    twice = sorted({t for t in stems if stems.count(t) > 1})
    expect(not twice, what, "each photo's label file in one folder only", f"{twice} in two")
    if only is not None:
        missing = sorted(set(only) - set(stems))
        expect(not missing, what, f"a file for each of {sorted(only)}", f"none for {missing}")
        files = [f for f in files if f.stem in only]
    return sorted(files, key=lambda f: f.stem)


def labelled_photos(files: list[Path], images: str | Path, report=None):
    """``(name, image, xyxy, types)`` for every type-label file of ``files`` (:func:`type_label_files`;
    ``benchmarks/data/shelf_types`` layout: ``{"image", "boxes", "types"}``, -1 = not judged), its photo read from
    ``images``. The input of ``crop_bank.build_bank``, beside :func:`dataset_photos`."""
    from shelfscan.data import read_image

    for f in files:
        d = json.loads(f.read_text())
        boxes = np.asarray(d["boxes"], np.float64).reshape(-1, 4)
        types = np.asarray(d["types"], np.int64)
        expect(len(types) == len(boxes), f"{f}", f"one type per box ({len(boxes)})", len(types))
        path = Path(images) / d["image"]
        expect(path.is_file(), f"{f}", f"its photo {d['image']} in {images}", "no such file")
        if report is not None:
            report(f"{f.name}: {int((types >= 0).sum())} typed boxes, {len(set(types[types >= 0].tolist()))} types")
        yield d["image"], read_image(path), boxes, types


def gem_embed(trunk: FeatureTrunk, x: torch.Tensor, p: float) -> torch.Tensor:
    """(B, 3, S, S) RGB 0..255 -> (B, 1280) L2-normalised GeM vectors (the embedder's network part)."""
    fmap = trunk(x).float().clamp(min=1e-6)  # GeM in float32 also where the trunk ran under bfloat16 autocast
    return torch.nn.functional.normalize(fmap.pow(p).mean((2, 3)).pow(1.0 / p), dim=1)


def trainable_trunk(frozen_stages: int, weights: str | Path | None = None) -> FeatureTrunk:
    """A :class:`FeatureTrunk` whose stem and first ``frozen_stages`` stages get no gradient (BatchNorm fixed)."""
    trunk = FeatureTrunk(weights)
    net = trunk.net
    expect(0 <= frozen_stages <= len(net.blocks), "frozen_stages", f"0..{len(net.blocks)}", frozen_stages)
    frozen = [net.conv_stem, net.bn1, *net.blocks[:frozen_stages]]
    for module in frozen:
        for param in module.parameters():
            param.requires_grad_(False)
    trunk.eval()  # BatchNorm statistics stay those of ImageNet (batches of one shelf are not i.i.d.)
    return trunk


def training_device(name: str) -> torch.device:
    """``name`` as a torch device the network can run on, or InputError (a malformed name, or a CUDA device
    this torch cannot see)."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"train-embedder device: expected 'cpu', 'cuda' or 'cuda:N', got {name!r}") from exc
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            raise InputError(f"train-embedder device: expected a CUDA device this torch can see "
                             f"({count} visible), got {name!r}")
    elif device.type != "cpu":
        raise InputError(f"train-embedder device: expected 'cpu', 'cuda' or 'cuda:N', got {name!r}")
    return device


def step_photos(bank: CropBank, config: EmbedTrainConfig, rng: np.random.Generator) -> np.ndarray:
    """Indices of the photos of one step: ``photos_per_step`` distinct ones, ``typed_share`` of them (rounded, at
    least one unless the share is 0) typed when the bank holds typed and untyped photos (a few typed photos among
    hundreds would otherwise hardly ever be drawn), uniformly otherwise."""
    typed = np.asarray(bank.typed if bank.typed else [False] * len(bank.relations), bool)
    n = min(config.photos_per_step, len(typed))
    if typed.all() or not typed.any():
        return rng.choice(len(typed), size=n, replace=False)
    k = min(max(1, round(config.typed_share * n)) if config.typed_share > 0 else 0, int(typed.sum()))
    k = max(k, n - int((~typed).sum()))
    return np.concatenate([rng.choice(np.flatnonzero(typed), size=k, replace=False),
                           rng.choice(np.flatnonzero(~typed), size=n - k, replace=False)])


def sample_step(bank: CropBank, slices: list[slice], config: EmbedTrainConfig, rng: np.random.Generator):
    """Crop indices (B,) and the batch's relation matrix (B, B) for one step."""
    photos = step_photos(bank, config, rng)
    idx, blocks, sizes = [], [], []
    for p in photos:
        sl = slices[p]
        n = sl.stop - sl.start
        pick = np.sort(rng.choice(n, size=min(n, config.crops_per_photo), replace=False))
        idx.append(sl.start + pick)
        blocks.append(torch.from_numpy(bank.relations[p][np.ix_(pick, pick)]))
        sizes.append(len(pick))
    return np.concatenate(idx), batch_relations(blocks, sizes)


def train_embedder(bank: CropBank, out_dir: str | Path, config: EmbedTrainConfig = EmbedTrainConfig(),
                   bank_config: BankConfig = BankConfig(), views: ViewConfig = ViewConfig(),
                   log=print) -> Path:
    """Train for ``config.minutes``; write ``last.pt`` (and ``step<N>.pt`` every ``save_every_minutes``) and
    ``log.jsonl`` under ``out_dir``; return the path of ``last.pt``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = training_device(config.device)
    trunk = trainable_trunk(config.frozen_stages, config.init).to(device)
    params = [p for p in trunk.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    slices, box = bank.photo_slices(), box_in_window(bank_config)
    windows = torch.from_numpy(bank.windows)
    (out / "config.json").write_text(json.dumps({"train": asdict(config), "bank": asdict(bank_config),
                                                 "views": asdict(views), "bank_summary": bank.summary()}, indent=1))
    start = last_save = time.time()
    step, losses = 0, []
    with (out / "log.jsonl").open("a") as logf:
        while time.time() - start < config.minutes * 60 and (config.max_steps is None or step < config.max_steps):
            idx, rel = sample_step(bank, slices, config, rng)
            crops = windows[torch.from_numpy(idx)]
            v1, v2 = (random_views(crops, box, views, gen).to(device, non_blocking=True) for _ in range(2))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                z1, z2 = gem_embed(trunk, v1, config.gem_p), gem_embed(trunk, v2, config.gem_p)
            loss = shelf_contrastive_loss(z1, z2, rel.to(device), config.temperature)
            lr = warmup_cosine(config.lr, step, config.warmup_steps, (time.time() - start) / (config.minutes * 60))
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            step += 1
            if step % 10 == 0:
                row = {"step": step, "minutes": round((time.time() - start) / 60, 2), "lr": lr,
                       "loss": round(float(np.mean(losses[-10:])), 4)}
                logf.write(json.dumps(row) + "\n")
                logf.flush()
                log(row)
            if time.time() - last_save > config.save_every_minutes * 60:
                torch.save(lukemelas_state_dict(trunk), out / f"step{step}.pt")
                last_save = time.time()
    path = out / "last.pt"
    torch.save(lukemelas_state_dict(trunk), path)
    return path
