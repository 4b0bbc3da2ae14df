#!/usr/bin/env bash
# The real-USB tier, run inside usbvm by scripts/test-usb: a real kernel USB stack (xhci,
# ftdi_sio, usbhid, hidraw, evdev) and a real udevd with the shipped rules, on QEMU's FTDI serial
# adapter (id gauge, serial A10K3XQ9) and USB keyboard (id scanner). Prints one line per check;
# exits 1 if any failed.
set -u
fg=${FLOORGATE:?the floorgate binary}
work=$(mktemp -d)
failed=0

check() {  # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then echo "ok    $name"; else echo "FAIL  $name"; failed=1; fi
}
eventually() {  # eventually SECONDS COMMAND...: true once COMMAND succeeds within SECONDS
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@"; do [ "$(date +%s)" -ge "$deadline" ] && return 1; sleep 0.2; done
}
reapply() {
    udevadm control --reload
    udevadm trigger --action=add --subsystem-match=tty --subsystem-match=hidraw
    udevadm settle
}
outbox_has() {  # outbox_has SOURCE TEXT [OUTBOX]: a row of SOURCE whose event JSON contains TEXT
    python3 - "${3:-$work/outbox.sqlite}" "$1" "$2" <<'PY'
import sqlite3, sys
try:
    rows = sqlite3.connect(sys.argv[1]).execute("SELECT event FROM outbox WHERE source = ?", (sys.argv[2],)).fetchall()
except sqlite3.Error:
    sys.exit(1)
sys.exit(0 if any(sys.argv[3] in row[0] for row in rows) else 1)
PY
}
gateway_says() { grep -q -- "$1" "$work/gateway.out"; }
connections() { grep -c -- "$1 .* connected " "$work/gateway.out"; }

# 1. The shipped rules, with the floorgate group present (as `make install-udev` leaves it).
# udevd re-reads only rules files that changed: a group created after the rules were read is
# picked up once the file is touched (make install-udev creates the group, then installs).
getent group floorgate >/dev/null || groupadd --system floorgate
touch /run/udev/rules.d/70-floorgate.rules
reapply
group_and_mode() {  # group_and_mode NODE EXPECTED
    local actual; actual=$(stat -L -c '%G %a' "$1")
    [ "$actual" = "$2" ] || { echo "      $1 is '$actual'"; return 1; }
}
check "FTDI tty: group floorgate, mode 0660" group_and_mode "$USBVM_TTY_GAUGE" "floorgate 660"
check "FTDI tty: link /dev/floorgate/serial-A10K3XQ9" test "$(readlink -f /dev/floorgate/serial-A10K3XQ9)" = "$USBVM_TTY_GAUGE"
check "FTDI tty: tagged floorgate" sh -c "udevadm info --query=property --name=$USBVM_TTY_GAUGE | grep -q '^TAGS=.*:floorgate:'"
check "keyboard hidraw: not given to floorgate without a profile" test "$(stat -c '%G' "$USBVM_HIDRAW_SCANNER")" != "floorgate"

# 2. floorgate devices on real USB properties.
"$fg" devices --json --profiles devices > "$work/devices.json" 2>&1
check "devices: the FTDI adapter, its serial and the serial-scanner profile" \
    grep -q "\"node\":\"$USBVM_TTY_GAUGE\".*\"profile\":\"serial-scanner-usb-adapter\".*\"serial\":\"A10K3XQ9\"" "$work/devices.json"
check "devices: the keyboard 0627:0001 on hidraw" grep -q "\"node\":\"$USBVM_HIDRAW_SCANNER\".*\"vendor_id\":\"0627\"" "$work/devices.json"
check "devices: the FTDI node can be opened" grep -q "\"can_open\":true.*\"node\":\"$USBVM_TTY_GAUGE\"" "$work/devices.json"

# 3. Site rules from floorgate udev-rule name the devices; the links follow.
"$fg" udev-rule --device "$USBVM_TTY_GAUGE" --profile sylvac-opto-rs232 --profiles devices > /etc/udev/rules.d/69-floorgate-site.rules
"$fg" udev-rule --device "$USBVM_HIDRAW_SCANNER" --profile hid-keyboard-scanner --profiles devices >> /etc/udev/rules.d/69-floorgate-site.rules
reapply
check "site rule: FLOORGATE_PROFILE=sylvac-opto-rs232 on the FTDI tty" \
    sh -c "udevadm info --query=property --name=$USBVM_TTY_GAUGE | grep -q '^FLOORGATE_PROFILE=sylvac-opto-rs232$'"
