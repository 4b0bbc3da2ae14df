#!/usr/bin/env python3
"""Prints the Debian package's copyright file (machine-readable format 1.0) for `make deb`.

The binary links Swift's libraries and the packages of Package.resolved statically (all but
those only the tests use), so one paragraph for usr/bin/floorgate names them all with their
licences as their checkouts in .build/checkouts state them: Apache-2.0 by reference to
/usr/share/common-licenses (with each package's NOTICE in full, as Apache-2.0 asks), MIT in
full, once per package (the texts differ in their copyright lines).
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKOUTS = ROOT / ".build" / "checkouts"
# Packages only test targets depend on (Package.swift): not in the binary.
TEST_ONLY = {"swift-property-based"}
# Code vendored inside a package, with its own licence: (package, path, what it is).
VENDORED = [("tomlkit", "Sources/CTOML/Sources/toml.hpp", "toml++ (Mark Gillard), in TOMLKit")]


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
        return "MIT", text
    raise SystemExit(f"deb-copyright: {path}: a licence this script does not know; add it")


def vendored_mit(directory, path):
    """The MIT notice at the head of a vendored source file, without its comment marks."""
    lines = []
    for line in (directory / path).read_text(errors="replace").splitlines()[:80]:
        if not line.startswith("//"):
            if lines:
                break
            continue
        lines.append(line[2:].strip())
    text = "\n".join(lines)
    start = text.find("Copyright")
    if start < 0 or "Permission is hereby granted" not in text:
        raise SystemExit(f"deb-copyright: {directory / path}: no MIT notice found")
    return text[start:]


def main():
    resolved = json.loads((ROOT / "Package.resolved").read_text())
    packages = []  # (identity, version, location, short licence)
    notices, mit_texts = [], []
    for pin in sorted(resolved["pins"], key=lambda pin: pin["identity"]):
        if pin["identity"] in TEST_ONLY:
            continue
        directory = CHECKOUTS / pin["location"].rstrip("/").split("/")[-1].removesuffix(".git")
        short, text = licence(directory)
        version = pin["state"].get("version") or pin["state"].get("revision", "")[:12]
        packages.append((pin["identity"], version, pin["location"], short))
        notice = first_file(directory, ["NOTICE.txt", "NOTICE"])
        if notice is not None:
            notices.append((pin["identity"], notice.read_text(errors="replace")))
        if text is not None:
            mit_texts.append((pin["identity"], text))
        for package, path, what in VENDORED:
            if package == pin["identity"]:
                mit_texts.append((what, vendored_mit(directory, path)))

    print("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
    print("Upstream-Name: floorgate")
    print()
    print("Files: *")
    print("Copyright: 2026 the Floorgate team")
    print("License: proprietary")
    print()
    print("Files: usr/bin/floorgate")
    print("Copyright: 2026 the Floorgate team")
    print(" Apple Inc. and the Swift project authors")
    for identity, _, _, _ in packages:
        print(f" the {identity} authors")
    for what, _ in [item for item in mit_texts if item[0] not in {p[0] for p in packages}]:
        print(f" {what}")
    print("License: proprietary and Apache-2.0 and MIT")
    print("Comment: Linked into the binary: Swift's standard library and Foundation")
    print(" (--static-swift-stdlib; Apache-2.0 with the Runtime Library Exception,")
    print(" https://swift.org/LICENSE.txt) and these packages:")
    for identity, version, location, short in packages:
        print(f" {identity} {version} ({short}), {location}")
    print(" .")
    print(" The NOTICE files of the Apache-2.0 packages:")
    for identity, text in notices:
        print(" .")
        print(f" {identity}:")
        print(formatted(text))
    print()
    print("License: Apache-2.0")
    print(" On Debian systems the full text of the Apache License 2.0 is in")
    print(" /usr/share/common-licenses/Apache-2.0.")
    print()
    print("License: MIT")
    print(" Each MIT-licensed part's own licence, with its copyright line:")
    for what, text in mit_texts:
        print(" .")
        print(f" {what}:")
        print(formatted(text))
    print()
    print("License: proprietary")
    print(" All rights reserved by the Floorgate team.")


if __name__ == "__main__":
    main()
