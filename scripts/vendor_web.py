"""Copy the browser runtime of the live camera page out of ``web/node_modules`` into the package.

Run by ``make web`` after ``npm ci`` (web/package-lock.json pins onnxruntime-web and its integrity hash). The files
land in ``src/shelfscan/serve/static/vendor/ort/`` (git-ignored, shipped in wheels built afterwards) with a
``VENDOR.json`` naming the package, version and each file's SHA-256, which ``shelfscan serve`` reports on /healthz.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "web" / "node_modules" / "onnxruntime-web"
DEST = ROOT / "src" / "shelfscan" / "serve" / "static" / "vendor" / "ort"
# ort.min.mjs is the WebGPU + WASM build; it loads the JSEP wasm pair below for both execution providers
FILES = ("ort.min.mjs", "ort-wasm-simd-threaded.jsep.mjs", "ort-wasm-simd-threaded.jsep.wasm")


def main() -> int:
    meta_path = PACKAGE / "package.json"
    if not meta_path.is_file():
        print(f"expected onnxruntime-web at {PACKAGE}, got nothing: run `npm ci` in {ROOT / 'web'} first",
              file=sys.stderr)
        return 1
    version = json.loads(meta_path.read_text())["version"]
    if DEST.exists():
        shutil.rmtree(DEST)
    DEST.mkdir(parents=True)
    hashes = {}
    for name in FILES:
        src = PACKAGE / "dist" / name
        if not src.is_file():
            print(f"expected {src} in onnxruntime-web {version}, got no such file", file=sys.stderr)
            return 1
        shutil.copyfile(src, DEST / name)
        hashes[name] = hashlib.sha256(src.read_bytes()).hexdigest()
    meta = json.loads(meta_path.read_text())
    (DEST / "VENDOR.json").write_text(json.dumps({"package": "onnxruntime-web", "version": version,
                                                  "license": meta.get("license"), "homepage": meta.get("homepage"),
                                                  "files": hashes}, indent=2) + "\n")
    size = sum((DEST / n).stat().st_size for n in FILES) / 2**20
    print(f"vendored onnxruntime-web {version} ({size:.1f} MiB) into {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
