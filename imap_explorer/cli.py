"""The ``imap-explorer`` command line.

It mirrors the official ``imap-data-access`` CLI (global ``--url``, ``--data-dir``, ``--api-key``;
``query``, ``download``, ``upload``) and adds ``serve``, ``keys``, ``make-archive``, ``quicklook`` and
``demo``. Each subcommand is a small function. Errors are one line on stderr and exit code 1; there is
never a traceback. ``ialirt`` and ``monitor`` come from :mod:`imap_explorer.ialirt.cli`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from imap_explorer.config import set_options
from imap_explorer.exceptions import ImapExplorerError

__all__ = ["main"]


# --------------------------------------------------------------------------- query / download / upload
def _cmd_query(args: argparse.Namespace) -> int:
    from imap_explorer.query import format_table, query

    params = {
        name: getattr(args, name)
        for name in ("instrument", "data_level", "descriptor", "start_date", "end_date", "ingestion_start_date",
                     "ingestion_end_date", "repointing", "version", "extension")
    }
    if all(v is None for v in params.values()):
        raise ValueError("At least one query parameter must be provided. Run 'query -h' for more information.")
    frame = query(table=args.table, **params)
    if args.output_format == "json":
        from imap_explorer.query import to_json

        print(to_json(frame))
    else:
        print(format_table(frame, table=args.table))
    return 0


def report_downloads(fetch: Callable[[], list]) -> int:
    """Run ``fetch`` and print where each file went, those that arrived before a failure too; return 0."""
    from imap_explorer.exceptions import DownloadError

    try:
        paths = fetch()
    except DownloadError as err:
        for path in err.paths:  # say where the files that did arrive went, then report the failures
            print(f"Downloaded to {path}")
        raise
    for path in paths:
        print(f"Downloaded to {path}")
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from imap_explorer.transfer import download

    return report_downloads(lambda: download(args.files, overwrite=args.overwrite, max_workers=args.max_workers,
                                             progress=not args.no_progress))


def _cmd_upload(args: argparse.Namespace) -> int:
    from imap_explorer.transfer import upload

    key = upload(args.file)
    print(f"Uploaded {Path(args.file).name} as {key}")
    return 0


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A subcommand that runs ``module.name(args)``, imported only then (building the parser stays cheap)."""

    def run(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), name)(args) or 0)

    return run


# --------------------------------------------------------------------------- embedded SDC
def _cmd_serve(args: argparse.Namespace) -> int:
    from imap_explorer.server import serve

    serve(args.archive, host=args.host, port=args.port, storage_port=args.storage_port, live=args.live)
    return 0


def _cmd_make_archive(args: argparse.Namespace) -> int:
    from imap_explorer.synthetic import make_archive

    paths = make_archive(args.directory, start=args.start, days=args.days, seed=args.seed,
                         instruments=args.instruments, ialirt=not args.no_ialirt)
    print(f"Wrote {len(paths)} files under {Path(args.directory).resolve()}")
    return 0


# --------------------------------------------------------------------------- parser
def _add_query_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", default="science", choices=["science", "ancillary", "spice", "quicklook"],
                   help="the SDC table to query (default: science)")
    p.add_argument("--instrument", help="instrument, e.g. mag or swe")
    p.add_argument("--data-level", help="data level, e.g. l1b or l2")
    p.add_argument("--descriptor", help="descriptor, e.g. norm-gse or sci")
    p.add_argument("--start-date", help="first file date, YYYYMMDD (inclusive)")
    p.add_argument("--end-date", help="last file date, YYYYMMDD (inclusive)")
    p.add_argument("--ingestion-start-date", help="first ingestion date, YYYYMMDD (inclusive)")
    p.add_argument("--ingestion-end-date", help="last ingestion date, YYYYMMDD (inclusive)")
    p.add_argument("--repointing", help="repointing number, e.g. 12 or repoint00012")
    p.add_argument("--version", help="'latest', vNNN or vNNN.NNNN (default: every minor of the newest major)")
    p.add_argument("--extension", help="file extension, e.g. cdf or pkts")


