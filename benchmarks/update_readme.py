"""Write the README's numbers from the model: validation, rib cage, the time domain.

The numbers between ``<!-- validate:begin -->`` and ``<!-- validate:end -->``, the rib
cage's resection table (``ribs``), the time-domain statements (``timedomain``), their
inputs (``tdinputs``) and the cohort's (``cohort``, a minute's run on two cores) are
never written by hand: run ``.venv/bin/python benchmarks/update_readme.py`` after a
change of the mechanics or a new calibration (``benchmarks/calibrate.py``). The tests
fail when a block but the cohort's is out of date
(``tests/mechanics/test_validation.py``, ``tests/mechanics/test_timedomain.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from spine3d.mechanics.claims import claims_block, cohort_block, inputs_block
from spine3d.mechanics.validation import readme_block, resection_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = {
    ("<!-- validate:begin -->", "<!-- validate:end -->"): readme_block,
    ("<!-- ribs:begin -->", "<!-- ribs:end -->"): resection_block,
    ("<!-- timedomain:begin -->", "<!-- timedomain:end -->"): claims_block,
    ("<!-- tdinputs:begin -->", "<!-- tdinputs:end -->"): inputs_block,
    ("<!-- cohort:begin -->", "<!-- cohort:end -->"): cohort_block,
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
