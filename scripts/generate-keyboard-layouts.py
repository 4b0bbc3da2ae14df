#!/usr/bin/env python3
"""Generate Sources/DeviceProtocols/Generated/KeyboardLayouts.swift, the keyboard-wedge tables
that turn HID boot-keyboard usages (page 0x07) into characters for `--layout` (PROTOCOLS.md §5.2).

The tables come from Debian's xkb-data (xkeyboard-config symbols under /usr/share/X11/xkb),
compiled with libxkbcommon through ctypes (libxkbcommon.so.0; no development headers needed),
rules "evdev", model "pc105", no options. For each layout and each HID usage 0x00-0x67 the
script records the character at four levels -- plain, Shift, AltGr, Shift+AltGr -- by pressing
the modifier keys themselves on a fresh xkb_state (NumLock pressed and released first, then
KEY_LEFTSHIFT and/or KEY_RIGHTALT held), so the keymap decides what Right Alt does. A cell is the
Unicode code point the key's keysym types when that is printable (>= 0x20, not 0x7F-0x9F) or
TAB; otherwise 0 (dead keys, Enter, Escape, Backspace, function keys, arrows, modifiers).

Usage: scripts/generate-keyboard-layouts.py [--output PATH] [--xkb-root DIR]
Needs Python 3.11 (stdlib only), libxkbcommon0 and xkb-data. The output depends only on those
two packages: running it twice gives byte-identical files. A keymap that fails to compile stops
the script with a non-zero exit and a message naming the layout.
"""
import argparse
import ctypes
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(REPO, "Sources", "DeviceProtocols", "Generated", "KeyboardLayouts.swift")
DEFAULT_XKB_ROOT = "/usr/share/X11/xkb"

RULES, MODEL, OPTIONS = "evdev", "pc105", ""

# Floorgate name -> (xkb layout, xkb variant). The order is the order of `KeyboardLayout.generated`
# (and of `floorgate decode --list`).
LAYOUTS = [
    ("us", "us", ""),
    ("uk", "gb", ""),
    ("de", "de", ""),
    ("fr", "fr", ""),
    ("be", "be", ""),
    ("es", "es", ""),
    ("it", "it", ""),
    ("ch", "ch", ""),  # variant "" = Swiss German
    ("se", "se", ""),
    ("no", "no", ""),
    ("dk", "dk", ""),
]