def _add_sdc_flags(parser: argparse.ArgumentParser, default: object) -> None:
    """``--url``, ``--data-dir`` and ``--api-key`` (give a key as ``--api-key=KEY``: it may start with ``-``)."""
    parser.add_argument("--url", default=default,
                        help="SDC API URL (default: $IMAP_DATA_ACCESS_URL or https://api.imap-mission.com)")
    parser.add_argument("--data-dir", default=default, help="local archive root (default: $IMAP_DATA_DIR or ./data)")
    parser.add_argument("--api-key", default=default, metavar="KEY",
                        help="SDC API key (default: $IMAP_API_KEY); write --api-key=KEY for a key starting with '-'")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``imap-explorer``."""
    from imap_explorer import __version__

    parser = argparse.ArgumentParser(
        prog="imap-explorer",
        description="Query, download, load, plot and browse NASA IMAP data (SDC API compatible).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_sdc_flags(parser, None)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    # the same flags after the command too (imap-explorer upload --api-key=KEY FILE), leaving those given before
    sdc = argparse.ArgumentParser(add_help=False)
    _add_sdc_flags(sdc, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("query", help="list files in the SDC that match the filters", parents=[sdc])
    _add_query_flags(p)
    p.add_argument("--output-format", choices=["table", "json"], default="table")
    p.set_defaults(func=_cmd_query)

    p = sub.add_parser("download", help="download files into the local archive (SDC layout)", parents=[sdc])
    p.add_argument("files", nargs="+", metavar="FILE", help="file names or SDC file paths")
    p.add_argument("--overwrite", action="store_true", help="download again even if present")
    p.add_argument("--max-workers", type=int, default=8, help="parallel downloads (default 8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_download)

    p = sub.add_parser("upload", help="upload a file to the SDC (needs an API key)", parents=[sdc])
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=_cmd_upload)

    p = sub.add_parser("serve", help="run the embedded SDC server over a local archive")
    p.add_argument("--archive", required=True, help="archive root in the SDC layout (imap/<instrument>/...)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="API port (default 8000; 0 picks a free one)")
    p.add_argument("--storage-port", type=int, default=0, help="storage (download/upload) port (default: free)")
    p.add_argument("--live", action="store_true",
                   help="map the I-ALiRT stream onto the wall clock: new records appear as time passes")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("keys", help="manage the embedded server's API keys")
    p.add_argument("--archive", required=True, help="archive root whose key table to manage")
    keys = p.add_subparsers(dest="keys_command", metavar="ACTION")
    keys.required = True
    k = keys.add_parser("add", help="create a key and print it")
    k.add_argument("--scope", default="write", help="read, write or admin (default write)")
    k.add_argument("--owner", default="", help="who the key is for")
    keys.add_parser("list", help="list keys (masked)")
    k = keys.add_parser("remove", help="delete a key")
    k.add_argument("key", help="the key (one starting with '-' goes after '--': keys remove -- -KEY)")
    p.set_defaults(func=_command("imap_explorer.server", "keys_command"))

    p = sub.add_parser("make-archive", help="write a synthetic IMAP archive (all ten instruments)")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--start", default="2026-01-20", help="first day, YYYY-MM-DD (default 2026-01-20)")
    p.add_argument("--days", type=int, default=7, help="number of days (default 7)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--instruments", nargs="+", metavar="NAME",
                   help="write only these instruments (default all: mag swe swapi codice hit idex glows hi lo ultra)")
    p.add_argument("--no-ialirt", action="store_true", help="leave out the I-ALiRT real-time stream")
    p.set_defaults(func=_cmd_make_archive)

    p = sub.add_parser("quicklook", help="query, download, load and plot a product to an image", parents=[sdc],
                       description="Query, download, load and plot products to an image, with each "
                                   "instrument's quick-look. Several instruments (--instrument mag,swapi) are "
                                   "stacked on one time axis; products without one (maps, pointing sets) are "
                                   "left out of a stack, and said so.")
    _add_query_flags(p)
    p.add_argument("--variables", nargs="+", help="variables to plot (default: chosen from the product)")
    p.add_argument("--energy", type=float, help="energy to draw (maps: keV; SWE pitch angles: eV), nearest bin")
    p.add_argument("--center", help="sky maps: 'nose' or a longitude in degrees at the centre (default 0)")
    p.add_argument("--companion", help="sky maps: 'uncertainty' or 'exposure' drawn beside each map")
    p.add_argument("--event", type=int, help="IDEX: draw the waveforms of this event (record index)")
    p.add_argument("-o", "--output", default="quicklook.png", help="image file (default quicklook.png)")
    p.set_defaults(func=_command("imap_explorer.plot", "quicklook_command"), table="science")

    p = sub.add_parser("coverage", help="which products exist on which days, and their newest versions",
                       parents=[sdc])
    p.add_argument("--instrument", help="instrument, e.g. mag (default: every instrument)")
    p.add_argument("--data-level", help="data level, e.g. l2")
    p.add_argument("--descriptor", help="descriptor, e.g. norm-gse")
    p.add_argument("--start-date", required=True, help="first day, YYYYMMDD (inclusive)")
    p.add_argument("--end-date", required=True, help="last day, YYYYMMDD (inclusive)")
    p.add_argument("--source", choices=["sdc", "local"], default="sdc",
                   help="ask the SDC (default) or list the local archive (offline)")
    p.add_argument("--with-inputs", action="store_true", help="add the products each product is made from")
    p.add_argument("-o", "--output", help="also save the calendar heat-map to this image (e.g. coverage.png)")
    p.set_defaults(func=_command("imap_explorer.coverage", "coverage_command"))

    p = sub.add_parser("versions", help="every version of one product-day, newest first", parents=[sdc])
    p.add_argument("product", metavar="NAME", help="a file name, or instrument/level/descriptor with --start-date")
    p.add_argument("--start-date", help="the day, YYYYMMDD (with a product)")
    p.add_argument("--repointing", help="the repointing (with a product)")
    p.set_defaults(func=_command("imap_explorer.versions", "versions_command"))

    p = sub.add_parser("compare", help="what differs between two versions of a file", parents=[sdc])
    p.add_argument("file_a", metavar="A", help="older file: a path, or a file name (downloaded if missing)")
    p.add_argument("file_b", metavar="B", help="newer file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_command("imap_explorer.versions", "compare_command"))

    p = sub.add_parser("sync", help="download every file ingested since a date or since the last sync",
                       parents=[sdc])
    p.add_argument("--instrument", required=True, help="instrument, e.g. mag")
    p.add_argument("--data-level", help="data level, e.g. l2")
    p.add_argument("--descriptor", help="descriptor, e.g. norm-gse")
    p.add_argument("--since", help="first ingestion day, YYYYMMDD (default: the last sync of this selection)")
    p.add_argument("--start-date", help="only files from this day, YYYYMMDD")
    p.add_argument("--end-date", help="only files up to this day, YYYYMMDD")
    p.set_defaults(func=_command("imap_explorer.local", "sync_command"))

    for name, help_text in (("local", "list the files in the local archive (IMAP_DATA_DIR)"),
                            ("prune", "remove superseded versions from the local archive")):
        p = sub.add_parser(name, help=help_text, parents=[sdc])
        p.add_argument("--instrument", help="instrument, e.g. mag")
        p.add_argument("--data-level", help="data level, e.g. l2")
        p.add_argument("--descriptor", help="descriptor, e.g. norm-gse")
        p.add_argument("--start-date", help="first file date, YYYYMMDD")
        p.add_argument("--end-date", help="last file date, YYYYMMDD")
        if name == "prune":
            p.add_argument("--delete", action="store_true", help="really delete (default: only list them)")
        p.set_defaults(func=_command("imap_explorer.local", f"{name}_command"))

    p = sub.add_parser("demo", help="build a synthetic archive, serve it, and open the Explorer")
    p.add_argument("--archive", help="archive directory (default: a per-user cache folder)")
    p.add_argument("--port", type=int, default=8866, help="port of the Explorer app (default 8866)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL to open")
    p.set_defaults(func=_command("imap_explorer.demo", "run_demo"))

    from imap_explorer.ialirt.cli import add_parsers as add_ialirt_parsers

    add_ialirt_parsers(sub)  # `ialirt ...` and `monitor`
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.getLogger("cdflib").setLevel(logging.ERROR)
    try:
        with set_options(url=args.url, data_dir=args.data_dir, api_key=args.api_key):
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("imap-explorer: interrupted", file=sys.stderr)
        return 130
    except (ImapExplorerError, ValueError, TypeError, OSError) as err:
        if args.debug:
            raise
        text = " ".join(str(err).split())  # one line, even for a DownloadError listing several files
        print(f"imap-explorer {args.command}: error: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
