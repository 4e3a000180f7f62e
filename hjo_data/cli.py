"""Command line: ``python -m hjo_data <command> ...``.

Subcommands live in a registry; adding one is a small function plus an optional argument
configurator::

    def _report_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--period")

    @subcommand("report", help="Skriv en lägesbild", configure=_report_args)
    def cmd_report(args: argparse.Namespace) -> int:
        ...
        return 0

Exit codes of ``ingest``: 0 every row accepted (duplicates are fine), 1 some rows
rejected (the rest stored, or nothing with --strict), 2 the file could not be read at all,
is missing, or matches no dataset (nothing stored), 3 unexpected internal error.

Each subcommand imports the modules it needs inside its function ("lazy" below): ``--help``
starts in a tenth of a second, while pandas, pyarrow and the report modules take seconds to
import.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hjo_data.errors import HjoDataError
from hjo_data.schema import DATASETS

__all__ = ["SUBCOMMANDS", "Subcommand", "build_parser", "main", "subcommand"]

EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3
#: Rows with errors shown in the human summary.
SHOWN_ERRORS = 20
_REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    configure: Callable[[argparse.ArgumentParser], None] | None = None


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(
    name: str, *, help: str, configure: Callable[[argparse.ArgumentParser], None] | None = None
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register ``func(args) -> exit code`` as ``python -m hjo_data <name>``."""

    def deco(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        SUBCOMMANDS[name] = Subcommand(name=name, help=help, run=func, configure=configure)
        return func

    return deco


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")
    sys.stderr.flush()


def _store(path: str | None):  # -> Store
    from hjo_data.store import Store  # lazy: startup time

    return Store(path)


# ----------------------------------------------------------------------------- ingest

def _ingest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FIL",
                   help="CSV-, Excel- (.xlsx, .xls) eller JSON-fil att läsa in")
    p.add_argument("--dataset", metavar="NAMN",
                   help=f"datamängd (annars känns den igen): {', '.join(DATASETS)}")
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store)")
    p.add_argument("--json", action="store_true", help="skriv en JSON-rapport på stdout")
    p.add_argument("--strict", action="store_true",
                   help="spara ingenting om någon rad avvisas")
    p.add_argument("--replace", action="store_true",
                   help="en rad vars id redan finns i datalagret med annat innehåll ersätter "
                   "den lagrade raden (loggas; utan flaggan avvisas raden som konflikt)")
    p.add_argument("--sheet", metavar="BLAD", help="Excel: bladets namn (standard: första)")
    p.add_argument("--dry-run", action="store_true",
                   help="kontrollera bara filen: visa rapporten men spara ingenting")
    p.add_argument("--max-mb", type=float, default=None, metavar="MB",
                   help="största filstorlek i MB (standard: ingen gräns; uppladdningsgränsen "
                   "HJO_MAX_UPLOAD_MB gäller bara webbsidan)")
    p.add_argument("--profile", metavar="NAMN",
                   help="importprofil (sparad i guiden på Datahantering; lista med "
                   "'python -m hjo_data profiles')")


def _cli_max_bytes(max_mb: float | None) -> int:
    """The CLI's own size limit: none by default (an operator's file, not an upload)."""
    from hjo_data.rawtable import NO_LIMIT  # lazy: startup time (pandas)

    return NO_LIMIT if max_mb is None else max(0, int(max_mb * 1024 * 1024))