# HID keyboard usage (page 0x07) -> Linux evdev key code, after drivers/hid/hid-input.c
# `hid_keyboard[256]`. None = usage without a key (0x00 reserved, 0x01 ErrorRollOver,
# 0x02 POSTFail, 0x03 ErrorUndefined). xkb key code = evdev key code + 8.
HID_TO_EVDEV = [
    None, None, None, None,      # 0x00-0x03: no key
    30,   # 0x04 a          KEY_A
    48,   # 0x05 b          KEY_B
    46,   # 0x06 c          KEY_C
    32,   # 0x07 d          KEY_D
    18,   # 0x08 e          KEY_E
    33,   # 0x09 f          KEY_F
    34,   # 0x0A g          KEY_G
    35,   # 0x0B h          KEY_H
    23,   # 0x0C i          KEY_I
    36,   # 0x0D j          KEY_J
    37,   # 0x0E k          KEY_K
    38,   # 0x0F l          KEY_L
    50,   # 0x10 m          KEY_M
    49,   # 0x11 n          KEY_N
    24,   # 0x12 o          KEY_O
    25,   # 0x13 p          KEY_P
    16,   # 0x14 q          KEY_Q
    19,   # 0x15 r          KEY_R
    31,   # 0x16 s          KEY_S
    20,   # 0x17 t          KEY_T
    22,   # 0x18 u          KEY_U
    47,   # 0x19 v          KEY_V
    17,   # 0x1A w          KEY_W
    45,   # 0x1B x          KEY_X
    21,   # 0x1C y          KEY_Y
    44,   # 0x1D z          KEY_Z
    2,    # 0x1E 1          KEY_1
    3,    # 0x1F 2          KEY_2
    4,    # 0x20 3          KEY_3
    5,    # 0x21 4          KEY_4
    6,    # 0x22 5          KEY_5
    7,    # 0x23 6          KEY_6
    8,    # 0x24 7          KEY_7
    9,    # 0x25 8          KEY_8
    10,   # 0x26 9          KEY_9
    11,   # 0x27 0          KEY_0
    28,   # 0x28 Enter      KEY_ENTER
    1,    # 0x29 Escape     KEY_ESC
    14,   # 0x2A Backspace  KEY_BACKSPACE
    15,   # 0x2B Tab        KEY_TAB
    57,   # 0x2C Space      KEY_SPACE
    12,   # 0x2D - _        KEY_MINUS
    13,   # 0x2E = +        KEY_EQUAL
    26,   # 0x2F [ {        KEY_LEFTBRACE
    27,   # 0x30 ] }        KEY_RIGHTBRACE
    43,   # 0x31 \ |        KEY_BACKSLASH
    43,   # 0x32 ISO # ~    KEY_BACKSLASH (Linux maps the non-US # key to the same code)
    39,   # 0x33 ; :        KEY_SEMICOLON
    40,   # 0x34 ' "        KEY_APOSTROPHE
    41,   # 0x35 ` ~        KEY_GRAVE
    51,   # 0x36 , <        KEY_COMMA
    52,   # 0x37 . >        KEY_DOT
    53,   # 0x38 / ?        KEY_SLASH
    58,   # 0x39 Caps Lock  KEY_CAPSLOCK
    59,   # 0x3A F1         KEY_F1
    60,   # 0x3B F2         KEY_F2
    61,   # 0x3C F3         KEY_F3
    62,   # 0x3D F4         KEY_F4
    63,   # 0x3E F5         KEY_F5
    64,   # 0x3F F6         KEY_F6
    65,   # 0x40 F7         KEY_F7
    66,   # 0x41 F8         KEY_F8
    67,   # 0x42 F9         KEY_F9
    68,   # 0x43 F10        KEY_F10
    87,   # 0x44 F11        KEY_F11
    88,   # 0x45 F12        KEY_F12
    99,   # 0x46 PrintScr   KEY_SYSRQ
    70,   # 0x47 ScrollLock KEY_SCROLLLOCK
    119,  # 0x48 Pause      KEY_PAUSE
    110,  # 0x49 Insert     KEY_INSERT
    102,  # 0x4A Home       KEY_HOME
    104,  # 0x4B PageUp     KEY_PAGEUP
    111,  # 0x4C Delete     KEY_DELETE
    107,  # 0x4D End        KEY_END
    109,  # 0x4E PageDown   KEY_PAGEDOWN
    106,  # 0x4F Right      KEY_RIGHT
    105,  # 0x50 Left       KEY_LEFT
    108,  # 0x51 Down       KEY_DOWN
    103,  # 0x52 Up         KEY_UP
    69,   # 0x53 NumLock    KEY_NUMLOCK
    98,   # 0x54 KP /       KEY_KPSLASH
    55,   # 0x55 KP *       KEY_KPASTERISK
    74,   # 0x56 KP -       KEY_KPMINUS
    78,   # 0x57 KP +       KEY_KPPLUS
    96,   # 0x58 KP Enter   KEY_KPENTER
    79,   # 0x59 KP 1       KEY_KP1
    80,   # 0x5A KP 2       KEY_KP2
    81,   # 0x5B KP 3       KEY_KP3
    75,   # 0x5C KP 4       KEY_KP4
    76,   # 0x5D KP 5       KEY_KP5
    77,   # 0x5E KP 6       KEY_KP6
    71,   # 0x5F KP 7       KEY_KP7
    72,   # 0x60 KP 8       KEY_KP8
    73,   # 0x61 KP 9       KEY_KP9
    82,   # 0x62 KP 0       KEY_KP0
    83,   # 0x63 KP .       KEY_KPDOT
    86,   # 0x64 ISO < >    KEY_102ND
    127,  # 0x65 Menu       KEY_COMPOSE
    116,  # 0x66 Power      KEY_POWER
    117,  # 0x67 KP =       KEY_KPEQUAL
]
assert len(HID_TO_EVDEV) == 0x68

