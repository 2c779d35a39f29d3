"""Simulate responses from known IRT parameters, in the engine's int8 encoding.

Like/dislike items follow the two-parameter logistic model (Birnbaum, 1968),
1–4 and paired items Samejima's (1969) graded response model; each scale has
its own latent trait, the traits are correlated as asked, groups may differ
in their latent means, and planted DIF items behave differently in a focal
group at the same trait level. Used to test every estimator by parameter
recovery, and by researchers to plan sample sizes.

References
----------
Birnbaum, A. (1968). Some latent trait models. In Lord & Novick, *Statistical
theories of mental test scores*, ch. 17.
Samejima, F. (1969). Estimation of latent ability using a response pattern of
graded scores. *Psychometrika Monograph* 17.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._spec import MISSING, InstrumentSpec
from ._coefficients import cov2cor, cronbach_alpha, guttman_lambda6, omega_total


@dataclass(frozen=True, eq=False)
class ItemParameters:
    """IRT parameters of every item, in the *scored* direction (higher = more of the trait).

    ``thresholds[j]`` holds the C − 1 increasing category boundaries b_jc of
    item j: P(S ≥ c | θ) = 1 / (1 + exp(−a_j (θ − b_jc))), c = 1…C − 1 (for a
    like/dislike item C = 2 and this is the 2PL).
    """

    discrimination: np.ndarray
    thresholds: np.ndarray

    def __post_init__(self) -> None:
        a, b = np.asarray(self.discrimination, float), np.asarray(self.thresholds, float)
        if a.ndim != 1 or b.ndim != 2 or len(a) != len(b):
            raise ValueError(
                f"discrimination must be (items,) and thresholds (items, C−1); got {a.shape} and {b.shape}"
            )
        if np.any(a <= 0) or not np.all(np.isfinite(a)):
            raise ValueError("every discrimination must be a positive finite number")
        if b.shape[1] > 1 and np.any(np.diff(b, axis=1) <= 0):
            raise ValueError("each item's thresholds must be strictly increasing")


@dataclass(frozen=True)
class Group:
    """A simulated group: its size and its latent mean (one number for every scale, or one per scale)."""

    name: str
    n: int
    mean: float | tuple[float, ...] = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.n, int | np.integer) or self.n < 1:
            raise ValueError(f"group {self.name!r}: n must be a positive whole number, got {self.n!r}")


@dataclass(frozen=True)
class DIF:
    """A planted DIF item: in ``group`` (every group but the first when None) the item's
    thresholds move by ``shift`` (uniform DIF; positive = lower scores at the same trait level)
    and its slope on θ is multiplied by ``slope`` at unchanged intercepts (non-uniform DIF when ≠ 1)."""

    item: str
    shift: float = 0.0
    slope: float = 1.0
    group: str | None = None

    def __post_init__(self) -> None:
        if self.slope <= 0:
            raise ValueError(f"DIF on {self.item}: slope must be positive, got {self.slope}")


@dataclass(frozen=True)
class PopulationValues:
    """Population reliabilities of a scale's observed scores under the simulation model."""

    scale: str
    alpha: float
    alpha_std: float
    omega_total: float
    lambda6: float


@dataclass(frozen=True, eq=False)
class SimulatedData:
    """A simulated data set and everything it was generated from."""

    spec: InstrumentSpec
    responses: np.ndarray
    """rows × items int8, raw answers as a respondent would give them (``MISSING`` = skipped)."""
    theta: np.ndarray
    """rows × scales latent traits."""
    group: np.ndarray
    params: ItemParameters
    trait_corr: np.ndarray
    groups: tuple[Group, ...]
    dif: tuple[DIF, ...]
    missing: float
    seed: int | None
    synthetic: bool = field(default=True, init=False)

    def to_frame(self, id_prefix: str = "SIM") -> pd.DataFrame:
        """id, group and the item answers (nullable integers; skipped = <NA>)."""
        width = len(str(len(self.responses)))
        cols: dict[str, object] = {
            "id": [f"{id_prefix}{i:0{width}d}" for i in range(1, len(self.responses) + 1)],
            "group": self.group,
        }
        for j, item in enumerate(self.spec.item_ids):
            col = self.responses[:, j]
            values = pd.array(col.astype(np.int64), dtype="Int64")
            values[col == MISSING] = pd.NA
            cols[item] = values
        return pd.DataFrame(cols)

    def population_values(self) -> tuple[PopulationValues, ...]:
        """α, standardized α, ω total and λ6 each scale has in the simulated population."""
        return population_values(self.spec, self.params, self.groups, self.dif)