def _human_report(report) -> str:  # IngestReport
    from hjo_data.ingest import swedish_int  # lazy: startup time

    ds = DATASETS[report.dataset]
    delim = {"\t": "tab"}.get(report.delimiter, report.delimiter)
    delim_text = f", avgränsare '{delim}'" if delim else ""
    lines = [
        report.message,
        f"Datamängd: {ds.label} ({ds.name}); teckenkodning {report.encoding}{delim_text}; "
        f"batch {report.batch_id}.",
    ]
    if report.skipped:
        lines.append("Överhoppade (inga rader): " + ", ".join(
            f"{reason} {swedish_int(n)}" for reason, n in report.skipped_reasons.items()))
    if report.warnings:
        lines.append("Varningar:")
        lines.extend(f"  - {w}" for w in report.warnings)
    if report.rejection_summary:
        lines.append("Avvisat per kolumn och värde:")
        lines.extend(f"  - {line}" for line in report.rejection_summary)
    if report.rejected:
        shown = report.errors[:SHOWN_ERRORS]
        head = (f"Avvisade rader (de första {len(shown)} av {swedish_int(report.rejected)}):"
                if report.rejected > len(shown) else "Avvisade rader:")
        lines.append(head)
        for e in shown:
            value = f" (värde '{e.value}')" if e.value and any(
                part not in e.reason for part in e.value.split("; ")) else ""
            lines.append(f"  rad {e.line}, kolumn '{e.column}': {e.reason}{value}")
        if report.rejected_file:
            lines.append(f"Alla avvisade rader finns i {report.rejected_file}")
    return "\n".join(lines)


def _profile_hint(store, headers: list[str] | None, path: str | None = None,
                  sheet: str | None = None) -> str | None:
    """The saved profile with the file's header signature (read from ``path`` when the
    headers are not known because the ingest failed)."""
    from hjo_data import profiles, reading  # lazy: startup time

    if store is None:
        return None
    try:
        if headers is None:
            headers = reading.read_raw(path, sheet=sheet, max_bytes=reading.NO_LIMIT).headers
        found = profiles.find_profile(headers, root=store.root)
    except HjoDataError:
        return None
    return found.name if found is not None else None


@subcommand("ingest", help="läs in en CSV-, Excel- eller JSON-fil i datalagret",
            configure=_ingest_args)
def cmd_ingest(args: argparse.Namespace) -> int:
    from hjo_data.ingest import ingest_file, prepare_ingest  # lazy: startup time
    from hjo_data.profiles import load_profile  # lazy: startup time

    name = Path(args.file).name
    profile_name = getattr(args, "profile", None)
    store = None
    try:
        store = _store(args.store)
        profile = load_profile(profile_name, store.root) if profile_name else None
        replace = bool(getattr(args, "replace", False))
        max_bytes = _cli_max_bytes(getattr(args, "max_mb", None))
        if getattr(args, "dry_run", False):
            # The upload page's dry run: read + validate, nothing written.
            prepared = prepare_ingest(args.file, dataset=args.dataset, store=store,
                                      sheet=getattr(args, "sheet", None),
                                      max_bytes=max_bytes, profile=profile)
            return _print_dry_run(prepared, args.json, replace)
        # Audited like an upload on the web page (committed with the batch); a large
        # CSV file is streamed (ingest_file).
        report = ingest_file(args.file, dataset=args.dataset, store=store,
                             sheet=getattr(args, "sheet", None), max_bytes=max_bytes,
                             profile=profile, strict=args.strict, replace=replace,
                             user=os.environ.get("USER") or None, audit_action="upload",
                             role="cli")
    except HjoDataError as exc:
        message = f"Kunde inte läsa in '{name}': {exc}"
        hint = None if profile_name else _profile_hint(store, None, args.file,
                                                        getattr(args, "sheet", None))
        if hint:
            message += f"\n{_hint_text(hint)}"
        _err(message)
        if args.json:
            _print_json({"file": name, "error": str(exc), "message": message, "stored": False,
                         "profile_hint": hint})
        return EXIT_UNREADABLE
    hint = None if profile_name else _profile_hint(store, report.headers)
    if args.json:
        out = report.to_dict()
        out["profile"] = profile_name
        out["profile_hint"] = hint
        _print_json(out)
    else:
        print(_human_report(report))
        if profile_name:
            print(f"Importprofil: {profile_name}")
    if hint:
        _err(_hint_text(hint))
    return EXIT_OK if report.ok else EXIT_REJECTED