KEY_NUMLOCK, KEY_LEFTSHIFT, KEY_RIGHTALT = 69, 42, 100
EVDEV_OFFSET = 8

XKB_CONTEXT_NO_DEFAULT_INCLUDES = 1 << 0
XKB_CONTEXT_NO_ENVIRONMENT_NAMES = 1 << 1
XKB_KEYMAP_COMPILE_NO_FLAGS = 0
XKB_KEY_UP, XKB_KEY_DOWN = 0, 1

LEVELS = [  # (Swift field name, evdev modifier keys held)
    ("plain", ()),
    ("shift", (KEY_LEFTSHIFT,)),
    ("altGr", (KEY_RIGHTALT,)),
    ("shiftAltGr", (KEY_LEFTSHIFT, KEY_RIGHTALT)),
]


class XkbRuleNames(ctypes.Structure):
    _fields_ = [(field, ctypes.c_char_p) for field in ("rules", "model", "layout", "variant", "options")]


def load_xkbcommon():
    lib = ctypes.CDLL("libxkbcommon.so.0")
    p = ctypes.c_void_p
    signatures = {
        "xkb_context_new": (p, [ctypes.c_int]),
        "xkb_context_include_path_append": (ctypes.c_int, [p, ctypes.c_char_p]),
        "xkb_context_unref": (None, [p]),
        "xkb_keymap_new_from_names": (p, [p, ctypes.POINTER(XkbRuleNames), ctypes.c_int]),
        "xkb_keymap_unref": (None, [p]),
        "xkb_state_new": (p, [p]),
        "xkb_state_unref": (None, [p]),
        "xkb_state_update_key": (ctypes.c_int, [p, ctypes.c_uint32, ctypes.c_int]),
        "xkb_state_key_get_one_sym": (ctypes.c_uint32, [p, ctypes.c_uint32]),
        "xkb_keysym_to_utf32": (ctypes.c_uint32, [ctypes.c_uint32]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


def fail(message):
    print(f"generate-keyboard-layouts: {message}", file=sys.stderr)
    sys.exit(1)


def cell(code_point):
    """The table value for what xkb_keysym_to_utf32 returned: printable or TAB, else 0."""
    if code_point == 0x09 or (code_point >= 0x20 and not 0x7F <= code_point <= 0x9F):
        return code_point
    return 0


def layout_tables(lib, context, name, layout, variant):
    """{level name: [104 code points]} for one layout; exits if its keymap does not compile."""
    names = XkbRuleNames(RULES.encode(), MODEL.encode(), layout.encode(), variant.encode(), OPTIONS.encode())
    keymap = lib.xkb_keymap_new_from_names(context, ctypes.byref(names), XKB_KEYMAP_COMPILE_NO_FLAGS)
    if not keymap:
        fail(f"layout {name!r} (xkb layout {layout!r}, variant {variant!r}, rules {RULES}, "
             f"model {MODEL}) does not compile")
    try:
        tables = {}
        for level, held in LEVELS:
            state = lib.xkb_state_new(keymap)
            if not state:
                fail(f"layout {name!r}: xkb_state_new failed")
            try:
                numlock = KEY_NUMLOCK + EVDEV_OFFSET
                lib.xkb_state_update_key(state, numlock, XKB_KEY_DOWN)
                lib.xkb_state_update_key(state, numlock, XKB_KEY_UP)
                for key in held:
                    lib.xkb_state_update_key(state, key + EVDEV_OFFSET, XKB_KEY_DOWN)
                row = []
                for evdev in HID_TO_EVDEV:
                    if evdev is None:
                        row.append(0)
                        continue
                    keysym = lib.xkb_state_key_get_one_sym(state, evdev + EVDEV_OFFSET)
                    row.append(cell(lib.xkb_keysym_to_utf32(keysym)) if keysym else 0)
                tables[level] = row
            finally:
                lib.xkb_state_unref(state)
        return tables
    finally:
        lib.xkb_keymap_unref(keymap)


def descriptions(xkb_root):
    """(layout, variant) -> human name, from rules/evdev.lst ("" variant = the layout itself)."""
    path = os.path.join(xkb_root, "rules", f"{RULES}.lst")
    result, section = {}, None
    with open(path, encoding="utf-8") as lst:
        for line in lst:
            line = line.rstrip("\n")
            if line.startswith("!"):
                section = line[1:].strip()
                continue
            if not line.strip():
                continue
            key, _, text = line.strip().partition(" ")
            text = text.strip()
            if section == "layout":
                result[(key, "")] = text
            elif section == "variant":
                parent, _, human = text.partition(":")
                result[(parent.strip(), key)] = human.strip()
    return result


def xkb_data_version():
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "xkb-data"],
                              check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        fail(f"cannot read the xkb-data version with dpkg-query: {error}")


def compute(xkb_root=DEFAULT_XKB_ROOT):
    """[(name, xkb layout, variant, {level: [code points]})] for every layout in LAYOUTS."""
    lib = load_xkbcommon()
    # Only the given xkb-data tree: no ~/.xkb, $XKB_CONFIG_ROOT or XKB_DEFAULT_* from the environment.
    context = lib.xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES | XKB_CONTEXT_NO_DEFAULT_INCLUDES)
    if not context:
        fail("xkb_context_new failed")
    try:
        if not lib.xkb_context_include_path_append(context, xkb_root.encode()):
            fail(f"cannot use {xkb_root} as the xkb include path")
        return [(name, layout, variant, layout_tables(lib, context, name, layout, variant))
                for name, layout, variant in LAYOUTS]
    finally:
        lib.xkb_context_unref(context)


