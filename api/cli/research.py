"""``proforient analyze | build-norms | simulate | export | xlsform | import-submissions``: the researcher's
commands.

Each command is a thin wrapper over ``scoring.research`` (and ``reports.technical``
for the technical report): read and validate a data set, compute, write. The
research toolkit (scipy, statsmodels) is imported inside the commands only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import numpy as np
import pandas as pd
import typer
from rich.table import Table

import instruments
import scoring

from ._common import (
    CovariateOpt,
    DefinitionOpt,
    IdOpt,
    IgnoreOpt,
    ImputeOpt,
    InstrumentOpt,
    MinAnsweredOpt,
    MissingOpt,
    VersionOpt,
    err,
    fail,
    missing_keys,
    missing_policy,
    out,
    split,
    warn,
)

if TYPE_CHECKING:
    from scoring import research as rs


def _instrument(instrument: str | None, version: str | None, definition: Path | None) -> instruments.Instrument:
    from api import scoring_facade as facade

    inst = facade.load_instrument(instrument, version, definition)
    if inst.model == "intake":
        raise ValueError(f"{inst.ref} is an intake form; the research toolkit analyses scored instruments")
    return inst


def _dataset(
    path: Path,
    inst: instruments.Instrument,
    id_column: str,
    covariates: Sequence[str],
    ignore: Sequence[str],
    missing: Sequence[str],
) -> rs.Dataset:
    """Read and validate a data file (the column rule of ``scoring.tables``); unused columns are
    reported as a warning, every problem as an error."""
    import warnings

    from scoring import research as rs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rs.UnusedColumnsWarning)
        try:
            return rs.read_dataset(
                path,
                instruments.scoring_spec(inst),
                id_column=id_column or None,
                covariates=list(dict.fromkeys(covariates)),
                ignore=ignore,
                missing_codes=missing,
            )
        finally:
            for w in caught:
                if issubclass(w.category, rs.UnusedColumnsWarning):
                    warn(str(w.message))
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _report_problems(e: rs.DatasetError) -> NoReturn:
    err.print("[bold red]error:[/]", end=" ")
    err.print(
        f"{e.source}: {len(e.problems)} problem(s); nothing was imported:",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for p in e.problems:
        err.print(f"  {p}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(2)


def _refs(values: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for v in split(values):
        if "=" not in v:
            raise ValueError(f"--reference {v!r}: write it as variable=group, e.g. gender=female")
        k, g = v.split("=", 1)
        out[k.strip()] = g.strip()
    return out


DeletionOpt = Annotated[
    str,
    typer.Option(
        "--deletion",
        help="missing answers in the analysis: pairwise (psych's default), listwise-scale (each scale from the "
        "rows that answered all its items) or listwise (rows that answered every item)",
    ),
]


def deletion(value: str) -> str:
    """``--deletion`` spelling → ``item_analysis``'s ``missing`` (pairwise, listwise_scale, listwise)."""
    key = value.strip().lower().replace("-", "_")
    if key not in ("pairwise", "listwise_scale", "listwise"):
        raise ValueError(f"--deletion must be pairwise, listwise-scale or listwise (got {value!r})")
    return key