def _hint_text(name: str) -> str:
    return (f"Tips: filen har samma rubriker som importprofilen '{name}'. Läs in den med "
            f"--profile '{name}' så används profilens kopplingar.")


def _profiles_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store); profilerna ligger i MAPP/profiles")
    p.add_argument("--json", action="store_true", help="skriv listan som JSON")


@subcommand("profiles", help="lista sparade importprofiler", configure=_profiles_args)
def cmd_profiles(args: argparse.Namespace) -> int:
    from hjo_data.profiles import IGNORE, list_profiles, profiles_dir  # lazy: startup time

    store = _store(args.store)
    found, problems = list_profiles(store.root)
    rows = [{"name": p.name, "dataset": p.dataset,
             "columns": sum(1 for t in p.columns.values() if t != IGNORE),
             "ignored": sum(1 for t in p.columns.values() if t == IGNORE),
             "values": sum(len(m) for m in p.values.values())} for p in found]
    if args.json:
        _print_json({"folder": str(profiles_dir(store.root)), "profiles": rows,
                     "problems": problems})
    else:
        if not rows:
            print(f"Inga importprofiler sparade i {profiles_dir(store.root)}.")
        for r in rows:
            print(f"{r['name']}: {DATASETS[r['dataset']].label} ({r['dataset']}), "
                  f"{r['columns']} kolumner kopplade, {r['ignored']} ignoreras, "
                  f"{r['values']} värden översätts")
        for problem in problems:
            _err(problem)
    return EXIT_OK if not problems else EXIT_REJECTED


def _print_dry_run(prepared, as_json: bool, replace: bool = False) -> int:  # PreparedIngest
    from hjo_data.ingest import conflict_rows_left  # lazy: startup time

    rejected = prepared.rejected_rows()
    conflicts = prepared.conflict_rows()
    left = conflict_rows_left(prepared, replace)
    if as_json:
        _print_json({
            "file": prepared.file, "dataset": prepared.dataset.name, "dry_run": True,
            "rows_read": prepared.rows_read, "new_rows": prepared.new_rows,
            "rejected": prepared.rejected, "duplicates": prepared.duplicates,
            "warnings": prepared.warnings, "headers": prepared.header_preview,
            "errors": rejected.head(1000).to_dict("records"), "stored": False,
            "rejection_summary": prepared.rejection_summary, "message": prepared.message,
            "conflicts": len(conflicts), "conflict_rows": conflicts.head(1000).to_dict("records"),
        })
    else:
        lines = [prepared.message + " (provläsning – inget sparades)",
                 f"Datamängd: {prepared.dataset.label} ({prepared.dataset.name})."]
        lines.append("Kolumner:")
        lines.extend(f"  {h} -> {label}" for h, label in prepared.header_preview)
        if prepared.warnings:
            lines.append("Varningar:")
            lines.extend(f"  - {w}" for w in prepared.warnings)
        if prepared.rejection_summary:
            lines.append("Avvisat per kolumn och värde:")
            lines.extend(f"  - {line}" for line in prepared.rejection_summary)
        for rec in rejected.head(SHOWN_ERRORS).to_dict("records"):
            lines.append(f"  rad {rec['rad']}, kolumn '{rec['kolumn']}': {rec['orsak']}")
        for rec in conflicts.head(SHOWN_ERRORS).to_dict("records"):
            lines.append(f"  rad {rec['rad']}, kolumn '{rec['kolumn']}': {rec['orsak']}")
        print("\n".join(lines))
    return EXIT_OK if prepared.rejected == 0 and not left else EXIT_REJECTED


# ----------------------------------------------------------------------------- withdraw

def _withdraw_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("batch_id", metavar="BATCH_ID", help="batch-id ur inläsningsloggen")
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store)")
    p.add_argument("--json", action="store_true", help="skriv resultatet som JSON")


