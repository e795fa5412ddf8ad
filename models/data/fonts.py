"""Font families from Debian font packages (installed by `make sysdeps`), grouped by style."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

# (regular, bold, italic) file names; a family is usable when its regular file exists.
FAMILIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "serif": (
        ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf", "LiberationSerif-Italic.ttf"),
        ("NimbusRoman-Regular.otf", "NimbusRoman-Bold.otf", "NimbusRoman-Italic.otf"),
        ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf"),
        ("FreeSerif.ttf", "FreeSerifBold.ttf", "FreeSerifItalic.ttf"),
        ("Caladea-Regular.ttf", "Caladea-Bold.ttf", "Caladea-Italic.ttf"),
        ("LinLibertine_R.otf", "LinLibertine_RB.otf", "LinLibertine_RI.otf"),
        ("C059-Roman.otf", "C059-Bold.otf", "C059-Italic.otf"),
        ("P052-Roman.otf", "P052-Bold.otf", "P052-Italic.otf"),
        ("URWBookman-Light.otf", "URWBookman-Demi.otf", "URWBookman-LightItalic.otf"),
        ("EBGaramond12-Regular.otf", "EBGaramond12-Bold.otf", "EBGaramond12-Italic.otf"),
    ),
    "sans": (
        ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSans-Italic.ttf"),
        ("NimbusSans-Regular.otf", "NimbusSans-Bold.otf", "NimbusSans-Italic.otf"),
        ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"),
        ("FreeSans.ttf", "FreeSansBold.ttf", "FreeSansOblique.ttf"),
        ("Carlito-Regular.ttf", "Carlito-Bold.ttf", "Carlito-Italic.ttf"),
        ("Roboto-Regular.ttf", "Roboto-Bold.ttf", "Roboto-Italic.ttf"),
        ("OpenSans-Regular.ttf", "OpenSans-Bold.ttf", "OpenSans-Italic.ttf"),
        ("Lato-Regular.ttf", "Lato-Bold.ttf", "Lato-Italic.ttf"),
        ("Cantarell-Regular.otf", "Cantarell-Bold.otf", "Cantarell-Regular.otf"),
        ("URWGothic-Book.otf", "URWGothic-Demi.otf", "URWGothic-BookOblique.otf"),
        (
            "LiberationSansNarrow-Regular.ttf",
            "LiberationSansNarrow-Bold.ttf",
            "LiberationSansNarrow-Italic.ttf",
        ),
    ),
    # Typewriter and fixed-pitch faces: much of RVL-CDIP is typed or printed from terminals.
    "mono": (
        ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf", "LiberationMono-Italic.ttf"),
        ("NimbusMonoPS-Regular.otf", "NimbusMonoPS-Bold.otf", "NimbusMonoPS-Italic.otf"),
        ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf"),
        ("FreeMono.ttf", "FreeMonoBold.ttf", "FreeMonoOblique.ttf"),
    ),
    "hand": (
        ("breipfont.ttf", "breipfont.ttf", "breipfont.ttf"),
        ("dkg.ttf", "dkgBd.ttf", "dkgIt.ttf"),
        ("femkeklaver.ttf", "femkeklaver.ttf", "femkeklaver.ttf"),
        ("Rufscript010.ttf", "Rufscript010.ttf", "Rufscript010.ttf"),
        ("Humor-Sans.ttf", "Humor-Sans.ttf", "Humor-Sans.ttf"),
        ("ComicNeue-Regular.otf", "ComicNeue-Bold.otf", "ComicNeue-Italic.otf"),
        ("SteveHand.ttf", "SteveHand.ttf", "SteveHand.ttf"),
        ("Delphine.ttf", "Delphine.ttf", "Delphine.ttf"),
    ),
    "display": (
        ("Lato-Black.ttf", "Lato-Black.ttf", "Lato-BlackItalic.ttf"),
        ("Roboto-Black.ttf", "Roboto-Black.ttf", "Roboto-BlackItalic.ttf"),
        ("OpenSans-ExtraBold.ttf", "OpenSans-ExtraBold.ttf", "OpenSans-ExtraBoldItalic.ttf"),
        ("Cantarell-ExtraBold.otf", "Cantarell-ExtraBold.otf", "Cantarell-ExtraBold.otf"),
        ("RobotoCondensed-Bold.ttf", "RobotoCondensed-Bold.ttf", "RobotoCondensed-BoldItalic.ttf"),
        ("URWBookman-Demi.otf", "URWBookman-Demi.otf", "URWBookman-DemiItalic.otf"),
        ("Z003-MediumItalic.otf", "Z003-MediumItalic.otf", "Z003-MediumItalic.otf"),
    ),
}


class FontsMissingError(RuntimeError):
    """No font of a needed style is installed."""


@dataclass(frozen=True)
class Family:
    """One typeface in its three cuts, as absolute paths."""

    regular: str
    bold: str
    italic: str


@functools.cache
def _index() -> dict[str, str]:
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.suffix.lower() in (".ttf", ".otf"):
                    found.setdefault(path.name, str(path))
    return found


@functools.cache
def families(style: str) -> tuple[Family, ...]:
    """The installed families of one style, in a fixed order (determinism across runs)."""
    index = _index()
    out = []
    for regular, bold, italic in FAMILIES[style]:
        if regular in index:
            out.append(
                Family(
                    index[regular],
                    index.get(bold, index[regular]),
                    index.get(italic, index[regular]),
                )
            )
    if not out:
        raise FontsMissingError(
            f"no {style!r} font found under {', '.join(map(str, FONT_DIRS))}; "
            "run `make sysdeps` to install the Debian font packages"
        )
    return tuple(out)


@functools.lru_cache(maxsize=1024)
def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A loaded font; loading is slow, so every (file, size) is loaded once per process."""
    # BASIC layout: no complex-script shaping needed, and it draws faster than raqm.
    return ImageFont.truetype(path, size=max(6, int(size)), layout_engine=ImageFont.Layout.BASIC)
