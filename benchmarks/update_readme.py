"""Write the model-versus-published tables of README.md from ``spine3d validate``.

The numbers between ``<!-- validate:begin -->`` and ``<!-- validate:end -->`` (and the
rib cage's resection table between ``<!-- ribs:begin -->`` and ``<!-- ribs:end -->``)
are never written by hand: run ``.venv/bin/python benchmarks/update_readme.py`` after a change of
the mechanics or a new calibration (``benchmarks/calibrate.py``);
``tests/mechanics/test_validation.py`` fails when the README is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from spine3d.mechanics.validation import readme_block, resection_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = {
    ("<!-- validate:begin -->", "<!-- validate:end -->"): readme_block,
    ("<!-- ribs:begin -->", "<!-- ribs:end -->"): resection_block,
}


def main() -> int:
    text = README.read_text(encoding="utf-8")
    for (begin, end), make in BLOCKS.items():
        if begin not in text or end not in text:
            print(f"Error: {README}: no {begin} ... {end} block", file=sys.stderr)
            return 2
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + begin + "\n" + make() + end + tail
    README.write_text(text, encoding="utf-8")
    print(f"wrote the validation and rib cage tables of {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