def _categories(spec: InstrumentSpec) -> np.ndarray:
    """Scored values in increasing order (category index s → value)."""
    if spec.kind == "paired":
        return np.array([*range(-spec.max, 0), *range(1, spec.max + 1)], dtype=np.int16)
    return np.arange(spec.min, spec.max + 1, dtype=np.int16)


def random_parameters(
    spec: InstrumentSpec, seed: int | None = None, *, discrimination: tuple[float, float] = (1.0, 2.2)
) -> ItemParameters:
    """Plausible item parameters: a ~ U(discrimination), thresholds spread around a N(0, .5) centre.

    Like/dislike: b ~ N(0, .8). Graded items: C − 1 thresholds evenly spaced
    over [−1.5, 1.5] (ordinal) or [−2, 2] (paired), jittered by N(0, .15) and
    kept strictly increasing.
    """
    lo, hi = discrimination
    if not 0 < lo <= hi:
        raise ValueError(f"discrimination range must satisfy 0 < low ≤ high, got {discrimination}")
    rng = np.random.default_rng(seed)
    p = len(spec.items)
    n_cat = len(_categories(spec))
    a = rng.uniform(lo, hi, p)
    if n_cat == 2:
        b = rng.normal(0.0, 0.8, (p, 1))
    else:
        span = 2.0 if spec.kind == "paired" else 1.5
        base = np.linspace(-span, span, n_cat - 1)
        b = rng.normal(0.0, 0.5, (p, 1)) + base + rng.normal(0.0, 0.15, (p, n_cat - 1))
        b = np.sort(b, axis=1)
        gap = np.diff(b, axis=1)
        b[:, 1:] = b[:, :1] + np.cumsum(np.maximum(gap, 0.2), axis=1)
    return ItemParameters(a, b)


def _trait_of(spec: InstrumentSpec) -> list[tuple[int, int, float, int]]:
    """Per item: (trait index, second trait for forced choice or −1, sign applied to the raw answer,
    whose parameters to use: the item's own, or its original's for a repeated pair)."""
    out: list[tuple[int, int, float, int]] = []
    for j, it in enumerate(spec.items):
        if it.scale is not None:
            out.append((it.scale, -1, float(it.keyed), j))
        elif it.left_scale is not None and it.right_scale is not None:
            out.append((it.right_scale, it.left_scale, 1.0, j))
        elif it.repeat_of is not None:
            orig = spec.items[it.repeat_of]
            if orig.scale is None:
                raise ValueError(f"item {it.id} repeats {orig.id}, which scores no scale")
            out.append((orig.scale, -1, -float(orig.keyed), it.repeat_of))
        else:
            raise ValueError(f"item {it.id} scores no scale; nothing to simulate it from")
    return out


def _trait_matrix(trait_corr: float | np.ndarray, m: int) -> np.ndarray:
    if np.ndim(trait_corr) == 0:
        r = np.full((m, m), float(trait_corr))
        np.fill_diagonal(r, 1.0)
    else:
        r = np.asarray(trait_corr, dtype=float)
        if r.shape != (m, m):
            raise ValueError(f"trait_corr must be {m} × {m} (one row per scale), got {r.shape}")
        if not np.allclose(r, r.T) or not np.allclose(np.diag(r), 1.0):
            raise ValueError("trait_corr must be a symmetric correlation matrix with ones on the diagonal")
    try:
        np.linalg.cholesky(r)
    except np.linalg.LinAlgError as exc:
        raise ValueError("trait_corr is not positive definite") from exc
    return r


