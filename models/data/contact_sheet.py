"""A contact sheet of the synthetic corpus: a few variants of every class on one PNG.

python -m models.data.contact_sheet --out docs/contact_sheet.png [--variants 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from PIL import Image, ImageDraw
from tqdm import tqdm

from models.data import fonts
from models.data.labels import CLASSES
from models.data.page import render
from models.data.synth import page_seed

log = logging.getLogger("docexit.contact_sheet")


def contact_sheet(
    variants: int = 3, seed: int = 0, thumb_height: int = 260, per_row: int = 4
) -> Image.Image:
    """Classes in a grid of `per_row` cells; each cell shows `variants` pages side by side."""
    thumb_w = int(thumb_height * 0.8)
    gap, label_h = 10, 26
    cell_w = variants * (thumb_w + gap)
    cell_h = label_h + thumb_height + gap
    rows = -(-len(CLASSES) // per_row)
    sheet = Image.new("L", (per_row * cell_w + gap, rows * cell_h + gap), 235)
    draw = ImageDraw.Draw(sheet)
    font = fonts.font(fonts.families("sans")[0].bold, 18)
    for k, label in enumerate(tqdm(CLASSES, desc="contact sheet", unit="class")):
        x0, y0 = gap + (k % per_row) * cell_w, gap + (k // per_row) * cell_h
        draw.text((x0, y0), f"{k} {label}", font=font, fill=0)
        for v in range(variants):
            page = render(label, page_seed(seed, label, v)).image
            page.thumbnail((thumb_w, thumb_height), Image.Resampling.LANCZOS)
            x = x0 + v * (thumb_w + gap)
            sheet.paste(page, (x, y0 + label_h))
            draw.rectangle(
                (x - 1, y0 + label_h - 1, x + page.width, y0 + label_h + page.height), outline=120
            )
    return sheet


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.data.contact_sheet", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("docs/contact_sheet.png"))
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(args.variants, args.seed).save(args.out, optimize=True)
    log.info("contact sheet: %s", args.out)


if __name__ == "__main__":
    main()
