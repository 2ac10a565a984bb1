"""What ``rnadesign design`` writes: a design result as FASTA, JSON, CSV or TSV text, and its pictures.

Text is returned, not printed (the command line prints). Every format carries, per reported design,
the metrics of :class:`~rnadesign.model.metrics.DesignMetrics` in rank order (:func:`~rnadesign.design.rank_designs`).
Pictures are SVG files: ViennaRNA's naview layout of the design's MFE structure, each base coloured
by its positional defect against the target.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import atomic_write_text

if TYPE_CHECKING:
    from ..design import Design
    from ..model.metrics import DesignMetrics

__all__ = ["COLUMNS", "FORMATS", "PlotWriter", "design_svgs", "header", "render"]

FORMATS = ("fasta", "json", "csv", "tsv")

#: The columns of CSV and TSV output, in this order: one row per reported design.
COLUMNS = (
    "name",
    "rank",
    "sequence",
    "structure",
    "target",
    "solved",
    "distance",
    "energy",
    "probability",
    "ensemble_defect",
    "gc_content",
    "unique_mfe",
    "time_s",
    "seed",
    "mode",
    "energy_parameters",
    "parameters_sha256",
    "dangles",
    "temperature",
    "vienna_version",
    "constraints_satisfied",
)

#: The JSON record's fields taken from the result as they are (the record before metrics existed).
_RECORD_KEYS = (
    "name",
    "target",
    "sequence",
    "structure",
    "distance",
    "solved",
    "time_s",
    "seed",
    "unique_mfe",
    "mode",
    "episodes",
    "folds",
    "restarts",
    "lineages",
    "best_lineage",
    "solutions",
    "vienna_version",
)


def _measures(m: DesignMetrics | None) -> dict[str, Any]:
    """One design's metrics, rounded for reading (None where unknown)."""

    def rounded(x: float | None, digits: int) -> float | None:
        return None if x is None else round(x, digits)

    return {
        "energy": rounded(m and m.energy, 2),
        "probability": rounded(m and m.probability, 6),
        "ensemble_defect": rounded(m and m.ensemble_defect, 6),
        "gc_content": rounded(m and m.gc_content, 4),
    }


def _designs(result: Design) -> list[dict[str, Any]]:
    """One entry per reported design, rank 1 first (a result with no design at all: none)."""
    return [
        {
            "rank": rank,
            "sequence": m.sequence,
            "structure": m.structure,
            "distance": m.distance,
            "solved": m.solved,
            "unique_mfe": m.unique,
            **_measures(m),
            # every solution satisfies them (only the best unsolved design may not)
            "constraints_satisfied": None
            if result.constraints is None
            else (True if result.solutions else result.constraints_satisfied),
        }
        for rank, m in enumerate(result.metrics, start=1)
    ]


def header(fmt: str) -> str | None:
    """The line that goes once before the first result (CSV and TSV), else None."""
    if fmt not in ("csv", "tsv"):
        return None
    return _table([list(COLUMNS)], fmt)


def render(result: Design, fmt: str) -> str:
    """``result`` in format ``fmt`` (one of :data:`FORMATS`), ending in a newline."""
    if fmt == "json":
        record = {k: getattr(result, k) for k in _RECORD_KEYS}
        record["time_s"] = round(record["time_s"], 3)
        record.update(_measures(result.metrics[0] if result.metrics else None))
        record["designs"] = _designs(result)
        record["folding"] = result.folding.to_dict()
        if result.interrupted:
            record["interrupted"] = True
        if result.constraints is not None:
            record.update(
                constraints=result.constraints,
                constraints_satisfied=result.constraints_satisfied,
                violations=result.violations,
            )
        return json.dumps(record) + "\n"
    if fmt == "fasta":
        return "".join(
            f">{_label(result, d['rank'])} {_fasta_fields(result, d)}\n{d['sequence']}\n" for d in _rows(result)
        )
    if fmt in ("csv", "tsv"):
        model = result.folding.to_dict()
        common = {
            "name": result.name,
            "target": result.target,
            "time_s": round(result.time_s, 3),
            "seed": result.seed,
            "mode": result.mode,
            "parameters_sha256": model.get("parameters_sha256"),
            "energy_parameters": model["energy_parameters"],
            "dangles": model["dangles"],
            "temperature": model["temperature"],
            "vienna_version": result.vienna_version,
        }
        return _table([[_cell({**common, **d}.get(c)) for c in COLUMNS] for d in _rows(result)], fmt)
    raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _rows(result: Design) -> list[dict[str, Any]]:
    """The designs to write; a result without any design still gets one (empty) row."""
    return _designs(result) or [
        {"rank": 1, "sequence": "", "structure": "", "distance": result.distance, "solved": False, "unique_mfe": False}
        | _measures(None)
    ]


