"""Document corpus: the synthetic RVL-CDIP-style generator, OCR over splits, real pages."""

from models.data.labels import CLASS_TO_ID, CLASSES

__all__ = ["CLASSES", "CLASS_TO_ID"]
