"""Downloads a data set the notebooks can use instead of their offline stand-ins.

Usage: .venv/bin/python scripts/fetch_data.py stl10 [--dest data] [--url URL] [--md5 MD5]
       (or `make data-stl10`)

Downloads the official archive into DEST (resuming a partial download), checks
its MD5 checksum, and unpacks it (DEST/stl10_binary/). Without internet it
says how to place the archive by hand; run it again afterwards to check and
unpack it. Nothing else in replearn downloads anything.
"""
import argparse
import hashlib
import http.client
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

DATASETS = {
    "stl10": {
        "url": "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
        "md5": "91f7769df0f17e558f3565bffb0c7dfb",
        "archive": "stl10_binary.tar.gz",
        "folder": "stl10_binary",
        "size": "2.6 GB",
    },
}
CHUNK = 1 << 20


def md5_of(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url, part):
    """Appends to `part` from where it stops (HTTP Range); returns when complete."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start again
        total = response.headers.get("Content-Length")
        total = int(total) + have if total else None
        mode = "ab" if have else "wb"
        with open(part, mode) as out:
            done = have
            while True:
                block = response.read(CHUNK)
                if not block:
                    break
                out.write(block)
                done += len(block)
                if total:
                    print(f"\r{done / 1e6:8.1f} / {total / 1e6:.1f} MB", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        if total and done < total:
            raise ConnectionError(f"the connection ended after {done} of {total} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--dest", default="data", type=Path)
    parser.add_argument("--url")
    parser.add_argument("--md5")
    args = parser.parse_args()
    spec = dict(DATASETS[args.dataset])
    spec["url"] = args.url or spec["url"]
    spec["md5"] = args.md5 or spec["md5"]
    args.dest.mkdir(parents=True, exist_ok=True)
    archive = args.dest / spec["archive"]
    part = args.dest / (spec["archive"] + ".part")
    folder = args.dest / spec["folder"]

    if not archive.exists():
        print(f"downloading {spec['url']} ({spec['size']}) to {part}", file=sys.stderr)
        try:
            download(spec["url"], part)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            kept = part.stat().st_size if part.exists() else 0
            print(
                f"\ncannot download {spec['url']}: {e}\n"
                f"{kept} bytes are kept in {part}; run this command again to resume.\n"
                f"Without internet: download the archive elsewhere and copy it to {archive}, then run this command again "
                f"to check and unpack it. Until then the notebooks use their offline stand-in.",
                file=sys.stderr,
            )
            return 1
        part.rename(archive)

    print(f"checking {archive}", file=sys.stderr)
    got = md5_of(archive)
    if got != spec["md5"]:
        bad = archive.with_name(archive.name + ".bad")
        archive.rename(bad)
        print(f"{archive}: MD5 {got}, expected {spec['md5']}: the file is damaged or not the official archive. "
              f"It was moved to {bad}; run this command again to download it afresh.", file=sys.stderr)
        return 1
    with tarfile.open(archive) as tar:
        tar.extractall(args.dest, filter="data")
    if not folder.is_dir():
        print(f"{archive} did not contain {spec['folder']}/", file=sys.stderr)
        return 1
    print(f"{args.dataset} is ready in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
