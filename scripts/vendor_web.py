"""Copy the browser files of shelfscan's pages out of ``web/node_modules`` into the package.

Run by ``make web`` after ``npm ci`` (web/package-lock.json pins the packages and their integrity hashes):
onnxruntime-web (the live camera page's runtime) to ``src/shelfscan/serve/static/vendor/ort/`` and swagger-ui-dist
(the /docs page) to ``.../vendor/swagger/`` — git-ignored, shipped in wheels built afterwards — each with a
``VENDOR.json`` naming the package, version, licence and each file's SHA-256.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "shelfscan" / "serve" / "static" / "vendor"
# package -> (folder under vendor/, files from its dist folder)
PACKAGES = {
    # ort.min.mjs is the WebGPU + WASM build; it loads the JSEP wasm pair below for both execution providers
    "onnxruntime-web": ("ort", "dist", ("ort.min.mjs", "ort-wasm-simd-threaded.jsep.mjs",
                                        "ort-wasm-simd-threaded.jsep.wasm")),
    "swagger-ui-dist": ("swagger", ".", ("swagger-ui-bundle.js", "swagger-ui.css")),
}


def main() -> int:
    for package, (folder, dist, files) in PACKAGES.items():
        rc = vendor(ROOT / "web" / "node_modules" / package, VENDOR / folder, dist, files)
        if rc:
            return rc
    return 0


def vendor(package: Path, dest: Path, dist: str, files: tuple[str, ...]) -> int:
    """Copy ``files`` from ``package/dist`` into a fresh ``dest`` with a VENDOR.json; 1 when something is missing."""
    meta_path = package / "package.json"
    if not meta_path.is_file():
        print(f"expected {package.name} at {package}, got nothing: run `npm ci` in {ROOT / 'web'} first",
              file=sys.stderr)
        return 1
    meta = json.loads(meta_path.read_text())
    version = meta["version"]
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    hashes = {}
    for name in files:
        src = package / dist / name
        if not src.is_file():
            print(f"expected {src} in {package.name} {version}, got no such file", file=sys.stderr)
            return 1
        shutil.copyfile(src, dest / name)
        hashes[name] = hashlib.sha256(src.read_bytes()).hexdigest()
    (dest / "VENDOR.json").write_text(json.dumps({"package": package.name, "version": version,
                                                  "license": meta.get("license"), "homepage": meta.get("homepage"),
                                                  "files": hashes}, indent=2) + "\n")
    size = sum((dest / n).stat().st_size for n in files) / 2**20
    print(f"vendored {package.name} {version} ({size:.1f} MiB) into {dest.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