def analyze(
    data: Annotated[Path, typer.Argument(help="CSV, XLSX or SPSS .sav: one row per administration")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the report to write (.html, .json or .xlsx)")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="html, json or xlsx (default: from the output file's extension)"),
    ] = None,
    instrument: InstrumentOpt = None,
    version: VersionOpt = None,
    definition: DefinitionOpt = None,
    id_column: IdOpt = "auto",
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="grouping column for DIF (repeatable)")
    ] = None,
    reference: Annotated[
        list[str] | None, typer.Option(help="reference group, e.g. gender=female (default: the largest)")
    ] = None,
    covariate: CovariateOpt = None,
    ignore: IgnoreOpt = None,
    missing_code: MissingOpt = None,
    deletion_: DeletionOpt = "pairwise",
    impute: ImputeOpt = "none",
    min_answered: MinAnsweredOpt = None,
    factors: Annotated[int | None, typer.Option(help="factors to extract (default: parallel analysis)")] = None,
    rotation: Annotated[str, typer.Option(help="promax, varimax or none")] = "promax",
    dif_max_rows: Annotated[int, typer.Option(help="rows used for ordinal logistic DIF (random subsample)")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed (parallel analysis, subsampling)")] = 0,
    lang: Annotated[str, typer.Option("--lang", "-l", help="language of the HTML report: ka or en")] = "ka",
) -> None:
    """Write the technical report: item statistics, reliabilities, factor structure, DIF, norms.

    One analysis, written as HTML (to read, in Georgian or English), JSON (full precision; schema
    in docs/technical-report.schema.json; English field names and notes) or XLSX (one sheet per table).
    """
    from reports import technical
    from scoring import research as rs

    groups = split(group)
    try:
        chosen = (fmt or output.suffix.lstrip(".")).lower()
        if chosen not in technical.FORMATS:
            raise ValueError(
                f"--format must be html, json or xlsx (got {chosen!r}; or give -o a .html/.json/.xlsx name)"
            )
        if output.suffix.lower() not in ("", f".{chosen}"):
            raise ValueError(f"--format {chosen} does not match the output file {output.name}")
        if lang not in ("ka", "en"):
            raise ValueError(f"--lang must be ka or en (got {lang!r})")
        policy = missing_policy(impute, min_answered)
        inst = _instrument(instrument, version, definition)
        ds = _dataset(data, inst, id_column, groups + split(covariate), split(ignore), missing_keys(missing_code))
        report = technical.analyze(
            inst,
            ds,
            groups=groups,
            references=_refs(reference),
            n_factors=factors,
            rotation=rotation,
            dif_max_rows=dif_max_rows,
            seed=seed,
            missing=deletion(deletion_),  # type: ignore[arg-type]
            scores=policy,  # type: ignore[arg-type]
        )
        payload = technical.render(report, chosen, lang)
    except rs.DatasetError as e:
        _report_problems(e)
    except (instruments.InstrumentError, ValueError) as e:
        fail(str(e))
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, output)
    for note in report.meta.notes:
        warn(note)
    err.print(f"{ds.n_rows} administration(s) of {inst.ref} analysed → {output}")


def build_norms_cmd(
    data: Annotated[Path, typer.Argument(help="CSV, XLSX or SPSS .sav of the norm sample's answers")],
    norm_id: Annotated[str, typer.Option(help="name of the norm table, e.g. fund-2025")],
    norm_version: Annotated[str, typer.Option(help="version of the norm table, e.g. 1.0")],
    population: Annotated[str, typer.Option(help="who the sample represents")],
    collected_from: Annotated[str, typer.Option("--from", help="first collection date, YYYY-MM-DD")],
    collected_to: Annotated[str, typer.Option("--to", help="last collection date, YYYY-MM-DD")],
    instrument: InstrumentOpt = None,
    version: VersionOpt = None,
    definition: DefinitionOpt = None,
    id_column: IdOpt = "auto",
    group: Annotated[list[str] | None, typer.Option("--group", "-g", help="grouping column (repeatable)")] = None,
    description: Annotated[str, typer.Option(help="how the sample was drawn")] = "",
    min_group_n: Annotated[int, typer.Option(help="smallest group that gets its own table")] = 100,
    missing_code: MissingOpt = None,
    impute: ImputeOpt = "none",
    min_answered: MinAnsweredOpt = None,
    ignore: IgnoreOpt = None,
    write: Annotated[
        bool, typer.Option("--write", help="store the table under --root (otherwise only show it)")
    ] = False,
    root: Annotated[Path | None, typer.Option(help="norms folder (default: instruments/data/norms)")] = None,
) -> None:
    """Build a norm table (PR, T, stanine per group); stored only with --write.

    The scale scores follow --impute/--min-answered (default: each definition's rule); the
    table's metadata names the policy.
    """
    from scoring import research as rs

    groups = split(group)
    try:
        policy = missing_policy(impute, min_answered)
        inst = _instrument(instrument, version, definition)
        ds = _dataset(data, inst, id_column, groups, split(ignore), missing_keys(missing_code))
        start, end = dt.date.fromisoformat(collected_from), dt.date.fromisoformat(collected_to)
        table = rs.build_norms(
            ds.spec,
            ds.score(policy).scales.score,  # type: ignore[arg-type]
            responses=ds.responses,
            norm_id=norm_id,
            version=norm_version,
            population=population,
            collected_from=start,
            collected_to=end,
            groups={g: ds.group(g) for g in groups},
            description=description,
            min_group_n=min_group_n,
            scores_policy=(policy or scoring.MissingPolicy()).describe(),  # type: ignore[attr-defined]
        )
        paths = rs.write_norms(table, root or instruments.data_dir() / "norms") if write else None
    except rs.DatasetError as e:
        _report_problems(e)
    except (instruments.InstrumentError, ValueError, FileExistsError) as e:
        fail(str(e))
    view = Table(
        "group",
        "scale",
        "N",
        "raw at PR 16",
        "raw at PR 50",
        "raw at PR 84",
        title=f"norm table {table.ref} for {inst.ref} (N = {table.sample.n})",
    )
    for (g, s), t in table.table.groupby(["group", "scale"], sort=False):

        def raw_at(p: float, t: pd.DataFrame = t) -> str:
            return f"{float(t['raw'].iloc[int(np.argmin(np.abs(t['pr'].to_numpy() - p)))]):.2f}"

        view.add_row(str(g), str(s), str(int(t["n"].iloc[0])), raw_at(16), raw_at(50), raw_at(84))
    out.print(view)
    if table.reliability:
        err.print(
            "Cronbach's α in the sample (stored with the table; reports draw SEM bands from it): "
            + ", ".join(f"{sid} {r.alpha:.2f}" for sid, r in table.reliability.items())
        )
    if paths is None:
        err.print("nothing written: add --write to store this table as a versioned norm file")
    else:
        err.print(f"norm table written: {paths[0]} and {paths[1]}")


