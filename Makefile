# Floorgate — the two set-up commands are `make demo` and `make test` (README.md).
# Every target that builds first runs `deps`, which installs missing Debian packages.

SWIFT ?= swift
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := fuzz-mitutoyo fuzz-uwave fuzz-sylvac fuzz-digimatic fuzz-torque-ascii fuzz-open-protocol fuzz-scanner-serial fuzz-hid-keyboard fuzz-hid-pos fuzz-barcode fuzz-json fuzz-record
SHARED_FIXTURES ?= ../shared/fixtures
FIXTURE_FILES := mitutoyo digimatic uwave sylvac torque-ascii open-protocol scanner-serial hid-keyboard hid-pos barcode-parse

.PHONY: all deps deps-usb deps-browser deps-postgres deps-packaging build test test-usb test-browser deb test-deb soak screenshots assets demo bench fuzz fuzz-build fixtures generate install-udev clean

all: build

## deps: install (apt-get, as root or via sudo) the Debian packages the build and tests need:
##       libudev-dev, libusb-1.0-0-dev, libsqlite3-dev, pkg-config, python3, udev — only those missing
deps:
	@./scripts/install-deps

## deps-usb: set up ../shared/usbvm (QEMU and a kernel from Debian) for the real-USB tests, where
##           that folder exists and it is not set up yet
deps-usb:
	@./scripts/install-deps --usbvm

## deps-browser: headless Chromium and its driver (Debian chromium, chromium-driver) for the
##               station page's browser tests
deps-browser:
	@./scripts/install-deps --browser

## deps-postgres: PostgreSQL's server (Debian postgresql) for the plant-wide record's tests, which
##                start and remove throwaway clusters of their own
deps-postgres:
	@./scripts/install-deps --postgres

## deps-packaging: systemd-journald (the journal tests), lintian and debootstrap (the Debian
##                 package's lint and install test)
deps-packaging:
	@./scripts/install-deps --packaging

## build: debug build of the package
build: deps
	$(SWIFT) build

## test: build everything, run the whole test suite, check the shipped device profiles and the
##       embedded page assets, drive the station page in headless Chromium, soak the record under
##       honest and hostile clients for 60 s, run the real-USB tier where ../shared/usbvm is
##       set up, and build, lint and test-install the Debian package (what CI runs)
test: deps deps-usb deps-browser deps-postgres deps-packaging
	$(SWIFT) build --build-tests
	$(SWIFT) test
	$$($(SWIFT) build --show-bin-path)/floorgate profiles check devices
	python3 scripts/embed-web-assets.py --check || { echo "web/ changed: run make assets"; exit 1; }
	./scripts/test-browser
	python3 scripts/soak-record.py $$($(SWIFT) build --show-bin-path)/floorgate
	./scripts/test-usb
	deb=$$(./scripts/make-deb) && ./scripts/test-deb "$$deb"

## deb: the Debian package, .build/deb/floorgate_<version>_<arch>.deb (docs/install.md): release
##      build with Swift's libraries linked in, profiles, udev rules, systemd units, man pages
deb: deps deps-packaging
	./scripts/make-deb

## test-deb: build the package, lint it and install it into a debootstrap chroot (as root)
test-deb: deps deps-packaging
	deb=$$(./scripts/make-deb) && ./scripts/test-deb "$$deb"

## soak: the record under honest and hostile clients for 60 s (scripts/soak-record.py; bounds in
##       docs/security.md)
soak: deps
	$(SWIFT) build --product floorgate
	python3 scripts/soak-record.py $$($(SWIFT) build --show-bin-path)/floorgate

## test-browser: the station page in headless Chromium (selenium from PyPI, in .build/browser-venv)
##               while the demo station plays a build
test-browser: deps deps-browser
	./scripts/test-browser

## screenshots: the station, signing, build, devices and tablet pages as PNG files in docs/screenshots
screenshots: deps deps-browser
	./scripts/test-browser --screenshots docs/screenshots

## assets: embed web/station.css and web/station.js in the binary (Sources/StationPage/Generated)
assets:
	./scripts/embed-web-assets.py

## test-usb: the real-USB tier alone: udev rules, ftdi_sio termios, hidraw with EVIOCGRAB,
##           hotplug and `floorgate devices` on QEMU's USB devices (../shared/usbvm)
test-usb: deps deps-usb
	./scripts/test-usb

## demo: the demo station on its embedded defaults: a record (SQLite), the gateway and four
##       simulated devices build one unit; the files stay in DEMO_DIR (default: a temp directory)
demo: deps build
	$$($(SWIFT) build --show-bin-path)/floorgate demo $(if $(DEMO_DIR),--dir $(DEMO_DIR))

## bench: decoder throughput, decimal/verdict cost, Open Protocol, record and plant-record results/s; writes BENCHMARKS.md
bench: deps
	./scripts/run-benchmarks

## fuzz: each decoder's libFuzzer target for FUZZ_SECONDS seconds (default 300)
fuzz: deps fuzz-build
	./scripts/run-fuzzers $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: deps
	cd Fuzz && for target in $(FUZZ_TARGETS); do \
		$(SWIFT) build -c release --sanitize=fuzzer --product $$target || exit 1; \
	done

## generate: rebuild the generated tables from their sources: keyboard layouts from xkb-data
##           (libxkbcommon0), the GS1 AI table from ../shared/gs1/gs1-syntax-dictionary.txt,
##           country and currency codes from iso-codes
generate:
	./scripts/generate-keyboard-layouts.py
	$(SWIFT) scripts/generate-barcode-tables.swift

## install-udev: install udev/70-floorgate.rules, create the floorgate group, reload the rules and
##              re-trigger tty, hidraw and usb devices (as root; udev/README.md)
install-udev:
	getent group floorgate >/dev/null || groupadd --system floorgate
	install -D -m 644 udev/70-floorgate.rules $(DESTDIR)/etc/udev/rules.d/70-floorgate.rules
	if [ -z "$(DESTDIR)" ] && [ -S /run/udev/control ]; then \
		udevadm control --reload && udevadm trigger --subsystem-match=tty --subsystem-match=hidraw --subsystem-match=usb; \
	fi

## fixtures: refresh Tests/Fixtures from the shared fixture set
fixtures:
	for name in $(FIXTURE_FILES); do install -m 644 $(SHARED_FIXTURES)/$$name.json Tests/Fixtures/; done

clean:
	rm -rf .build Fuzz/.build Benchmarks/.build Fuzz/corpus Fuzz/artifacts
