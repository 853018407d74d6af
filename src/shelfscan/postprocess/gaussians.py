"""Reducing per-blob mixtures of diagonal 2-D Gaussians to K components, all blobs in one vectorised pass.

Notation: N Gaussians (the candidates), each with weight ``w`` (N,), mean ``mu`` (N, 2) and variances
``var`` (N, 2), belongs to a blob ``blob`` (N,) in ``[0, B)``; blob b is to be reduced to ``k[b]`` components.
Components are numbered globally: blob b owns ids ``offsets[b] .. offsets[b + 1] - 1``.

Blobs never mix: nearest-neighbour searches run on points shifted along x by ``blob * spacing``, with a spacing
larger than twice any distance inside the image, so a point's nearest neighbours in its own blob always come
before any point of another blob.
"""
from __future__ import annotations

import numpy as np


def moment_match(w: np.ndarray, mu: np.ndarray, var: np.ndarray, segment: np.ndarray,
                 n_segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse the Gaussians of each segment into one with the same weight, mean and covariance.

    Args:
        w: (N,) weights > 0. mu: (N, 2). var: (N, 2). segment: (N,) int in ``[0, n_segments)``.

    Returns:
        weight (S,), mean (S, 2), variance (S, 2); mean and variance are NaN for empty segments.
    """
    total = np.bincount(segment, w, n_segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.stack([np.bincount(segment, w * mu[:, d], n_segments) for d in (0, 1)], 1) / total[:, None]
        spread = var + (mu - mean[segment]) ** 2
        variance = np.stack([np.bincount(segment, w * spread[:, d], n_segments) for d in (0, 1)], 1) / total[:, None]
    return total, mean, variance


def blob_spacing(*points: np.ndarray) -> float:
    """Shift per blob id that keeps blobs apart in nearest-neighbour searches over ``points`` (each (n, 2))."""
    allp = np.concatenate([p for p in points if len(p)]) if any(len(p) for p in points) else np.zeros((1, 2))
    return 3.0 * float((allp.max(0) - allp.min(0)).sum() + 1.0)


def _shift(mu: np.ndarray, blob: np.ndarray, spacing: float) -> np.ndarray:
    out = mu.copy()
    out[:, 0] += blob * spacing
    return out


def _rank_in_group(group: np.ndarray, key: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Order sorting by (group, key) and the rank (0, 1, ...) of each sorted element inside its group.

    Without ``key`` the elements keep their given order inside a group (stable sort).
    """
    order = np.argsort(group, kind="stable") if key is None else np.lexsort((key, group))
    g = group[order]
    start = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    rank = np.arange(len(g)) - np.repeat(start, np.diff(np.concatenate([start, [len(g)]])))
    return order, rank


def nearest_in_blob(points: np.ndarray, blob: np.ndarray, dense_max: int = 128,
                    dense_budget: int = 1 << 21) -> tuple[np.ndarray, np.ndarray]:
    """Nearest other point of the same blob, for every point; every blob must hold at least two points.

    Blobs of up to ``dense_max`` points use padded (G, n, n) distance matrices, at most ``dense_budget``
    entries at a time; larger blobs use one k-d tree over blob-shifted points.

    Args:
        points: (N, 2). blob: (N,) int.

    Returns:
        nn (N,) int64 index of the nearest point, dist (N,) Euclidean distance to it. Ties go to the lower
        index within a dense blob.
    """
    n = len(points)
    nn, dist = np.zeros(n, np.int64), np.zeros(n)
    size = np.bincount(blob)
    small = size[blob] <= dense_max
    idx = np.flatnonzero(small)
    if len(idx):
        present = np.zeros(int(blob.max()) + 1, np.int64)
        present[blob[idx]] = 1
        row = (np.cumsum(present) - 1)[blob[idx]]
        n_groups = int(present.sum())
        order, rank = _rank_in_group(row)
        idx, row = idx[order], row[order]
        width = int(rank.max()) + 1
        table = np.full((n_groups, width), -1, np.int64)
        table[row, rank] = idx
        has = table >= 0
        # float32 on coordinates relative to each blob's first point; padding sits far away (and apart), so no
        # real point picks it as its nearest
        rel = points[table] - points[table[:, :1]]
        far = np.float32(1e9) * (1 + np.arange(width, dtype=np.float32))
        xs = np.where(has, rel[..., 0], far).astype(np.float32)
        ys = np.where(has, rel[..., 1], far).astype(np.float32)
        step = max(1, dense_budget // (width * width))
        diagonal = np.arange(width)
        for start in range(0, n_groups, step):
            x, y = xs[start:start + step], ys[start:start + step]
            d2 = x[:, :, None] - x[:, None]
            d2 *= d2
            dy = y[:, :, None] - y[:, None]
            dy *= dy
            d2 += dy
            d2[:, diagonal, diagonal] = np.inf
            best = np.argmin(d2, 2)
            tab, ok = table[start:start + step], has[start:start + step]
            nn[tab[ok]] = np.take_along_axis(tab, best, 1)[ok]
            dist[tab[ok]] = np.sqrt(np.take_along_axis(d2, best[..., None], 2)[..., 0][ok])
    idx = np.flatnonzero(~small)
    if len(idx):
        pts = _shift(points[idx], blob[idx], blob_spacing(points[idx]))
        d, nb = _kd_tree(pts).query(pts, k=2)
        first_is_self = nb[:, 0] == np.arange(len(idx))  # duplicates at one spot may come back in either order
        nn[idx] = idx[np.where(first_is_self, nb[:, 1], nb[:, 0])]
        dist[idx] = np.where(first_is_self, d[:, 1], d[:, 0])
    return nn, dist


def agglomerate(w: np.ndarray, mu: np.ndarray, var: np.ndarray, blob: np.ndarray,
                k: np.ndarray) -> np.ndarray:
    """Initial partition: merge closest means by moment matching until blob b has ``k[b]`` components.

    Every round merges, in every blob still above its K, the mutually-nearest pairs of component means, closest
    pair first and never more than the blob's excess (a blob left without a mutual pair by ties merges its
    closest pair), so every round merges in every such blob; a round removes a fifth to a third of the
    components.

    Args:
        w, mu, var, blob: the Gaussians (see module docstring). k: (B,) wanted components, ``1 <= k[b]``.

    Returns:
        int64 (N,) local component id in ``[0, min(k[b], n_b))`` of each Gaussian.
    """
    n = len(w)
    n_blob = np.bincount(blob, minlength=len(k))
    k = np.minimum(k, n_blob)
    cw, cm, cv = w.copy(), mu.copy(), var.copy()
    alive = np.ones(n, bool)
    root = np.arange(n)
    count = n_blob.copy()
    while True:
        need = (count > k) & (k > 1)
        idx = np.flatnonzero(alive & need[blob])
        if len(idx) == 0:
            break
        nn, d = nearest_in_blob(cm[idx], blob[idx])
        own = np.arange(len(idx))
        mutual = (nn[nn] == own) & (own < nn)
        a, b = idx[mutual], idx[nn[mutual]]
        order, rank = _rank_in_group(blob[a], d[mutual])
        a, b = a[order], b[order]
        accept = rank < (count - k)[blob[a]]
        a, b = a[accept], b[accept]
        stuck = need.copy()  # ties can leave a blob without a mutual pair: merge its closest pair then
        stuck[blob[a]] = False
        if stuck[blob[idx]].any():
            lone = np.flatnonzero(stuck[blob[idx]])
            order, rank = _rank_in_group(blob[idx[lone]], d[lone])
            first = lone[order[rank == 0]]
            a, b = np.concatenate([a, idx[first]]), np.concatenate([b, idx[nn[first]]])
        wa, wb = cw[a, None], cw[b, None]
        m = (wa * cm[a] + wb * cm[b]) / (wa + wb)
        cv[a] = (wa * (cv[a] + (cm[a] - m) ** 2) + wb * (cv[b] + (cm[b] - m) ** 2)) / (wa + wb)
        cm[a], cw[a] = m, (wa + wb)[:, 0]
        alive[b] = False
        target = np.arange(n)
        target[b] = a
        root = target[root]
        count -= np.bincount(blob[a], minlength=len(k))
    slots = np.flatnonzero(alive)
    order, rank = _rank_in_group(blob[slots])
    local = np.zeros(n, np.int64)
    local[slots[order]] = rank
    comp = local[root]
    comp[k[blob] <= 1] = 0
    return comp


def blob_table(comp_blob: np.ndarray, n_blobs: int) -> tuple[np.ndarray, np.ndarray]:
    """The components of every blob as a padded table.

    Args:
        comp_blob: (C,) blob of each component.

    Returns:
        table (B, Q) int64 component indices (Q = most components in one blob; padding repeats a valid but
        unrelated index) and filled (B, Q) bool.
    """
    per_blob = np.bincount(comp_blob, minlength=n_blobs)
    order, rank = _rank_in_group(comp_blob)
    table = np.zeros((n_blobs, max(1, int(per_blob.max(initial=0)))), np.int64)
    filled = np.zeros(table.shape, bool)
    table[comp_blob[order], rank] = order
    filled[comp_blob[order], rank] = True
    return table, filled


def blob_neighbours(points: np.ndarray, point_blob: np.ndarray, comp_mean: np.ndarray, comp_blob: np.ndarray,
                    n_neighbours: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the components of its own blob: all of them, or the ``n_neighbours`` with the nearest
    means when some blob has more.

    Args:
        points: (N, 2). point_blob: (N,). comp_mean: (C, 2) with C >= 1. comp_blob: (C,).

    Returns:
        index (N, Q) int64 into the components, and valid (N, Q) bool (False where the point's blob has fewer
        than Q components; the index there is a valid but unrelated component).
    """
    n_blobs = int(max(point_blob.max(initial=-1), comp_blob.max(initial=-1))) + 1
    if np.bincount(comp_blob, minlength=n_blobs).max() <= n_neighbours:
        table, filled = blob_table(comp_blob, n_blobs)
        return table[point_blob], filled[point_blob]
    spacing = blob_spacing(points, comp_mean)
    n_query = min(n_neighbours, len(comp_mean))
    _, nb = _kd_tree(_shift(comp_mean, comp_blob, spacing)).query(_shift(points, point_blob, spacing), k=n_query)
    nb = nb.reshape(len(points), n_query)
    return nb, comp_blob[nb] == point_blob[:, None]


def closest_by_kl(mu: np.ndarray, var: np.ndarray, candidates: np.ndarray, valid: np.ndarray, mean: np.ndarray,
                  variance: np.ndarray) -> np.ndarray:
    """For each Gaussian (mu, var: (N, 2)), the component among ``candidates`` (N, Q) (where ``valid``) with the
    smallest ``KL(g || f)``; returns (N,) component indices.

    Only the terms of ``2 KL = sum_d [log V_d + (var_d + (mu_d - M_d)^2) / V_d] + const(g)`` that depend on the
    component are computed, one candidate column at a time (Q is small).
    """
    log_det = np.log(variance).sum(1)
    inv = 1.0 / variance
    best_cost = np.full(len(mu), np.inf)
    best = candidates[:, 0].copy()
    for q in range(candidates.shape[1]):
        c = candidates[:, q]
        cost = log_det[c] + (var[:, 0] + (mu[:, 0] - mean[c, 0]) ** 2) * inv[c, 0] \
            + (var[:, 1] + (mu[:, 1] - mean[c, 1]) ** 2) * inv[c, 1]
        better = valid[:, q] & (cost < best_cost)
        best_cost[better], best[better] = cost[better], c[better]
    return best


def _m_step(w: np.ndarray, mu: np.ndarray, var: np.ndarray, gid: np.ndarray, touched: np.ndarray,
            weight: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> None:
    """Moment-match again, in place, the components marked ``touched`` (C,); one left empty keeps its last mean
    and variance, with weight 0."""
    members = np.flatnonzero(touched[gid])
    wt, m, v = moment_match(w[members], mu[members], var[members], gid[members], len(touched))
    weight[touched] = wt[touched]
    refill = touched & (wt > 0)
    mean[refill], variance[refill] = m[refill], v[refill]


def hard_em(w: np.ndarray, mu: np.ndarray, var: np.ndarray, blob: np.ndarray, comp: np.ndarray, k: np.ndarray,
            *, max_iter: int = 20, n_neighbours: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hard-assignment EM refining a partition of each blob's mixture into its ``k[b]`` components.

    E step: each Gaussian goes to the component of its blob with the smallest KL divergence
    ``KL(g_j || f_c) = 1/2 sum_d [log(V_cd / var_jd) + (var_jd + (mu_jd - M_cd)^2) / V_cd - 1]``, searched among
    all the blob's components, or among the ``n_neighbours`` with the closest means when some blob has more.
    M step: moment matching of each component's members (a component left empty keeps its last mean and
    variance, with weight 0). Stops when no assignment changes, after at most ``max_iter`` rounds.

    Only what can change is recomputed: the M step for components that gained or lost members, the E step for
    Gaussians with such a component among their candidates (exact when all of a blob's components are
    candidates; with nearest-``n_neighbours`` candidates a Gaussian's list is refreshed when one of its
    components changes).

    Args:
        w, mu, var, blob: the Gaussians. comp: (N,) initial local component ids, every component non-empty.
        k: (B,) components per blob.

    Returns:
        gid (N,) global component id of each Gaussian, and per global component (C,) weight, (C, 2) mean and
        (C, 2) variance.
    """
    offsets = np.concatenate([[0], np.cumsum(k)])
    n_comp = int(offsets[-1])
    comp_blob = np.repeat(np.arange(len(k)), k)
    gid = offsets[blob] + comp
    weight, mean, variance = moment_match(w, mu, var, gid, n_comp)
    active = np.flatnonzero(k[blob] > 1)
    if len(active) == 0:
        return gid, weight, mean, variance
    use_table = k.max() <= n_neighbours
    if use_table:
        table, filled = blob_table(comp_blob, len(k))
    else:
        width = min(n_neighbours, n_comp)
        nb_all, valid_all = np.zeros((len(w), width), np.int64), np.zeros((len(w), width), bool)
    for _ in range(max_iter):
        if use_table:
            nb, valid = table[blob[active]], filled[blob[active]]
        else:
            nb, valid = blob_neighbours(mu[active], blob[active], mean, comp_blob, n_neighbours)
            nb_all[active], valid_all[active] = nb, valid
        new = closest_by_kl(mu[active], var[active], nb, valid, mean, variance)
        changed = new != gid[active]
        if not changed.any():
            break
        touched = np.zeros(n_comp, bool)  # components that gained or lost members
        touched[gid[active[changed]]] = True
        touched[new[changed]] = True
        gid[active] = new
        _m_step(w, mu, var, gid, touched, weight, mean, variance)
        if use_table:
            moved = np.zeros(len(k), bool)
            moved[comp_blob[touched]] = True
            active = active[moved[blob[active]]]
        else:
            sub = np.flatnonzero(valid_all.any(1))
            active = sub[(touched[nb_all[sub]] & valid_all[sub]).any(1)]
    return gid, weight, mean, variance


def _kd_tree(points: np.ndarray):
    """SciPy's k-d tree of ``points`` (N, 2); SciPy is imported here, on first use, not by every ``detect``."""
    from scipy.spatial import cKDTree

    return cKDTree(points)
