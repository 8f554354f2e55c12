"""Engine-side fixes for VLMEvalKit 0.0.20 in a CPU environment. Runs INSIDE VLMEvalKit's environment.

Imported by `engine_driver.py` and by `testing/tiny_idefics3.py` (which builds test checkpoints with the
engine's transformers); standard library at import, torch / transformers inside the functions.

torchvision: PyPI's wheel is built for CUDA torch and its compiled operators cannot load next to the CPU
torch of the engine environment; `import torchvision` then fails registering a fake kernel for
`torchvision::nms`. VLMEvalKit imports torchvision at module level for a few video/document datasets, so when
that happens `import_torchvision` declares the two operator schemas torchvision expects (no kernels: calling
them still fails) and imports it again. API models never call them, nor does the Idefics3 image processor of a
local DOCLING checkpoint (it uses torchvision's Python transforms only).

transformers 5 renamed `AutoModelForVision2Seq` (which VLMEvalKit 0.0.20's IDEFICS2 and DOCLING import) to
`AutoModelForImageTextToText`; when a local model is built and the old name is missing, `transformers_compat`
adds it back as an alias of the new class. On transformers 4.x it changes nothing.
"""

from __future__ import annotations

import sys


def import_torchvision() -> None:
    """Import torchvision; if its CUDA-only operators cannot load, declare their schemas and retry."""
    try:
        import torchvision  # noqa: F401
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
        import torch

        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        globals()["_torchvision_schemas"] = lib  # the Library must outlive this function
        import torchvision  # noqa: F401,F811

        print("[evalscope driver] torchvision's compiled ops are unavailable (CUDA build); schemas declared",
              flush=True)  # fmt: skip


def transformers_compat() -> None:
    """Give transformers 5 back the name `AutoModelForVision2Seq`, which VLMEvalKit 0.0.20 still imports.

    transformers 5 renamed the auto class to `AutoModelForImageTextToText` (the same mapping: idefics2,
    idefics3, ...). Called when a local model is built — not at start-up, because transformers replaces its
    lazy module in `sys.modules` while VLMEvalKit is being imported, which would drop an alias set earlier.
    """
    import transformers

    if not hasattr(transformers, "AutoModelForVision2Seq") and hasattr(
        transformers, "AutoModelForImageTextToText"
    ):
        setattr(transformers, "AutoModelForVision2Seq", transformers.AutoModelForImageTextToText)  # noqa: B010
        print(
            "[evalscope driver] transformers.AutoModelForVision2Seq = AutoModelForImageTextToText", flush=True
        )