@subcommand("withdraw", help="återkalla en inläsning (ta bort exakt de rader den lade till)",
            configure=_withdraw_args)
def cmd_withdraw(args: argparse.Namespace) -> int:
    """Exit codes: 0 withdrawn, 2 unknown / already withdrawn batch."""
    store = _store(args.store)
    try:
        result = store.withdraw(args.batch_id, user=os.environ.get("USER") or None)
    except HjoDataError as exc:
        _err(str(exc))
        if args.json:
            _print_json({"batch_id": args.batch_id, "error": str(exc), "withdrawn": False})
        return EXIT_UNREADABLE
    if args.json:
        _print_json({"batch_id": result.batch_id, "dataset": result.dataset,
                     "removed": result.removed, "kept": result.kept, "withdrawn": True,
                     "message": result.message})
    else:
        print(result.message)
    return EXIT_OK


# ----------------------------------------------------------------------------- backup

def _backup_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dest", metavar="MAPP", help="ny (eller tom) mapp för säkerhetskopian")
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store)")


@subcommand("backup", help="säkerhetskopiera datalagret (en enhetlig ögonblicksbild)",
            configure=_backup_args)
def cmd_backup(args: argparse.Namespace) -> int:
    """Exit codes: 0 written, 2 destination not usable."""
    from hjo_data.backup import backup  # lazy: startup time

    try:
        result = backup(_store(args.store), args.dest)
    except (HjoDataError, OSError) as exc:
        _err(f"Säkerhetskopian kunde inte skrivas: {exc}")
        return EXIT_UNREADABLE
    print(f"Säkerhetskopia skriven: {result.message}")
    return EXIT_OK


def _restore_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("src", metavar="MAPP", help="säkerhetskopia skriven med backup")
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store)")
    p.add_argument("--force", action="store_true",
                   help="ersätt ett datalager som inte är tomt (det sparas först bredvid)")


@subcommand("restore", help="återställ datalagret från en säkerhetskopia",
            configure=_restore_args)
def cmd_restore(args: argparse.Namespace) -> int:
    """Exit codes: 0 restored, 2 damaged backup or non-empty store without --force."""
    from hjo_data.backup import restore  # lazy: startup time

    try:
        result = restore(args.src, _store(args.store), force=args.force)
    except (HjoDataError, OSError) as exc:
        _err(f"Återställningen gjordes inte: {exc}")
        return EXIT_UNREADABLE
    print(result.message)
    return EXIT_OK


# ----------------------------------------------------------------------------- demo

def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=20_000, metavar="N",
                   help="ungefärligt antal händelser (standard 20 000)")
    p.add_argument("--seed", type=int, default=1497, metavar="S", help="slumpfrö")
    p.add_argument("--out", metavar="MAPP", default=None,
                   help="mapp för CSV-filerna (standard data/demo)")
    p.add_argument("--ingest", action="store_true", help="läs också in filerna i datalagret")
    p.add_argument("--store", metavar="MAPP", help="datalager för --ingest")


@subcommand("demo", help="skapa syntetiska demofiler (och läs in dem)", configure=_demo_args)
def cmd_demo(args: argparse.Namespace) -> int:
    from hjo_data import demo  # lazy: startup time
    from hjo_data.ingest import ingest_file

    out = Path(args.out) if args.out else _REPO / "data" / "demo"
    out.mkdir(parents=True, exist_ok=True)
    paths = demo.write_csvs(out, rows=args.rows, seed=args.seed)
    print(f"Skrev {len(paths)} demofiler till {out}:")
    for p in paths:
        print(f"  {Path(p).name}")
    if not args.ingest:
        return EXIT_OK
    store = _store(args.store)
    code = EXIT_OK
    for p in paths:
        stem = Path(p).stem
        try:
            report = ingest_file(p, dataset=stem if stem in DATASETS else None, store=store,
                                 max_bytes=_cli_max_bytes(None))
        except HjoDataError as exc:
            _err(f"Kunde inte läsa in '{Path(p).name}': {exc}")
            code = EXIT_UNREADABLE
            continue
        print(report.message)
        if not report.ok:
            code = max(code, EXIT_REJECTED)
    print(f"Datalager: {store.root}")
    return code


