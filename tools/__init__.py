"""Build tools run from the repository (not part of the installed package or the image)."""
