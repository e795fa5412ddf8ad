"""Corpus v2: pages rendered by real document engines from templates of our own.

Each engine writes a PDF; base.pdf_pages rasterises it and reads words and boxes from the PDF's
text layer (pypdfium2), so ground truth is what the engine laid out, not what OCR saw."""