check "site rule: link /dev/floorgate/gauge-A10K3XQ9" test "$(readlink -f /dev/floorgate/gauge-A10K3XQ9)" = "$USBVM_TTY_GAUGE"
scanner_link=$(ls /dev/floorgate/ | grep '^scanner-' | head -1)
check "site rule: keyboard hidraw linked as /dev/floorgate/scanner-…, group floorgate 0660" \
    sh -c "test -n '$scanner_link' && test \"\$(stat -L -c '%G %a' /dev/floorgate/$scanner_link)\" = 'floorgate 660'"

# 4. The gateway on the real devices: the gauge by its USB serial number (Sylvac, 4800 7E2,
#    polled), the keyboard-wedge scanner by its hidraw link with the keyboard held (EVIOCGRAB).
cat > "$work/station.toml" <<TOML
station = "usbvm"
operator = "olga"
record_socket = "$work/no-record.sock"
outbox = "$work/outbox.sqlite"
profiles = "$PWD/devices"
serial_pattern = "regex:^SN-[0-9]{4}\$"
[[device]]
name = "gauge"
profile = "sylvac-opto-rs232"
usb_serial = "A10K3XQ9"
[[device]]
name = "scanner"
profile = "hid-keyboard-scanner"
path = "/dev/floorgate/$scanner_link"
TOML
"$fg" gateway --config "$work/station.toml" > "$work/gateway.out" 2> "$work/gateway.err" &
gateway=$!
check "gateway: both devices connected" eventually 60 sh -c "grep -q 'gauge .* connected ' $work/gateway.out && grep -q 'scanner .* connected ' $work/gateway.out"
stty -F "$USBVM_TTY_GAUGE" -a > "$work/stty.txt" 2>&1
has_settings() {
    for setting in "speed 4800 baud;" " cs7 " " parenb " " -parodd " " cstopb " " -icanon " " -echo " " -icrnl "; do
        tr '\n' ' ' < "$work/stty.txt" | sed 's/$/ /' | grep -q -- "$setting" || { echo "      stty lacks '$setting': $(tr '\n' ' ' < "$work/stty.txt")"; return 1; }
    done
}
check "termios on ftdi_sio: 4800 baud, 7 data bits, even parity, 2 stop bits, raw" has_settings
usbvm serial-send gauge "$(printf '+012.345\r')"
check "gauge reading through ftdi_sio into the outbox" eventually 30 outbox_has gauge '"value":"12.345"'
event_node=$(grep -o '/dev/input/event[0-9]*' "$work/gateway.out" | head -1)
check "keyboard held: a second EVIOCGRAB is refused (EBUSY)" python3 - "$event_node" <<'PY'
import errno, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.ioctl(fd, 0x40044590, 1)   # EVIOCGRAB
except OSError as error:
    sys.exit(0 if error.errno == errno.EBUSY else 1)
sys.exit(1)
PY
usbvm keys 'SN-0001'        # (usbvm types --press keys before text: two calls)
usbvm keys --press ret
check "scan typed on the USB keyboard, read from hidraw" eventually 30 outbox_has scanner '"text":"SN-0001"'

# 5. Unplugged and plugged back: the gateway finds the gauge again by its serial and reads on.
usbvm plug gauge off
check "unplug seen" eventually 30 gateway_says "gauge .* NOT CONNECTED"
usbvm plug gauge on
check "replug: the gauge is found again by its USB serial and opened" eventually 60 sh -c "[ \$(grep -c 'gauge .* connected ' $work/gateway.out) -ge 2 ]"
sleep 1
usbvm serial-send gauge "$(printf '+001.500\r')"
check "reading after the replug" eventually 30 outbox_has gauge '"value":"1.500"'

kill -TERM "$gateway"; wait "$gateway"
check "gateway stopped cleanly on SIGTERM" test $? -eq 0