def _group_means(g: Group, m: int) -> np.ndarray:
    mu = np.asarray(g.mean, dtype=float)
    if mu.ndim == 0:
        return np.full(m, float(mu))
    if mu.shape != (m,):
        raise ValueError(f"group {g.name!r}: mean needs one value per scale ({m}), got {mu.shape[0]}")
    return mu


def _dif_table(spec: InstrumentSpec, groups: Sequence[Group], dif: Sequence[DIF]) -> tuple[np.ndarray, np.ndarray]:
    """(shift, slope) arrays of shape groups × items."""
    names = [g.name for g in groups]
    index = {item: j for j, item in enumerate(spec.item_ids)}
    shift = np.zeros((len(groups), len(spec.items)))
    slope = np.ones((len(groups), len(spec.items)))
    for d in dif:
        if d.item not in index:
            raise ValueError(f"DIF item {d.item!r} is not an item of {spec.ref}")
        if d.group is not None and d.group not in names:
            raise ValueError(f"DIF on {d.item}: no group named {d.group!r} (groups: {', '.join(names)})")
        targets = [names.index(d.group)] if d.group is not None else list(range(1, len(groups)))
        if not targets:
            raise ValueError(f"DIF on {d.item} needs a focal group: give two or more groups")
        for g in targets:
            shift[g, index[d.item]] += d.shift
            slope[g, index[d.item]] *= d.slope
    return shift, slope


def _cum_prob(theta: np.ndarray, a: np.ndarray | float, b: np.ndarray, slope: np.ndarray | float = 1.0) -> np.ndarray:
    """P(S ≥ c | θ) = logistic(a (slope·θ − b_c)) for every threshold: (..., C − 1)."""
    z = np.asarray(a)[..., None] * ((np.asarray(slope) * theta)[..., None] - b)
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))  # the logistic, without overflow warnings


