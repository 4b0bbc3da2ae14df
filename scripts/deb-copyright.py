#!/usr/bin/env python3
"""Prints the Debian package's copyright file (machine-readable format 1.0) for `make deb`.

The binary links Swift's libraries and every package in Package.resolved statically, so each
of them is listed with its licence as its checkout in .build/checkouts states it: Apache-2.0 by
reference to /usr/share/common-licenses, any other licence (MIT) in full, and each package's
NOTICE file, as Apache-2.0 asks, in full too.
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKOUTS = ROOT / ".build" / "checkouts"


def formatted(text):
    """Text as a continuation of a field: each line indented, an empty line as " ."."""
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return "\n".join(" " + line if line else " ." for line in lines)


def first_file(directory, names):
    for name in names:
        path = directory / name
        if path.is_file():
            return path
    return None


def licence(directory):
    """(short name, full text or None) of a checkout's licence file."""
    path = first_file(directory, ["LICENSE.txt", "LICENSE", "LICENSE.md", "COPYING"])
    if path is None:
        raise SystemExit(f"deb-copyright: no licence file in {directory}")
    text = path.read_text(errors="replace")
    if "Apache License" in text[:400] and "Version 2.0" in text[:600]:
        return "Apache-2.0", None
    if "Permission is hereby granted, free of charge" in text:
        return f"MIT~{directory.name}", text
    raise SystemExit(f"deb-copyright: {path}: a licence this script does not know; add it")


def main():
    resolved = json.loads((ROOT / "Package.resolved").read_text())
    print("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
    print("Upstream-Name: floorgate")
    print()
    print("Files: *")
    print("Copyright: 2026 the Floorgate team")
    print("License: proprietary")
    print(" All rights reserved by the Floorgate team.")
    print()
    print("Files: usr/bin/floorgate")
    print("Copyright: Apple Inc. and the Swift project authors")
    print("License: Apache-2.0 with Swift Runtime Library Exception")
    print(" The Swift standard library and Foundation are linked into the binary")
    print(" (--static-swift-stdlib). Their licence is Apache-2.0 (see below) with the")
    print(" Runtime Library Exception: https://swift.org/LICENSE.txt")
    texts = {}
    for pin in sorted(resolved["pins"], key=lambda pin: pin["identity"]):
        directory = CHECKOUTS / pin["location"].rstrip("/").split("/")[-1].removesuffix(".git")
        short, text = licence(directory)
        print()
        print("Files: usr/bin/floorgate")
        print(f"Comment: {pin['identity']} {pin['state'].get('version', pin['state'].get('revision', ''))}, {pin['location']}, linked in")
        notice = first_file(directory, ["NOTICE.txt", "NOTICE"])
        if notice is not None:
            print(formatted(notice.read_text(errors="replace")))
        print(f"Copyright: the {pin['identity']} authors")
        print(f"License: {short}")
        if text is not None:
            texts[short] = text
    print()
    print("License: Apache-2.0")
    print(" On Debian systems the full text of the Apache License 2.0 is in")
    print(" /usr/share/common-licenses/Apache-2.0.")
    for short, text in sorted(texts.items()):
        print()
        print(f"License: {short}")
        print(formatted(text))


if __name__ == "__main__":
    main()