# 6. The libusb transport: the keyboard's interface read from its usbfs node (/dev/bus/usb),
#    its interrupt IN endpoint taken from usbhid while the gateway runs and given back after.
keyboard_usb=$(udevadm info --query=property --name="$USBVM_HIDRAW_SCANNER" | sed -n 's/^DEVPATH=\(.*\/[0-9]*-[0-9.]*\)\/[0-9]*-[0-9.]*:.*/\1/p')
keyboard_syspath=/sys$keyboard_usb
driver_is() {  # driver_is NAME: the keyboard's interface 0 is bound to driver NAME
    [ "$(basename "$(readlink "$keyboard_syspath/$(basename "$keyboard_syspath"):1.0/driver")")" = "$1" ]
}
mkdir -p "$work/profiles" && cp devices/*.toml "$work/profiles/"
cat > "$work/profiles/keyboard-over-libusb.toml" <<'TOML'
description = "A USB keyboard read through libusb (test of the usb transport)"
kind = "scanner"
protocol = "hid-keyboard"
[transport]
type = "usb"
interface = 0
detach_kernel_driver = true
[match]
subsystem = "usb"
id_vendor_id = "0627"
TOML
"$fg" devices --all --json --profiles "$work/profiles" > "$work/devices-usb.json" 2>&1
check "devices: the keyboard's usb_device, its interface on usbhid, endpoint 0x81 interrupt IN" \
    grep -q "\"driver\":\"usbhid\",\"endpoints\":\[\"0x81 interrupt IN, 8 bytes\"\].*\"node\":\"/dev/bus/usb/.*\"profile\":\"keyboard-over-libusb\"" "$work/devices-usb.json"
usb_node=$(udevadm info --query=name "$keyboard_syspath"); usb_node=/dev/${usb_node#/dev/}
"$fg" udev-rule --device "$usb_node" --profile keyboard-over-libusb --profiles "$work/profiles" > /etc/udev/rules.d/69-floorgate-site.rules
udevadm control --reload; udevadm trigger --action=add --subsystem-match=usb --subsystem-match=hidraw; udevadm settle
usb_link=$(ls /dev/floorgate/ | grep '^scanner-' | head -1)
check "site rule: the usb_device node linked as /dev/floorgate/scanner-…, group floorgate 0660" \
    sh -c "test \"\$(readlink -f /dev/floorgate/$usb_link)\" = '$usb_node' && test \"\$(stat -L -c '%G %a' '$usb_node')\" = 'floorgate 660'"
sed -e "s|^profiles = .*|profiles = \"$work/profiles\"|" -e "s|^outbox = .*|outbox = \"$work/outbox-usb.sqlite\"|" "$work/station.toml" \
    | awk '/^\[\[device\]\]/{exit} {print}' > "$work/station-usb.toml"
cat >> "$work/station-usb.toml" <<TOML
[[device]]
name = "usbscanner"
profile = "keyboard-over-libusb"
path = "/dev/floorgate/$usb_link"
TOML
"$fg" gateway --config "$work/station-usb.toml" > "$work/gateway-usb.out" 2> "$work/gateway-usb.err" &
gateway=$!
check "gateway: the keyboard opened through libusb (interface 0, interrupt IN 0x81)" \
    eventually 60 grep -q "usbscanner .* connected .*interface 0 (HID), 0x81 interrupt IN" "$work/gateway-usb.out"
check "while read through libusb the interface is held (usbfs), not usbhid's" driver_is usbfs
usbvm keys 'SN-0002'
usbvm keys --press ret
check "scan typed on the keyboard, read from its interrupt endpoint" eventually 30 outbox_has usbscanner '"text":"SN-0002"' "$work/outbox-usb.sqlite"
usbvm plug scanner off
check "libusb: unplug seen" eventually 30 grep -q "usbscanner .* NOT CONNECTED" "$work/gateway-usb.out"
usbvm plug scanner on
check "libusb: replugged keyboard opened again by its link" eventually 60 sh -c "[ \$(grep -c 'usbscanner .* connected ' $work/gateway-usb.out) -ge 2 ]"
sleep 1
usbvm keys 'SN-0003'
usbvm keys --press ret
check "scan after the replug" eventually 30 outbox_has usbscanner '"text":"SN-0003"' "$work/outbox-usb.sqlite"
kill -TERM "$gateway"; wait "$gateway"
check "gateway (libusb) stopped cleanly on SIGTERM" test $? -eq 0
check "the interface is given back to usbhid after the gateway stops" eventually 10 driver_is usbhid
[ "$failed" -eq 0 ] || for run in gateway gateway-usb; do
    [ -f "$work/$run.out" ] || continue
    echo "--- $run output"; cat "$work/$run.out"; echo "--- $run log"; tail -40 "$work/$run.err"
done
exit "$failed"
