"""PP-OCR model folders for paddleocr, built from the ONNX models the rapidocr package ships.

    python -m tools.paddle_models --out build/paddle-models

writes OUT/det and OUT/rec, each an inference.onnx plus the inference.yml that paddlex reads
(model name, pre- and post-processing and, for recognition, the character dictionary, which
rapidocr keeps in the ONNX file's metadata). Why: paddleocr 3.x fetches its models from model
hubs at run time, which our machines and CI cannot reach; with these folders and
engine="onnxruntime" the paddleocr engine runs offline (service.ocr_engines.PaddleOcrEngine
reads them from DOCEXIT_PADDLE_DET_DIR and DOCEXIT_PADDLE_REC_DIR). Idempotent: files already
up to date are left alone, so `make test-paddle` can run it every time.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.resources
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("docexit.paddle_models")
# rapidocr 3.x names its models e.g. PP-OCRv6_det_small.onnx; paddlex says PP-OCRv6_small_det.
_ONNX_NAME = re.compile(r"^(PP-OCRv\d+)_(det|rec)_([a-z]+)\.onnx$")
_BGR = {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}}


def _det_config(name: str) -> dict[str, Any]:
    """As in PaddleX's own PP-OCR det inference.yml (the OCR pipeline overrides the limits)."""
    transforms = [
        _BGR,
        {"DetLabelEncode": None},
        {"DetResizeForTest": {"resize_long": 960}},
        {
            "NormalizeImage": {
                "mean": [0.485, 0.456, 0.406],
                "std": [0.229, 0.224, 0.225],
                "scale": 1 / 255,
                "order": "hwc",
            }
        },
        {"ToCHWImage": None},
        {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
    ]
    post = {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.6}
    post |= {"max_candidates": 1000, "unclip_ratio": 1.5}
    pre = {"transform_ops": transforms}
    return {"Global": {"model_name": name}, "PreProcess": pre, "PostProcess": post}


def _rec_config(name: str, characters: list[str]) -> dict[str, Any]:
    transforms = [
        _BGR,
        {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
        {"RecResizeImg": {"image_shape": [3, 48, 320]}},
        {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]}},
    ]
    post = {"name": "CTCLabelDecode", "character_dict": characters}
    pre = {"transform_ops": transforms}
    return {"Global": {"model_name": name}, "PreProcess": pre, "PostProcess": post}


def _characters(onnx_file: Path) -> list[str]:
    """The recognizer's dictionary, one entry per line of the ONNX `character` metadata (the
    decoder adds the CTC blank in front and the space at the end, as rapidocr does)."""
    import onnxruntime as ort

    meta = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    text = meta.get_modelmeta().custom_metadata_map.get("character")
    if not text:
        raise RuntimeError(f"{onnx_file} has no `character` metadata to take the dictionary from")
    return text.split("\n")


def rapidocr_models() -> dict[str, tuple[str, Path]]:
    """{"det"|"rec": (paddlex model name, ONNX file)} inside the installed rapidocr package."""
    try:
        root = Path(str(importlib.resources.files("rapidocr") / "models"))
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "rapidocr is not installed; it ships the PP-OCR ONNX models "
            "(pip install --require-hashes -r requirements/paddle.txt, or `make test-paddle`)"
        ) from exc
    found: dict[str, tuple[str, Path]] = {}
    for path in sorted(root.glob("*.onnx")):
        if m := _ONNX_NAME.match(path.name):
            version, task, size = m.groups()
            found.setdefault(task, (f"{version}_{size}_{task}", path))
    missing = {"det", "rec"} - found.keys()
    if missing:
        raise RuntimeError(f"no PP-OCR {'/'.join(sorted(missing))} ONNX model in {root}")
    return found


def _write(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def _copy(src: Path, dst: Path) -> bool:
    if dst.exists() and filecmp.cmp(src, dst, shallow=False):
        return False
    tmp = dst.with_suffix(dst.suffix + ".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    return True


def build(out: Path) -> dict[str, Path]:
    """Writes out/det and out/rec; returns {"det": folder, "rec": folder}."""
    folders = {}
    for task, (name, onnx_file) in sorted(rapidocr_models().items()):
        folder = out / task
        folder.mkdir(parents=True, exist_ok=True)
        config = _det_config(name) if task == "det" else _rec_config(name, _characters(onnx_file))
        text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=1000)
        changed = _copy(onnx_file, folder / "inference.onnx")
        changed |= _write(folder / "inference.yml", text.encode())
        log.info("%s: %s %s", folder, name, "written" if changed else "up to date")
        folders[task] = folder
    return folders


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.paddle_models", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for det/ and rec/")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        build(args.out)
    except RuntimeError as exc:
        parser.exit(1, f"error: {exc}\n")


if __name__ == "__main__":
    main()