def simulate(
    spec: InstrumentSpec,
    n: int | Sequence[Group],
    *,
    params: ItemParameters | None = None,
    trait_corr: float | np.ndarray = 0.3,
    dif: Sequence[DIF] = (),
    missing: float = 0.0,
    seed: int | None = None,
) -> SimulatedData:
    """Generate a data set in the engine's encoding from known parameters.

    Parameters
    ----------
    spec : InstrumentSpec
        The instrument: response kind, items, scales and keys.
    n : int or sequence of Group
        Respondents (one group named "all") or the groups with their sizes
        and latent means; the first group is the reference group.
    params : ItemParameters, optional
        Item parameters in the scored direction; ``random_parameters(spec, seed)`` by default.
    trait_corr : float or ndarray
        Correlation between every two scales' traits, or the full scales × scales matrix.
    dif : sequence of DIF
        Planted DIF items.
    missing : float
        Share of answers skipped completely at random (coded ``MISSING``).
    seed : int, optional

    Returns
    -------
    SimulatedData

    Notes
    -----
    θ ~ N(μ_g, Σ) per group g. For item j on trait t with category values
    v_0 < … < v_{C−1}: P(S ≥ c | θ) = logistic(a_j (θ_t − b_jc)),
    S = #{c : U < P(S ≥ c)} with U ~ U(0, 1) (Samejima's graded response
    model; the 2PL when C = 2). A DIF item in its focal group has
    P(S ≥ c | θ) = logistic(a_j (s·θ − b_jc − δ)) with δ = ``shift`` and
    s = ``slope``: the slope on θ changes while the item's intercepts a_j b_jc
    stay, so its response curves cross the reference group's (non-uniform DIF
    in the logistic-regression sense of Swaminathan & Rogers, 1990). The raw
    answer is v_S, reflected for a reversed item (min + max − v, or −v for
    paired items). A repeated PPI pair is drawn again (independently) from
    its original's parameters and mirrored; a forced choice between two scales
    uses (θ_right − θ_left)/√2.

    Examples
    --------
    >>> import instruments
    >>> spec = instruments.scoring_spec(instruments.load("sds"))
    >>> sim = simulate(spec, [Group("f", 300), Group("m", 300, 0.5)], dif=[DIF("SDS_ACT_R1", 1.0)], seed=3)
    >>> sim.responses.shape, sim.responses.dtype.name
    ((600, 132), 'int8')
    """
    groups = tuple([Group("all", int(n))] if isinstance(n, int | np.integer) else n)
    if not groups:
        raise ValueError("give at least one group")
    if len({g.name for g in groups}) != len(groups):
        raise ValueError("group names must be distinct")
    if not 0 <= missing < 1:
        raise ValueError(f"missing must be a share in [0, 1), got {missing}")
    m = len(spec.scales)
    p = len(spec.items)
    corr = _trait_matrix(trait_corr, m)
    params = params if params is not None else random_parameters(spec, seed)
    cats = _categories(spec)
    if params.discrimination.shape != (p,) or params.thresholds.shape != (p, len(cats) - 1):
        raise ValueError(
            f"{spec.ref} needs parameters for {p} items with {len(cats) - 1} thresholds each, got "
            f"{params.discrimination.shape} and {params.thresholds.shape}"
        )
    shift, slope = _dif_table(spec, groups, dif)
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(corr)
    sizes = np.array([g.n for g in groups])
    total = int(sizes.sum())
    gidx = np.repeat(np.arange(len(groups)), sizes)
    mu = np.stack([_group_means(g, m) for g in groups])
    theta = rng.standard_normal((total, m)) @ chol.T + mu[gidx]
    traits = _trait_of(spec)
    out = np.empty((total, p), dtype=np.int8)
    for j, (t, t2, sign, q) in enumerate(traits):
        th = theta[:, t] if t2 < 0 else (theta[:, t] - theta[:, t2]) / np.sqrt(2.0)
        b = params.thresholds[q][None, :] + shift[gidx, j][:, None]
        s = (rng.random(total)[:, None] < _cum_prob(th, params.discrimination[q], b, slope[gidx, j])).sum(axis=1)
        v = cats[s]
        if sign < 0:
            v = -v if spec.kind == "paired" else (spec.min + spec.max) - v
        out[:, j] = v
    if missing > 0:
        out[rng.random(out.shape) < missing] = MISSING
    names = np.array([g.name for g in groups], dtype=object)
    return SimulatedData(
        spec=spec,
        responses=out,
        theta=theta,
        group=names[gidx],
        params=params,
        trait_corr=corr,
        groups=groups,
        dif=tuple(dif),
        missing=missing,
        seed=seed,
    )


def population_values(
    spec: InstrumentSpec,
    params: ItemParameters,
    groups: Sequence[Group] | None = None,
    dif: Sequence[DIF] = (),
    *,
    nodes: int = 121,
) -> tuple[PopulationValues, ...]:
    """Population α, standardized α, ω total and λ6 of each scale's observed (scored) items.

    The population covariance of the scored answers is computed exactly (up to
    quadrature error) by Gauss–Hermite integration over each group's trait
    distribution θ ~ N(μ_g, 1) and mixed over groups in proportion to their
    sizes: E[x_j x_k] = Σ_g π_g ∫ E[x_j|θ,g] E[x_k|θ,g] φ_g(θ) dθ (j ≠ k, local
    independence), E[x_j²] likewise with E[x_j²|θ,g]. The coefficients are then
    the same functions ``item_analysis`` applies to a sample, so a sample
    estimate converges to these values.
    """
    groups = tuple(groups) if groups else (Group("all", 1),)
    m = len(spec.scales)
    cats = _categories(spec).astype(float)
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    shift, slope = _dif_table(spec, groups, dif)
    pi = np.array([g.n for g in groups], dtype=float)
    pi = pi / pi.sum()
    out = []
    for k, s in enumerate(spec.scales):
        idx = np.array([j for j, it in enumerate(spec.items) if it.scale == k], dtype=np.intp)
        if len(idx) < 2:
            continue
        ex = np.zeros(len(idx))
        exx = np.zeros((len(idx), len(idx)))
        for g_i, g in enumerate(groups):
            theta = _group_means(g, m)[k] + t  # nodes
            a = params.discrimination[idx]
            b = params.thresholds[idx] + shift[g_i, idx][:, None]
            cum = _cum_prob(
                theta[None, :], a[:, None], b[:, None, :], slope[g_i, idx][:, None]
            )  # items × nodes × (C−1)
            ones = np.ones(cum.shape[:2] + (1,))
            zeros = np.zeros(cum.shape[:2] + (1,))
            probs = np.concatenate([ones, cum], axis=2) - np.concatenate([cum, zeros], axis=2)
            m1 = probs @ cats  # items × nodes
            m2 = probs @ cats**2
            ex += pi[g_i] * (m1 @ w)
            cross = (m1 * w) @ m1.T
            np.fill_diagonal(cross, m2 @ w)
            exx += pi[g_i] * cross
        cov = exx - np.outer(ex, ex)
        r = cov2cor(cov)
        out.append(PopulationValues(s.id, cronbach_alpha(cov), cronbach_alpha(r), omega_total(r), guttman_lambda6(r)))
    return tuple(out)


