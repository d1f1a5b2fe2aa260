"""Fetch or verify the front-end files roomsync serves unmodified (Swagger UI for /docs).

The manifest ``src/roomsync/web/pages/static/vendor/assets.json`` pins each npm package's
version and the registry's sha512 integrity of its tarball, and the sha256 of every file
taken from it. The files are committed, so running roomsync needs only Python:

    python scripts/fetch_assets.py --verify   # the committed files match the manifest
    python scripts/fetch_assets.py            # fetch the pinned tarball again, check, extract
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "src/roomsync/web/pages/static/vendor"
MANIFEST = VENDOR / "assets.json"
REGISTRY = "https://registry.npmjs.org/"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(name: str, entry: dict[str, object]) -> None:
    url = REGISTRY + str(entry["tarball"])  # always https, the registry fixed above
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310
        tarball = answer.read()
    algorithm, _, expected = str(entry["integrity"]).partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if digest != expected:
        sys.exit(f"{name}: the tarball's {algorithm} is {digest}, the manifest pins {expected}")
    files: dict[str, str] = entry["files"]  # type: ignore[assignment]
    sums: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, target in files.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                sys.exit(f"{name}: {member} is not in the tarball")
            data = extracted.read()
            (VENDOR / target).parent.mkdir(parents=True, exist_ok=True)
            (VENDOR / target).write_bytes(data)
            sums[target] = _sha256(data)
    entry["sha256"] = sums


def verify(name: str, entry: dict[str, object]) -> list[str]:
    sums: dict[str, str] = entry["sha256"]  # type: ignore[assignment]
    problems = []
    for target, expected in sums.items():
        path = VENDOR / target
        if not path.is_file():
            problems.append(f"{name}: {target} is missing")
        elif _sha256(path.read_bytes()) != expected:
            problems.append(f"{name}: {target} differs from the pinned sha256")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verify", action="store_true", help="only check the committed files")
    arguments = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    if arguments.verify:
        problems = [p for name, entry in manifest.items() for p in verify(name, entry)]
        if problems:
            sys.exit("\n".join(problems))
        print(f"fetch_assets: {len(manifest)} package(s) match {MANIFEST.name}")
        return
    for name, entry in manifest.items():
        fetch(name, entry)
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"fetch_assets: fetched and checked {', '.join(manifest)}")


if __name__ == "__main__":
    main()
