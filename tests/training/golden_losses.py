"""Regenerate tests/training/golden_losses.json: the first training losses of a fixed tiny run.

    python tests/training/golden_losses.py

Run it only after a change that is meant to alter training (tokenizer, prompts, model
construction, trainer); commit the new file with that change and say why in the message.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))

from test_run import GOLDEN, golden_settings

from idprobe.training.run import train_run

FIRST = 8


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        result = train_run(golden_settings(), Path(directory) / "run", progress=False)
    losses = [round(float(x), 6) for x in result.losses[:FIRST]]
    GOLDEN.write_text(
        json.dumps({"settings": golden_settings().to_dict(), "losses": losses}, indent=2) + "\n"
    )
    print(f"wrote {GOLDEN}: {losses}")


if __name__ == "__main__":
    main()