def simulate(
    output: Annotated[Path, typer.Option("--output", "-o", help=".csv, .xlsx or .sav")],
    rows: Annotated[int, typer.Option("--rows", "-n", help="respondents (when --groups is not given)")] = 1000,
    instrument: InstrumentOpt = None,
    version: VersionOpt = None,
    definition: DefinitionOpt = None,
    groups: Annotated[
        str | None, typer.Option(help="group sizes, e.g. female=500,male=500 (first = reference)")
    ] = None,
    group_means: Annotated[str | None, typer.Option(help="latent mean shifts, e.g. male=0.3")] = None,
    dif: Annotated[list[str] | None, typer.Option(help="planted DIF, ITEM=shift[:slope] (repeatable)")] = None,
    trait_corr: Annotated[float, typer.Option(help="correlation between every two scales' traits")] = 0.3,
    missing: Annotated[float, typer.Option(help="share of answers skipped at random")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    params_out: Annotated[Path | None, typer.Option(help="write the generating parameters as JSON here")] = None,
) -> None:
    """Simulate a data set from known IRT parameters (2PL / graded response)."""
    from scoring import research as rs

    try:
        inst = _instrument(instrument, version, definition)
        spec = instruments.scoring_spec(inst)
        design: int | tuple[rs.Group, ...] = rows
        if groups:
            sizes = dict(_pair(v) for v in split([groups]))
            means = {k: float(v) for k, v in (_pair(v) for v in split([group_means]))} if group_means else {}
            design = rs.as_groups({k: int(v) for k, v in sizes.items()}, means)
        elif group_means:
            raise ValueError("--group-means needs --groups")
        planted = []
        for d in split(dif):
            item, rest = _pair(d)
            shift, _, slope = rest.partition(":")
            planted.append(rs.DIF(item, float(shift), float(slope) if slope else 1.0))
        sim = rs.simulate(spec, design, trait_corr=trait_corr, dif=planted, missing=missing, seed=seed)
        rs.write_table(sim.to_frame(), output)
        if params_out is not None:
            pop = sim.population_values()
            payload = {
                "instrument": inst.ref,
                "seed": seed,
                "trait_corr": sim.trait_corr.tolist(),
                "missing": missing,
                "groups": [{"name": g.name, "n": g.n, "mean": g.mean} for g in sim.groups],
                "dif": [{"item": d.item, "shift": d.shift, "slope": d.slope, "group": d.group} for d in sim.dif],
                "items": [
                    {"id": i, "a": float(a), "b": [float(x) for x in b]}
                    for i, a, b in zip(spec.item_ids, sim.params.discrimination, sim.params.thresholds, strict=True)
                ],
                "population": [
                    {
                        "scale": p.scale,
                        "alpha": p.alpha,
                        "alpha_std": p.alpha_std,
                        "omega_total": p.omega_total,
                        "lambda6": p.lambda6,
                    }
                    for p in pop
                ],
                "synthetic": True,
            }
            params_out.parent.mkdir(parents=True, exist_ok=True)
            params_out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    except (instruments.InstrumentError, ValueError) as e:
        fail(str(e))
    err.print(f"{len(sim.responses)} simulated administration(s) of {inst.ref} → {output} (synthetic data)")


def export(
    data: Annotated[Path, typer.Argument(help="CSV, XLSX or SPSS .sav with respondent ids")],
    output: Annotated[Path, typer.Option("--output", "-o", help=".csv, .xlsx or .sav")],
    salt_file: Annotated[Path, typer.Option(help="the study's secret salt (one line); keep it with the study")],
    create_salt: Annotated[
        bool, typer.Option(help="create --salt-file with a new random salt if it does not exist")
    ] = False,
    instrument: InstrumentOpt = None,
    version: VersionOpt = None,
    definition: DefinitionOpt = None,
    id_column: IdOpt = "auto",
    covariate: CovariateOpt = None,
    ignore: IgnoreOpt = None,
    missing_code: MissingOpt = None,
    impute: ImputeOpt = "none",
    min_answered: MinAnsweredOpt = None,
    scores: Annotated[bool, typer.Option(help="add the scores next to the item answers")] = True,
) -> None:
    """Export item answers (and scores) pseudonymized: salted hashes instead of ids, no names."""
    from scoring import research as rs

    try:
        policy = missing_policy(impute, min_answered)
        if not salt_file.exists():
            if not create_salt:
                raise ValueError(f"{salt_file} does not exist; pass --create-salt to start a new study")
            salt_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(rs.new_study_salt() + "\n")
        salt = salt_file.read_text(encoding="utf-8").strip()
        inst = _instrument(instrument, version, definition)
        ds = _dataset(data, inst, id_column, split(covariate), split(ignore), missing_keys(missing_code))
        frame = rs.export_pseudonymized(ds, output, salt=salt, include_scores=scores, missing=policy)  # type: ignore[arg-type]
    except rs.DatasetError as e:
        _report_problems(e)
    except (instruments.InstrumentError, ValueError, OSError) as e:
        fail(str(e))
    err.print(f"{len(frame)} pseudonymized row(s) of {inst.ref} → {output}")


def xlsform(
    output: Annotated[Path, typer.Option("--output", "-o", help="the XLSForm to write (.xlsx)")],
    instrument: InstrumentOpt = None,
    version: VersionOpt = None,
    definition: DefinitionOpt = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", "-l", help="ka, en or both (Georgian first); default: the definition's languages"),
    ] = None,
) -> None:
    """Write an instrument as an XLSForm for ODK Collect / KoboToolbox, validated with pyxform.

    One group per section, every item an optional select_one whose choice names are the
    answers proforient reads (a skipped item stays missing); read the submissions back
    with 'proforient import-submissions'. Needs the research extra (pyxform).
    """
    from api import scoring_facade as facade
    from instruments import xlsform as xf

    try:
        inst = facade.load_instrument(instrument, version, definition)
        xf.write_xlsform(inst, output, lang)
        try:
            _, notes = xf.validate_xlsform(output)
        except ValueError:
            output.unlink(missing_ok=True)
            raise
    except (instruments.InstrumentError, ValueError) as e:
        fail(str(e))
    for note in notes:
        warn(f"pyxform: {note}")
    langs = "+".join(x for x in ("ka", "en") if x in inst.languages) if lang is None else lang
    err.print(f"XLSForm of {inst.ref} ({langs}) → {output} (pyxform: valid)")


