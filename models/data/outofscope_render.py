"""Render one out-of-scope page (models.data.outofscope) as a grayscale image.

Pages are grayscale like RVL-CDIP's and the real validation pages. Pages with print on them
(sheet music, code, maps, screenshots, blank paper) keep a 1000 px long side, so that Tesseract
reads them as it reads a document; photos and artwork are stored at a 640 px long side, which
keeps the folder small and loses nothing the model sees (it reads a few hundred pixels a side).

How each kind is made:
- ``image``: an image file as shipped (first frame);
- ``abc``: ABC music notation typeset by abcm2ps, PostScript distilled by ghostscript;
- ``code``: a source file printed by pygments (HTML, monochrome style) and WeasyPrint on A4;
- ``relief``: an elevation grid drawn as a shaded-relief map with contour lines by matplotlib;
- ``blank``: an empty page, or one with a page number only, through a scanner's look (augraphy).

Everything but the blank pages comes out byte for byte the same on every run; some augraphy
steps draw noise outside the pipeline's seed, so a blank page is made again alike but not
identical (the committed image and its SHA-256 in sources.json are the reference).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models.data.realdocs_render import ps_to_pdf, render_pdf

PAGE_SIDE = 1000
PHOTO_SIDE = 640
_A4 = (827, 1169)  # 100 dpi


def long_side(image: Image.Image, side: int) -> Image.Image:
    """Grayscale, scaled so that its long side is `side` px."""
    image = image.convert("L")
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def image_page(data: bytes, side: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        rgb = image.convert("RGBA")
    # Transparent parts (icons, screenshots with shadows) are shown on white paper.
    paper = Image.new("RGBA", rgb.size, (255, 255, 255, 255))
    return long_side(Image.alpha_composite(paper, rgb), side)


def abc_page(data: bytes, page: int) -> Image.Image:
    """Page `page` (0-based) of an ABC file typeset by abcm2ps."""
    with tempfile.TemporaryDirectory(prefix="outofscope-abc-") as tmp:
        src, out = Path(tmp) / "in.abc", Path(tmp) / "out.ps"
        src.write_bytes(data)
        # abcm2ps exits 1 when one tune of a file has an error and still typesets the others.
        run = subprocess.run(
            ["abcm2ps", "-q", "-O", str(out), str(src)], capture_output=True, cwd=tmp
        )
        if not out.exists():
            raise RuntimeError(f"abcm2ps made no page: {run.stderr.decode(errors='replace')}")
        return long_side(render_pdf(ps_to_pdf(out.read_bytes()), page), PAGE_SIDE)


def code_page(text: str, filename: str) -> Image.Image:
    """The first A4 page of a source file as a code printout (line numbers, monochrome)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_for_filename
    from weasyprint import HTML

    formatter = HtmlFormatter(style="bw", linenos="inline", noclasses=True)
    body = highlight(text, get_lexer_for_filename(filename, text), formatter)
    html = (
        "<html><head><style>@page { size: A4; margin: 16mm 14mm }"
        " pre { font-family: 'DejaVu Sans Mono'; font-size: 8.5pt; line-height: 1.25 }"
        " h1 { font: 9pt 'DejaVu Sans'; border-bottom: 0.5pt solid black }</style></head>"
        f"<body><h1>{filename}</h1>{body}</body></html>"
    )
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return long_side(render_pdf(pdf, 0), PAGE_SIDE)


def relief_page(data: bytes) -> Image.Image:
    """An elevation grid (an .npz with an `elevation` array) as a shaded-relief map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LightSource

    with np.load(io.BytesIO(data)) as grid:
        z = grid["elevation"].astype(float)
    fig = plt.figure(figsize=(8.27, 11.69), dpi=100)
    ax = fig.add_axes((0.08, 0.08, 0.84, 0.84))
    ax.imshow(LightSource(azdeg=315, altdeg=45).hillshade(z, vert_exag=0.05), cmap="gray")
    ax.contour(z, levels=12, colors="black", linewidths=0.4)
    ax.set_xticks([])
    ax.set_yticks([])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return long_side(Image.open(buffer), PAGE_SIDE)


def blank_page(seed: int, style: str, mark: str | None) -> Image.Image:
    """White A4 paper, with `mark` (e.g. a page number) printed at its foot when given, through
    one of models.data.scan's scanner looks, or `dirty` (a worn copier's toner and streaks)."""
    page = Image.new("L", _A4, 255)
    if mark:
        draw = ImageDraw.Draw(page)
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 15)
        width = draw.textlength(mark, font=font)
        draw.text(((_A4[0] - width) / 2, _A4[1] - 70), mark, fill=0, font=font)
    if style == "clean":
        return long_side(page, PAGE_SIDE)
    pixels = np.asarray(page)
    with contextlib.chdir(_scratch()):  # augraphy writes ./augraphy_cache
        out = _pipeline(style, seed)(pixels)
    out = out if out.ndim == 2 else out[..., 0]
    return long_side(Image.fromarray(out), PAGE_SIDE)


def _pipeline(style: str, seed: int) -> Any:
    from models.data import scan  # imports augraphy (slow): only when a blank page is made

    if style in scan.STYLES:
        return scan.STYLES[style](seed)
    from augraphy import (
        AugraphyPipeline,
        BadPhotoCopy,
        DirtyDrum,
        DirtyRollers,
        LightingGradient,
        NoiseTexturize,
    )

    return AugraphyPipeline(
        ink_phase=[],
        paper_phase=[NoiseTexturize(sigma_range=(3, 6), turbulence_range=(2, 5), p=1.0)],
        post_phase=[
            DirtyRollers(line_width_range=(2, 16), p=0.5),
            DirtyDrum(line_width_range=(1, 3), line_concentration=0.1, p=0.7),
            BadPhotoCopy(noise_sparsity=(0.6, 0.9), p=0.8),
            LightingGradient(max_brightness=255, min_brightness=170, p=0.6),
        ],
        random_seed=seed,
    )


_SCRATCH: list[Path] = []


def _scratch() -> Path:
    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="outofscope-augraphy-")))
    return _SCRATCH[0]