def _label(result: Design, rank: int) -> str:
    return result.name if len(result.metrics) <= 1 else f"{result.name}_{rank}"


def _fasta_fields(result: Design, d: dict[str, Any]) -> str:
    def text(value: Any, spec: str = "") -> str:
        if value is None:
            return "NA"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return format(value, spec)

    return (
        f"solved={text(d['solved'])} distance={d['distance']} time_s={result.time_s:.2f} seed={result.seed} "
        f"rank={d['rank']} energy={text(d['energy'], '.2f')} probability={text(d['probability'], '.4g')} "
        f"ensemble_defect={text(d['ensemble_defect'], '.4g')} gc_content={text(d['gc_content'], '.3f')} "
        f"unique_mfe={text(d['unique_mfe'])}"
        + ("" if d.get("constraints_satisfied") is None else f" constraints={text(d['constraints_satisfied'])}")
        + (" interrupted=yes" if result.interrupted else "")
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _table(rows: list[list[str]], fmt: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n").writerows(rows)
    return buffer.getvalue()


# -- pictures -------------------------------------------------------------------------------------

#: Positional defect 0 (green), 0.5 (yellow), 1 (red): ColorBrewer's RdYlGn, reversed.
_SCALE = ((0.0, (26, 152, 80)), (0.5, (254, 224, 139)), (1.0, (215, 48, 39)))
_SVG = "http://www.w3.org/2000/svg"
_RADIUS = 6.0  # naview places consecutive bases 15 units apart
_MARGIN = 20.0


def defect_colour(defect: float) -> str:
    """The fill of a base with this positional defect (0..1), as ``#rrggbb``."""
    x = min(max(defect, 0.0), 1.0)
    for (x0, c0), (x1, c1) in zip(_SCALE, _SCALE[1:]):
        if x <= x1:
            t = (x - x0) / (x1 - x0)
            return "#" + "".join(f"{round(a + t * (b - a)):02x}" for a, b in zip(c0, c1))
    raise AssertionError("unreachable: the scale ends at 1")


def safe_name(name: str) -> str:
    """``name`` as a file name: letters, digits, ``._-`` only, at most 80 characters, never empty."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:80] or "target"


class PlotWriter:
    """Writes one SVG per reported design into ``directory``, never twice under one name in a run."""

    def __init__(self, directory: str | Path):
        from ..files import output_directory

        self.directory = output_directory(directory)
        self._taken: set[str] = set()

    def write(self, result: Design) -> list[Path]:
        """The pictures of ``result``'s designs (``NAME.svg``, or ``NAME_RANK.svg`` for several)."""
        paths = []
        for label, svg in design_svgs(result):
            stem = safe_name(label)
            name, k = stem, 1
            while name in self._taken:  # two targets whose names differ only in unsafe characters
                k += 1
                name = f"{stem}-{k}"
            self._taken.add(name)
            path = self.directory / f"{name}.svg"
            atomic_write_text(path, svg)
            paths.append(path)
        return paths


def design_svgs(result: Design) -> list[tuple[str, str]]:
    """The picture of each of ``result``'s designs in rank order, as (label, SVG text): what ``--plot`` writes."""
    from ..model.metrics import positional_defect
    from ..model.structure import parse_structure

    target = parse_structure(result.target, warn=False)
    pictures = []
    for rank, m in enumerate(result.metrics, start=1):
        defect = m.defect or positional_defect(m.sequence, target, result.folding, m.energy)
        title = f"{_label(result, rank)}: rank {rank}, {'solved' if m.solved else f'distance {m.distance}'}"
        pictures.append((_label(result, rank), structure_svg(m.sequence, m.structure, defect, title)))
    return pictures


def structure_svg(sequence: str, structure: str, defect: tuple[float, ...], title: str) -> str:
    """An SVG of ``structure`` (ViennaRNA's naview layout) with each base a circle coloured by ``defect``."""
    import RNA

    coordinates = RNA.naview_xy_coordinates(structure)
    points = [(coordinates[i].X, coordinates[i].Y) for i in range(len(structure))]
    left = min(x for x, _ in points) - _MARGIN
    top = min(y for _, y in points) - _MARGIN - 20  # room for the title
    width = max(max(x for x, _ in points) - left + _MARGIN, 240.0)
    height = max(y for _, y in points) - top + _MARGIN + 40  # room for the legend
    svg = ET.Element(
        "svg", xmlns=_SVG, width=f"{width:.0f}", height=f"{height:.0f}", viewBox=f"0 0 {width:.0f} {height:.0f}"
    )
    ET.SubElement(svg, "title").text = title
    ET.SubElement(svg, "rect", width="100%", height="100%", fill="white")
    shifted = [(x - left, y - top) for x, y in points]
    ET.SubElement(svg, "text", x=f"{_MARGIN / 2:.1f}", y="16", style="font: 12px sans-serif").text = title

    ET.SubElement(
        svg,
        "polyline",
        points=" ".join(f"{x:.2f},{y:.2f}" for x, y in shifted),
        fill="none",
        stroke="#888888",
        **{"stroke-width": "1.5"},
    )
    pairs = ET.SubElement(svg, "g", id="pairs", stroke="#555555", **{"stroke-width": "2"})
    stack: list[int] = []
    for j, symbol in enumerate(structure):
        if symbol == "(":
            stack.append(j)
        elif symbol == ")":
            i = stack.pop()
            (x1, y1), (x2, y2) = shifted[i], shifted[j]
            ET.SubElement(pairs, "line", x1=f"{x1:.2f}", y1=f"{y1:.2f}", x2=f"{x2:.2f}", y2=f"{y2:.2f}")
    bases = ET.SubElement(svg, "g", id="bases", style="font: 8px monospace", **{"text-anchor": "middle"})
    for i, ((x, y), nucleotide, d) in enumerate(zip(shifted, sequence, defect), start=1):
        circle = ET.SubElement(
            bases, "circle", cx=f"{x:.2f}", cy=f"{y:.2f}", r=f"{_RADIUS}", fill=defect_colour(d), stroke="#333333"
        )
        circle.set("class", "base")
        circle.set("data-defect", f"{d:.4f}")
        ET.SubElement(circle, "title").text = f"{i} {nucleotide}: positional defect {d:.3f}"
        ET.SubElement(bases, "text", x=f"{x:.2f}", y=f"{y + 3:.2f}").text = nucleotide
    _legend(svg, _MARGIN / 2, height - 30)
    return ET.tostring(svg, encoding="unicode", xml_declaration=True) + "\n"


def _legend(svg: ET.Element, x: float, y: float) -> None:
    """A bar from defect 0 to 1 in the colours of the bases, labelled."""
    gradient = ET.SubElement(ET.SubElement(svg, "defs"), "linearGradient", id="defect-scale")
    for offset, _ in _SCALE:
        ET.SubElement(gradient, "stop", offset=f"{offset:g}", **{"stop-color": defect_colour(offset)})
    legend = ET.SubElement(svg, "g", id="legend", style="font: 10px sans-serif")
    ET.SubElement(legend, "rect", x=f"{x:.1f}", y=f"{y:.1f}", width="120", height="10", fill="url(#defect-scale)")
    for value, dx in (("0", 0), ("0.5", 60), ("1", 120)):
        ET.SubElement(legend, "text", x=f"{x + dx:.1f}", y=f"{y + 22:.1f}", **{"text-anchor": "middle"}).text = value
    ET.SubElement(legend, "text", x=f"{x + 130:.1f}", y=f"{y + 9:.1f}").text = "positional defect"