def import_submissions(
    data: Annotated[Path, typer.Argument(help="an ODK Central or KoboToolbox export (CSV with , or ;, or XLSX)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the clean table: .csv, .xlsx or .sav")],
    instrument: InstrumentOpt = None,
    version: VersionOpt = None,
    definition: DefinitionOpt = None,
    id_column: IdOpt = "auto",
    covariate: CovariateOpt = None,
    ignore: IgnoreOpt = None,
    missing_code: MissingOpt = None,
) -> None:
    """Import the submissions of an instrument's XLSForm into a clean table (id, covariates, items).

    Group prefixes (main/VDQ01, main-VDQ01) are removed and the tools' metadata columns
    (_uuid, _submission_time, start, meta/instanceID, …) left out; the answers are validated
    as every other import (every problem listed, nothing written on any). The table is what
    score, analyze, build-norms and export read.
    """
    from scoring import research as rs

    try:
        inst = service_instrument(instrument, version, definition)
        if inst.model == "intake":
            codes = missing_keys(missing_code)
            frame = _intake_submissions(inst, data, id_column, split(covariate), split(ignore), codes)
        else:
            spec = instruments.scoring_spec(inst)
            ds = _read_with_warnings(
                lambda: rs.read_submissions(
                    data,
                    spec,
                    id_column=id_column or None,
                    covariates=split(covariate),
                    ignore=split(ignore),
                    missing_codes=missing_keys(missing_code),
                )
            )
            frame = pd.DataFrame({"id": ds.ids})
            for c in ds.covariates.columns:
                frame[c] = ds.covariates[c].to_numpy(dtype=object)
            for j, item in enumerate(spec.item_ids):
                col = pd.array(ds.responses[:, j].astype(np.int64), dtype="Int64")
                col[ds.responses[:, j] == scoring.MISSING] = pd.NA
                frame[item] = col
        rs.write_table(frame, output)
    except rs.DatasetError as e:
        _report_problems(e)
    except scoring.ResponseValidationError as e:
        fail(f"{data}: nothing was written.\n{e}")
    except (instruments.InstrumentError, ValueError) as e:
        fail(str(e))
    err.print(f"{len(frame)} submission(s) of {inst.ref} → {output}")