def swift_array(values):
    lines = []
    for start in range(0, len(values), 8):
        chunk = ", ".join(f"0x{value:04X}" for value in values[start:start + 8])
        last = start + 8 >= len(values)
        lines.append(f"            /* 0x{start:02X} */ {chunk}{'' if last else ','}")
    return "\n".join(lines)


def render(version, layouts, names):
    out = [
        f"// Generated by scripts/generate-keyboard-layouts.py from xkb-data {version} (xkeyboard-config",
        f"// symbols, rules {RULES}, model {MODEL}), compiled with libxkbcommon, NumLock on. Do not edit:",
        "// run `make generate` instead.",
        "//",
        "// Each table holds, per HID keyboard usage 0x00–0x67, the Unicode scalar the key types at that",
        "// level, or 0 where it types no character (dead keys, function and control keys, Enter).",
        "",
        "extension KeyboardLayout {",
        "    /// Every generated layout, in the order `floorgate decode --list` names them.",
        f"    static let generated: [KeyboardLayout] = [{', '.join(name for name, *_ in layouts)}]",
    ]
    for name, layout, variant, tables in layouts:
        description = names.get((layout, variant))
        if description is None:
            fail(f"layout {name!r}: no description for xkb layout {layout!r} variant {variant!r} "
                 f"in rules/{RULES}.lst")
        xkb = layout if not variant else f"{layout}({variant})"
        out += [
            "",
            f"    /// {description} — xkb `{xkb}`.",
            f"    static let {name} = KeyboardLayout(",
            f'        name: "{name}", xkbName: "{layout}", description: "{description}",',
        ]
        for index, (level, _) in enumerate(LEVELS):
            out += [f"        {level}: [", swift_array(tables[level]),
                    "        ]" + ("," if index < len(LEVELS) - 1 else "")]
        out.append("    )")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    parser.add_argument("--xkb-root", default=DEFAULT_XKB_ROOT)
    args = parser.parse_args()
    version = xkb_data_version()
    text = render(version, compute(args.xkb_root), descriptions(args.xkb_root))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="\n") as swift:
        swift.write(text)
    print(f"wrote {os.path.relpath(args.output, os.getcwd())}")


if __name__ == "__main__":
    main()
