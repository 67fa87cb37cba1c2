#!/usr/bin/python3
"""The report of a results file: every figure kind whose analysis is in the file (PDF, SVG, PNG)
and index.html with the figures, their tables and the provenance. `lrm report` runs this.

    /usr/bin/python3 reports/make_report.py results.h5 --out report/
    /usr/bin/python3 reports/make_report.py --list-kinds

Each figure is written as PDF, SVG, PNG and JSON (the data it plots). The report is written into <out>.partial and renamed to <out> when complete. Exit status: 0 when
every figure was made, 1 when a figure failed (the others are still written), 2 for a results
file that is missing or not HDF5.
"""
import argparse
import html
import importlib
import os
import shutil
import sys
import time
import tomllib
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import lrm_results as R  # noqa: E402
except ImportError as e:
    print(f"error: the report needs Debian's python3-matplotlib, python3-xarray and "
          f"python3-h5netcdf (apt-get install python3-matplotlib python3-xarray "
          f"python3-h5netcdf): {e}", file=sys.stderr)
    sys.exit(2)

# Figure kinds in the order of the report: the one list, shared with `lrm report` and the tests.
with open(os.path.join(HERE, "figure_kinds.toml"), "rb") as _h:
    KINDS = [k["name"] for k in tomllib.load(_h)["kind"]]

PROVENANCE_KEYS = ["command_line", "lrm_version", "git_commit", "seed", "start_time", "end_time",
                   "host", "analysis", "stages"]

CSS = """body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
figure{margin:1em 0}figure img{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}
table{border-collapse:collapse;font-size:.85em;margin:.8em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}th{background:#f3f3f3}
caption{text-align:left;font-weight:bold;padding:.3em 0}pre{background:#f6f6f6;padding:.6em;
overflow-x:auto;font-size:.85em}.skipped,.failed{font-size:.9em}.failed{color:#a00}"""


def load_kinds(only):
    unknown = set(only or []) - set(KINDS)
    if unknown:
        raise R.ResultsError(f"unknown figure kind(s) {', '.join(sorted(unknown))} in --only; "
                             f"known: {', '.join(KINDS)}")
    return [importlib.import_module(k) for k in (KINDS if not only else
                                                 [k for k in KINDS if k in only])]


def provenance_html(f):
    root, stages = R.provenance(f)
    rows = [[k, root[k]] for k in PROVENANCE_KEYS if k in root]
    rows += [[k, v] for k, v in sorted(root.items())
             if k not in PROVENANCE_KEYS and k not in ("config", "complete")]
    out = []
    if root.get("complete") is not None and int(root["complete"]) != 1:
        out.append('<p class="failed">This results file is not marked complete (an interrupted '
                   "or running stage): the figures show what it holds so far.</p>")
    out.append(R.html_table(["attribute", "value"], rows, "Results file"))
    if stages:
        keys = ["command_line", "seed", "lrm_version", "git_commit", "start_time", "end_time"]
        out.append(R.html_table(["stage"] + keys,
                                [[s] + [v.get(k, "") for k in keys] for s, v in stages.items()],
                                "Stages (lrm run)"))
    if root.get("config"):
        out.append("<p><b>Analysis configuration</b></p><pre>" + html.escape(str(root["config"]))
                   + "</pre>")
    return "\n".join(out)


def png_width(path):
    """Pixel width from the PNG header (IHDR), to show figures at their print size × 1.3."""
    with open(path, "rb") as h:
        return int.from_bytes(h.read(24)[16:20], "big")


def figure_html(kind, fig, folder):
    parts = []
    for stem in fig.stems:
        css_px = round(png_width(os.path.join(folder, stem + ".png")) / 300 * 96 * 1.3)
        links = " · ".join(f'<a href="{html.escape(stem)}.{ext}">{label}</a>'
                           for ext, label in (("pdf", "PDF"), ("svg", "SVG"), ("png", "PNG"),
                                              ("json", "data")))
        parts.append(f'<figure><img src="{html.escape(stem)}.png" alt="{html.escape(kind)}" '
                     f'style="width:{css_px}px">'
                     f"<figcaption>{html.escape(fig.caption)} ({links})</figcaption></figure>")
    parts.extend(fig.tables)
    return "\n".join(parts)