def service_instrument(instrument: str | None, version: str | None, definition: Path | None) -> instruments.Instrument:
    from api import scoring_facade as facade

    return facade.load_instrument(instrument, version, definition)


def _read_with_warnings(read: Callable[[], rs.Dataset]) -> rs.Dataset:
    import warnings

    from scoring import research as rs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rs.UnusedColumnsWarning)
        try:
            return read()
        finally:
            for w in caught:
                if issubclass(w.category, rs.UnusedColumnsWarning):
                    warn(str(w.message))
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _intake_submissions(
    inst: instruments.Instrument,
    path: Path,
    id_column: str,
    covariates: Sequence[str],
    ignore: Sequence[str],
    codes: Sequence[str],
) -> pd.DataFrame:
    """An intake form's submissions: headers mapped, select_multiple answers ';'-joined, validated."""
    from api import scoring_facade as facade
    from api.tableio import read_table
    from scoring.tables import sniff_delimiter, submission_columns

    if path.suffix.lower() == ".csv" and path.is_file():
        with path.open(encoding="utf-8-sig") as fh:
            sep = sniff_delimiter(fh.readline())
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=sep)
    else:
        raw = pd.concat(list(read_table(path)), ignore_index=True)
    multi = {f.id: [o.value for o in f.options] for f in inst.fields if f.type == "multi"}
    names = [*(f.id for f in inst.fields), "id", "proforient_instrument", "proforient_hash"]
    cols = submission_columns(list(raw.columns), names, multi)
    raw.columns = list(cols.header)
    for check, expected in (("proforient_instrument", inst.ref), ("proforient_hash", inst.content_hash[:12])):
        if check in raw.columns:
            wrong = sorted({str(v).strip() for v in raw[check] if str(v).strip() and str(v).strip() != expected})
            if wrong:
                raise ValueError(f"{path}: these submissions come from a form of {', '.join(wrong)}, not of {expected}")
    for fid in multi:
        if fid in raw.columns:
            raw[fid] = raw[fid].map(lambda v: ";".join(str(v).split()) if isinstance(v, str) else v)
    skip = [*cols.metadata, *cols.expansions, "proforient_instrument", "proforient_hash"]
    keep = {id_column, *covariates}
    columns = facade.Columns.detect(
        list(raw.columns),
        id_column=id_column or None,
        keep=covariates,
        ignore=[*ignore, *(c for c in skip if c not in keep)],
        inst=inst,
    )
    if columns.unused:
        from scoring.tables import unused_columns_message

        warn(f"{path}: {unused_columns_message(columns.unused)}")
    facade.score_frame(inst, raw, columns, missing_codes=codes)  # validates every answer (raises on any)
    out = pd.DataFrame({"id": raw[columns.id] if columns.id else range(1, len(raw) + 1)})
    for c in columns.keep:
        out[c] = raw[c]
    for f in inst.fields:
        out[f.id] = raw[f.id] if f.id in raw.columns else ""
    return out


def _pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ValueError(f"{text!r}: expected name=value")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def register(app: typer.Typer) -> None:
    """Add analyze, build-norms, simulate and export to ``app``."""
    app.command()(analyze)
    app.command("build-norms")(build_norms_cmd)
    app.command()(simulate)
    app.command()(export)
    app.command()(xlsform)
    app.command("import-submissions")(import_submissions)
