"""``imap-explorer ialirt ...`` and ``imap-explorer monitor``: the official ``ialirt-data-access`` commands, fixed.

Sub-commands ``space-weather``, ``archive-query``, ``log-query``, ``packet-query`` and ``download`` (the official
names ``ialirt-archive-query`` ... are accepted too) take the official option spellings (``--time_utc_start``,
``--filetype``, ``--filename``, ``--year`` ...) as well as dashed ones. ``space-weather`` prints a table (or
``--output-format json|csv``, ``-o FILE``) and writes no file unless asked; errors are one line on stderr, exit 1
(handled by :func:`imap_explorer.cli.main`). The base URL is ``--ialirt-url``, ``IALIRT_DATA_ACCESS_URL`` or
https://ialirt.imap-mission.com; the API key is the global ``--api-key`` or ``IMAP_API_KEY``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parsers"]


def _opt(p: argparse.ArgumentParser, name: str, **kwargs: Any) -> None:
    """An option under its official (underscore) and dashed spellings."""
    flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
    p.add_argument(*flags, dest=name, **kwargs)


def _emit(text: str, output: str | None) -> None:
    if output:
        from imap_explorer.local import atomic_target

        path = Path(output)
        with atomic_target(path) as tmp:
            tmp.write_text(text)
        print(f"Wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _frame_text(df, fmt: str) -> str:
    import numpy as np
    import pandas as pd

    if fmt == "json":
        return df.to_json(orient="records", date_format="iso", date_unit="ns", indent=1) + "\n"
    if "codice_hi_h" in df.columns:  # one column per element, so that nothing is lost in a flat table
        arr = np.stack(df["codice_hi_h"].map(lambda a: np.full((15, 4, 4), np.nan) if not hasattr(a, "shape")
                                             else a).to_list()) if len(df) else np.zeros((0, 15, 4, 4))
        names = [f"codice_hi_h_e{e:02d}_s{s}_p{p}" for e in range(15) for s in range(4) for p in range(4)]
        flat = pd.DataFrame(arr.reshape(len(df), -1), columns=names, index=df.index)
        df = pd.concat([df.drop(columns="codice_hi_h"), flat], axis=1)
    if fmt == "csv":
        return df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
    if df.empty:
        return "No records.\n"
    return df.to_string(index=False, max_colwidth=40) + f"\n{len(df)} rows\n"


def _cmd_space_weather(args: argparse.Namespace) -> int:
    from imap_explorer.ialirt.client import fetch_records
    from imap_explorer.ialirt.frame import records_to_frame

    instruments = None
    if args.instrument:
        instruments = [x for value in args.instrument for x in value.split(",") if x]
    records = fetch_records(instrument=instruments, time_utc_start=args.time_utc_start or args.met_in_utc_start,
                            time_utc_end=args.time_utc_end or args.met_in_utc_end, chunk=args.chunk,
                            max_workers=args.max_workers)
    if args.downloads_dir:  # the official client's file, only when asked
        name = f"imap_ialirt_l1_realtime_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json"
        path = Path(args.downloads_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"meta": {"count": len(records)}, "data": records}, indent=2))
        print(f"Saved query results to: {path}", file=sys.stderr)
    if args.output_format == "json":
        _emit(json.dumps(records, indent=1) + "\n", args.output)
    else:
        _emit(_frame_text(records_to_frame(records), args.output_format), args.output)
    return 0


def _cmd_files(args: argparse.Namespace) -> int:
    from imap_explorer.ialirt import client

    if args.ialirt_command in ("archive-query", "ialirt-archive-query"):
        df = client.archive_query(year=args.year, month=args.month, day=args.day, version=args.version,
                                  since=args.since)
    elif args.ialirt_command in ("log-query", "ialirt-log-query"):
        df = client.log_query(year=args.year, doy=args.doy, instance=args.instance)
    else:
        df = client.packet_query(year=args.year, doy=args.doy, hh=args.hh, mm=args.mm, ss=args.ss,
                                 time_utc_start=args.time_utc_start, time_utc_end=args.time_utc_end)
    if args.output_format == "json":
        _emit(json.dumps({"files": df["file_name"].tolist()}, indent=1) + "\n", args.output)
    elif args.output_format == "csv":
        _emit(df.to_csv(index=False, date_format="%Y-%m-%d"), args.output)
    else:
        _emit((df.to_string(index=False) + "\n") if len(df) else "No files.\n", args.output)
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from imap_explorer.cli import report_downloads
    from imap_explorer.ialirt.client import download

    names = list(args.files or []) + list(args.filename or [])
    if not names:
        raise ValueError("Name the files to download: --filename NAME (repeatable) or NAME arguments.")
    return report_downloads(lambda: download(names, filetype=args.filetype, data_dir=args.downloads_dir,
                                             overwrite=args.overwrite, progress=not args.no_progress))


def _run(args: argparse.Namespace) -> int:
    from imap_explorer.config import set_options

    with set_options(ialirt_url=args.ialirt_url, api_key=args.ialirt_api_key):
        return int(args.ialirt_func(args) or 0)


def _cmd_monitor(args: argparse.Namespace) -> int:
    from imap_explorer.ialirt.monitor import run_monitor

    return run_monitor(args)


def add_parsers(sub: Any) -> None:
    """Add ``ialirt`` (with its sub-commands) and ``monitor`` to the ``imap-explorer`` sub-parsers."""
    p = sub.add_parser("ialirt", help="I-ALiRT real-time data: space-weather, archive/log/packet queries, download")
    p.add_argument("--ialirt-url", "--url", dest="ialirt_url",
                   help="I-ALiRT API URL (default: $IALIRT_DATA_ACCESS_URL or https://ialirt.imap-mission.com)")
    p.add_argument("--api-key", dest="ialirt_api_key", help="API key (default: $IMAP_API_KEY)")
    inner = p.add_subparsers(dest="ialirt_command", metavar="ACTION")
    inner.required = True
    p.set_defaults(func=_run)

    def formats(q: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json", "csv")) -> None:
        q.add_argument("--output-format", "--output_format", dest="output_format", choices=choices, default="table")
        q.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of the screen")

    q = inner.add_parser("space-weather", help="records of any instruments over any time span")
    _opt(q, "instrument", action="append", help="mag, swapi, swe, hit, codice_lo, codice_hi, spacecraft, spice, "
                                                "ancillary, <instrument>_hk; repeat or comma-separate (default: "
                                                "the six science instruments)")
    _opt(q, "time_utc_start", help="UTC start, e.g. 2026-02-10T08:00:00 (inclusive)")
    _opt(q, "time_utc_end", help="UTC end (inclusive)")
    _opt(q, "met_in_utc_start", help="alias of --time_utc_start")
    _opt(q, "met_in_utc_end", help="alias of --time_utc_end")
    q.add_argument("--chunk", help="window of one request, e.g. 1h (default: per instrument)")
    _opt(q, "max_workers", type=int, default=8, help="requests in flight (default 8)")
    _opt(q, "downloads_dir", help="also save the official client's JSON file in this folder")
    formats(q)
    q.set_defaults(ialirt_func=_cmd_space_weather)

    for name in ("archive-query", "log-query", "packet-query"):
        q = inner.add_parser(name, aliases=[f"ialirt-{name}"], help=f"list files ({name.split('-')[0]})")
        _opt(q, "year", help="year, YYYY")
        if name == "archive-query":
            _opt(q, "month", help="month, MM")
            _opt(q, "day", help="day, DD")
            _opt(q, "version", default="1", help="version number (default 1)")
            _opt(q, "since", help="files for this day (YYYYMMDD) and later")
        else:
            _opt(q, "doy", help="day of year, DDD")
        if name == "log-query":
            _opt(q, "instance", default="1", choices=["1", "2"], help="ground system instance (default 1)")
        if name == "packet-query":
            for part, what in (("hh", "hour"), ("mm", "minute"), ("ss", "second")):
                _opt(q, part, help=what)
            _opt(q, "time_utc_start", help="UTC start (instead of year/doy)")
            _opt(q, "time_utc_end", help="UTC end")
        formats(q)
        q.set_defaults(ialirt_func=_cmd_files)

    q = inner.add_parser("download", aliases=["ialirt-download"], help="download files into the local archive")
    q.add_argument("files", nargs="*", metavar="FILE", help="file names")
    _opt(q, "filename", action="append", help="file name (repeatable)")
    _opt(q, "filetype", default="archive", choices=["archive", "coverage", "logs", "packets", "realtime"],
         help="archive (default), logs (needs an API key), packets, coverage or realtime")
    _opt(q, "downloads_dir", help="archive root (default: $IMAP_DATA_DIR or ./data); archive CDFs go to "
                                  "imap/ialirt/l1/YYYY/MM/, other files to ialirt/<filetype>/")
    q.add_argument("--overwrite", action="store_true", help="download again even if present")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    q.set_defaults(ialirt_func=_cmd_download)

    p = sub.add_parser("monitor", help="the live I-ALiRT monitor in a browser (Voila)")
    p.add_argument("--ialirt-url", help="I-ALiRT API URL (default: $IALIRT_DATA_ACCESS_URL)")
    p.add_argument("--port", type=int, default=8867, help="port of the monitor app (default 8867)")
    p.add_argument("--hours", type=float, default=6.0, help="time span shown (default 6 h)")
    p.add_argument("--refresh", type=float, default=60.0, help="seconds between polls (default 60)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL to open")
    p.set_defaults(func=_cmd_monitor)