# ----------------------------------------------------------------------------- user

def _user_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="user_command", metavar="ÅTGÄRD", required=True)
    add = sub.add_parser("add", help="skapa en lösenordshash för ett konto",
                         description="Skapar en saltad lösenordshash och skriver avsnittet "
                         "att klistra in i .streamlit/secrets.toml. Lösenordet sparas "
                         "aldrig.")
    add.add_argument("name", metavar="NAMN", help="användarnamn (a–z, 0–9, . _ -)")
    add.add_argument("--role", required=True, metavar="ROLL",
                     help="tjansteperson, redaktor eller admin")
    add.add_argument("--password-stdin", action="store_true",
                     help="läs lösenordet från första raden på stdin (för skript)")
    add.add_argument("--store", metavar="MAPP", help="datalager för granskningsloggen")


def _read_new_password(from_stdin: bool) -> str:
    """The new password (stdin or getpass twice); ValueError (Swedish) when they differ."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Lösenord: ")
        again = getpass.getpass("Lösenord igen: ")
        if password != again:
            raise ValueError("Lösenorden är inte lika.")
    return password


@subcommand("user", help="konton för inloggning (user add NAMN --role ROLL)",
            configure=_user_args)
def cmd_user(args: argparse.Namespace) -> int:
    from hjo_data import audit  # lazy: startup time
    from hjo_data.passwords import account_snippet, check_account  # lazy: zxcvbn is slow

    try:
        name, role = check_account(args.name, args.role)  # before asking for a password
        password = _read_new_password(args.password_stdin)
        # The policy (passwords.password_problem): ≥ 12 characters, not common, zxcvbn ≥ 3.
        snippet = account_snippet(name, role, password)
    except ValueError as exc:
        _err(str(exc))
        return EXIT_REJECTED
    del password
    # Leading blank line: the output can be appended with >> to an existing secrets.toml.
    print("\n" + snippet)
    _err("Klistra in avsnittet ovan i .streamlit/secrets.toml (versionshanteras inte). "
         "Kontot gäller från nästa sidladdning.")
    try:
        audit.log_event("user_add", getpass.getuser(), detail=f"hash skapad för {name} "
                        f"({role})", root=_store(args.store))
    except (OSError, KeyError) as exc:
        _err(f"Varning: granskningsloggen kunde inte skrivas: {exc}")
    return EXIT_OK


# ----------------------------------------------------------------------------- report

def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", required=True, metavar="PERIOD",
                   help="år (2024), kvartal (2024-Q2, 2024K2), månad (2024-05) eller vecka "
                        "(2024-W18, 2024v18)")
    p.add_argument("--format", dest="fmt", default=None, metavar="html|pdf",
                   help="html (standard, eller efter --out) eller pdf")
    p.add_argument("--out", required=True, metavar="FIL", help="rapportfil att skriva")
    p.add_argument("--audience", default="public", metavar="public|official",
                   help="public (standard, publikt läge) eller official (tjänstepersoner)")
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store; tomt lager ger demodata)")


def _check_audience_arg(value: str) -> str | None:
    aud = (value or "").strip().lower()
    if aud not in ("public", "official"):
        _err(f"Okänt läge '{value}': ange --audience public eller official.")
        return None
    return aud


@subcommand("report", help="skriv en lägesbild för en period (HTML eller PDF)",
            configure=_report_args)
def cmd_report(args: argparse.Namespace) -> int:
    from hjo_data import report as rep  # lazy: startup time
    from hjo_data.periods import PeriodError, parse_period

    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        _err(str(exc))
        return EXIT_UNREADABLE
    fmt = (args.fmt or ("pdf" if str(args.out).lower().endswith(".pdf") else "html")).lower()
    if fmt not in rep.FORMATS:
        _err(f"Okänt format '{args.fmt}': ange --format html eller pdf.")
        return EXIT_UNREADABLE
    audience = _check_audience_arg(args.audience)
    if audience is None:
        return EXIT_UNREADABLE
    if fmt == "pdf" and rep.find_chromium() is None:
        _err(str(rep.ChromiumMissingError()))
        return EXIT_UNREADABLE
    from hjo_data.datasource import demo_rows_from_env, load_bundle  # lazy: startup time

    bundle = load_bundle(args.store or os.environ.get("HJO_DATA_DIR") or None,
                         demo_rows=demo_rows_from_env())
    try:
        path = rep.write_report(bundle, period, fmt, args.out, audience=audience)
    except HjoDataError as exc:
        _err(f"Rapporten kunde inte skapas: {exc}")
        return EXIT_UNREADABLE
    mode = "publikt läge" if audience == "public" else "tjänstepersonsläge"
    demo = " (demodata – inte verklig statistik)" if bundle.is_demo else ""
    print(f"Skrev lägesbild {period.label} ({fmt.upper()}, {mode}){demo} till {path}")
    return EXIT_OK


# ----------------------------------------------------------------------------- export

def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", metavar="DATAMÄNGD", help=f"en av: {', '.join(DATASETS)}")
    p.add_argument("--out", required=True, metavar="FIL.csv", help="CSV-fil att skriva")
    p.add_argument("--audience", default="public", metavar="public|official",
                   help="public (standard: bara sammanställningar) eller official (alla rader)")
    p.add_argument("--by", metavar="KOLUMN[,KOLUMN]", default=None,
                   help="publikt läge: gruppera på en eller två kolumner (standard per "
                        "datamängd, t.ex. månad och kategori)")
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store)")


#: Public export of row-level datasets: counts grouped by these (derived "månad"/"år").
PUBLIC_EXPORT_BY: dict[str, tuple[str, ...]] = {
    "incidents": ("månad", "category"),
    "traffic": ("månad", "control_type"),
    "activities": ("år", "activity_type"),
    "survey_responses": ("year", "area"),
}


def _by_label(dataset, name: str) -> str:
    """Swedish lower-case label of a grouping column for messages ("kategori", "månad")."""
    try:
        return dataset.column(name).label.lower()
    except (KeyError, ValueError, AttributeError):
        return name


def _with_periods(frame, dataset):  # (DataFrame, Dataset) -> DataFrame with månad/år
    import pandas as pd  # lazy: startup time

    col = dataset.time_column
    if col in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[col]):
        times = frame[col]
        return frame.assign(månad=times.dt.strftime("%Y-%m"),
                            år=times.dt.year.astype("Int64").astype("str"))
    return frame


@subcommand("export", help="exportera en datamängd som CSV för Excel",
            configure=_export_args)
def cmd_export(args: argparse.Namespace) -> int:
    from hjo_data import export, reference  # lazy: startup time
    from hjo_data.disclosure import AGGREGATE_DATASETS

    name = args.dataset.strip()
    if name not in DATASETS:
        _err(f"Okänd datamängd '{name}': ange en av {', '.join(DATASETS)}.")
        return EXIT_UNREADABLE
    audience = _check_audience_arg(args.audience)
    if audience is None:
        return EXIT_UNREADABLE
    store = _store(args.store)
    if not store.has_data():
        _err(f"Datalagret {store.root} är tomt: läs in data först (python -m hjo_data "
             "ingest FIL, eller demo --ingest).")
        return EXIT_UNREADABLE
    dataset = DATASETS[name]
    frame = store.read(name)
    if audience == "public":  # areas not in areas.csv -> "Okänt område"
        frame = reference.public_area_frames({name: frame})[name]
    try:
        if audience == "official" or name in AGGREGATE_DATASETS:
            data = export.export_dataset(frame, name, audience)
            what = "alla rader" if audience == "official" else "sammanställda andelar"
        else:
            by = tuple(c.strip() for c in args.by.split(",") if c.strip()) if args.by \
                else PUBLIC_EXPORT_BY.get(name, (dataset.time_column,))
            data = export.export_aggregate(_with_periods(frame, dataset), name, by, audience)
            what = f"antal per {' och '.join(_by_label(dataset, c) for c in by)}"
    except (HjoDataError, KeyError, ValueError) as exc:
        _err(f"Exporten kunde inte skapas: {exc}")
        return EXIT_UNREADABLE
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    mode = "publikt läge" if audience == "public" else "tjänstepersonsläge"
    print(f"Skrev {dataset.label} ({what}, {mode}) till {out}")
    return EXIT_OK


# ----------------------------------------------------------------------------- fetch

def _fetch_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="MAPP", help="datalager (standard: $HJO_DATA_DIR "
                   "eller data/store); råsvaren sparas under MAPP/raw/")
    p.add_argument("--json", action="store_true", help="skriv resultatet per källa som JSON")


def _fetch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="KÄLLA", choices=("kolada", "polisen"),
                   help="kolada eller polisen")
    p.add_argument("--since", metavar="DATUM", type=_since_date,
                   help="hämta från detta datum (ÅÅÅÅ-MM-DD): Kolada från det året, Polisen "
                   "månad för månad från den månaden")
    _fetch_common(p)


def _refresh_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true",
                   help="hämta inget: läs in de sparade råsvaren igen")
    _fetch_common(p)


def _since_date(text: str):  # -> date
    from datetime import date  # lazy: only this option needs it

    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"ogiltigt datum '{text}' (ÅÅÅÅ-MM-DD)") from exc


def _print_fetch(results, as_json: bool) -> int:  # list[SourceResult]
    from hjo_data.fetch import summary_text  # lazy: startup time

    if as_json:
        _print_json({"sources": [r.to_dict() for r in results]})
    for r in results:  # with --json, stdout holds only the JSON
        (_err if as_json or r.exit_code == EXIT_UNREADABLE else print)(summary_text(r))
    return max((r.exit_code for r in results), default=EXIT_OK)


@subcommand("fetch", help="hämta en öppen källa (kolada, polisen), spara råsvaret och läs in "
            "det", configure=_fetch_args)
def cmd_fetch(args: argparse.Namespace) -> int:
    """Exit codes: 0 done (or politely not fetched: too soon), 1 some rows rejected,
    2 the source could not be fetched or read."""
    from hjo_data.fetch import fetch_source  # lazy: startup time

    result = fetch_source(args.source, store=_store(args.store), since=args.since)
    return _print_fetch([result], args.json)


@subcommand("refresh", help="hämta alla konfigurerade öppna källor (för cron / systemd)",
            configure=_refresh_args)
def cmd_refresh(args: argparse.Namespace) -> int:
    """Exit code: the worst of the sources' (one failing source does not stop the others)."""
    from hjo_data.fetch import refresh  # lazy: startup time

    return _print_fetch(refresh(store=_store(args.store), offline=args.offline), args.json)


# ----------------------------------------------------------------------------- main

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hjo_data",
        description="Hjo trygghetsdashboard – datahantering från kommandoraden.",
    )
    sub = parser.add_subparsers(dest="command", metavar="KOMMANDO", required=True)
    for cmd in SUBCOMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        if cmd.configure is not None:
            cmd.configure(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit code (never raises for input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error (argparse already printed it)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_UNREADABLE
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        _err("Avbrutet.")
        return 130
    except Exception as exc:
        if os.environ.get("HJO_DEBUG"):
            raise
        _err(f"Internt fel ({type(exc).__name__}): {exc}. Kör med HJO_DEBUG=1 för detaljer.")
        if getattr(args, "json", False):
            _print_json({"error": f"Internt fel: {exc}", "stored": False})
        return EXIT_INTERNAL