def as_groups(sizes: Mapping[str, int], means: Mapping[str, float] | None = None) -> tuple[Group, ...]:
    """Groups from ``{"name": n}`` (and optional ``{"name": latent mean}``), in the given order."""
    means = dict(means or {})
    unknown = set(means) - set(sizes)
    if unknown:
        raise ValueError(f"latent means given for unknown groups: {', '.join(sorted(unknown))}")
    return tuple(Group(name, int(n), float(means.get(name, 0.0))) for name, n in sizes.items())


def planning_spec(
    kind: Literal["ordinal", "binary", "paired"] = "ordinal",
    scales: int | Sequence[int] = 6,
    items_per_scale: int = 8,
    *,
    low: int | None = None,
    high: int | None = None,
    reversed_every: int = 0,
    instrument_id: str = "planning",
) -> InstrumentSpec:
    """A bare instrument spec for planning studies and benchmarks (no texts, no bands).

    ``kind`` is ``ordinal`` (default range 1–4), ``binary`` (0/1) or ``paired``
    (−3…3; ``high`` is the highest rating); ``scales`` is a count (each with
    ``items_per_scale`` items) or a list of item counts; every
    ``reversed_every``-th item of a scale is reverse keyed (0: none). Items are
    interleaved across scales (S1_01, S2_01, …) as in a printed questionnaire.

    >>> planning_spec("ordinal", 6, 8).item_ids[:3]
    ('S1_01', 'S2_01', 'S3_01')
    """
    from .._spec import ItemKey, ScaleSpec

    defaults = {"ordinal": (1, 4), "binary": (0, 1), "paired": (1, 3)}
    if kind not in defaults:
        raise ValueError(f"kind must be ordinal, binary or paired, got {kind!r}")
    lo = defaults[kind][0] if low is None else low
    hi = defaults[kind][1] if high is None else high
    counts = [items_per_scale] * scales if isinstance(scales, int) else list(scales)
    if not counts or any(c < 2 for c in counts):
        raise ValueError("every scale needs at least two items")
    if reversed_every < 0:
        raise ValueError(f"reversed_every must be 0 or positive, got {reversed_every}")
    items = []
    for i in range(max(counts)):
        for k, c in enumerate(counts):
            if i < c:
                keyed = -1 if reversed_every and (i + 1) % reversed_every == 0 else 1
                items.append(ItemKey(id=f"S{k + 1}_{i + 1:02d}", section="main", scale=k, keyed=keyed))
    scale_specs = tuple(
        ScaleSpec(
            id=f"S{k + 1}",
            role="scale",
            score="sum",
            n_items=c,
            min_answered=c - (c * 20) // 100,
            band_ids=("all",),
            band_below=(),
        )
        for k, c in enumerate(counts)
    )
    return InstrumentSpec(
        id=instrument_id,
        version="0",
        content_hash="planning",
        model="generic",
        kind=kind,
        min=lo,
        max=hi,
        items=tuple(items),
        scales=scale_specs,
        sections=("main",),
    )