def write_report(results, out, only=None, quiet=False):
    modules = load_kinds(only)
    f = R.open_results(results)
    partial = out.rstrip("/") + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    R.use_style()
    made, skipped, failed, sections = [], [], [], []
    with f:
        for m in modules:
            try:
                items = m.find(f)
            except Exception as e:  # a layout this reader does not understand
                failed.append((m.KIND, f"reading: {e}", traceback.format_exc()))
                continue
            if not items:
                skipped.append((m.KIND, m.ABSENT))
                continue
            figs = []
            for item in items:
                try:
                    figs.append(m.plot(item, partial, {}))
                except Exception as e:
                    failed.append((m.KIND, str(e), traceback.format_exc()))
            if figs:
                made.append((m.KIND, sum(len(x.stems) for x in figs)))
                sections.append(f'<h2 id="{m.KIND}">{html.escape(m.TITLE)}</h2>\n'
                                + "\n".join(figure_html(m.KIND, x, partial) for x in figs))
        prov = provenance_html(f)
        complete = str(f.attrs.get("complete", 1)) in ("1", "True")
    written = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = [f"<h1>lrm report: {html.escape(os.path.basename(results))}</h1>",
            f"<p>{html.escape(os.path.abspath(results))}, written {written}."
            " Each figure is available as PDF (vector, for papers), SVG and PNG, and the data it "
            "plots as JSON.</p>"]
    if made:
        body.append("<p>Figures: " + ", ".join(f'<a href="#{k}">{k}</a>' for k, _ in made) + "</p>")
    body += sections
    if skipped:
        body.append('<h2>Skipped (analysis not in this file)</h2><ul class="skipped">'
                    + "".join(f"<li>{k}: no {html.escape(why)}</li>" for k, why in skipped)
                    + "</ul>")
    if failed:
        body.append('<h2>Failed</h2><ul class="failed">'
                    + "".join(f"<li>{k}: {html.escape(msg)}<pre>{html.escape(tb)}</pre></li>"
                              for k, msg, tb in failed) + "</ul>")
    body.append("<h2>Provenance</h2>\n" + prov)
    with open(os.path.join(partial, "index.html"), "w", encoding="utf-8") as h:
        h.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>lrm report: {html.escape(os.path.basename(results))}</title>"
                f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    # Replace an earlier report only once this one is complete.
    old = out.rstrip("/") + ".old"
    if os.path.exists(out):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(out, old)
    os.rename(partial, out)
    shutil.rmtree(old, ignore_errors=True)
    if not complete:
        print(f"note: {results} is not marked complete; the report shows what it holds so far")
    for k, n in made:
        print(f"made:    {k} ({n} figure{'s' if n > 1 else ''})")
    for k, why in skipped:
        print(f"skipped: {k} (no {why})")
    for k, msg, _ in failed:
        print(f"failed:  {k}: {msg}", file=sys.stderr)
    print(os.path.join(out, "index.html"))
    return 1 if failed else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="?", help="results file written by lrm (HDF5)")
    p.add_argument("--out", help="report folder (written atomically)")
    p.add_argument("--only", help=f"comma-separated figure kinds ({', '.join(KINDS)})")
    p.add_argument("--list-kinds", action="store_true", help="print the figure kinds and exit")
    args = p.parse_args(argv)
    if args.list_kinds:
        print("\n".join(KINDS))
        return 0
    if not args.results or not args.out:
        p.error("give the results file and --out")
    only = [k.strip() for k in args.only.split(",")] if args.only else None
    try:
        return write_report(args.results, args.out, only)
    except R.ResultsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
