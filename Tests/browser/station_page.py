#!/usr/bin/env python3
"""The station page in a real browser (headless Chromium driven by selenium) while the demo
station plays a build (`floorgate demo --script --operator-on-page`): the serial appears, each
reading appears with its verdict within 500 ms of the device's frame, the page survives a
reload, a redline prompt appears with what it changes and signing it on the page clears it,
and the page fits a 1280×800 screen and a 10" tablet without sideways scrolling. With --screenshots DIR it saves
the pages as PNG files. Exit status 0 when every check passed.

Usage: station_page.py FLOORGATE [--screenshots DIR]
"""
import argparse, json, os, re, subprocess, sys, tempfile, threading, time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

failures = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + (f"  ({detail})" if detail else ""), flush=True)
    if not ok:
        failures.append(name)


def browser(width, height):
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


class Demo:
    """`floorgate demo` as a child: its output lines, kept as they arrive."""

    def __init__(self, floorgate, directory):
        self.lines = []
        self.process = subprocess.Popen(
            [floorgate, "demo", "--script", "--operator-on-page", "--page-port", "0", "--dir", directory, "--profiles", "devices"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.lines:
                found = re.search(pattern, line)
                if found:
                    return found
            if self.process.poll() is not None and not any(re.search(pattern, l) for l in self.lines):
                break
            time.sleep(0.05)
        raise RuntimeError(f"the demo never printed /{pattern}/; it printed:\n" + "\n".join(self.lines[-40:]))

    def sent_at(self, device, frame):
        """When the demo's simulated device sent `frame` (epoch ms)."""
        return int(self.wait_for(re.escape(f"→ {device} {frame} sent at ") + r"(\d+) ms").group(1))


def arrival(driver, value, timeout=10):
    """When the page showed the reading `value` (epoch ms, the browser's clock) and its verdict."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for item in driver.execute_script("return window.floorgateArrivals"):
            if item["value"] == value:
                return item
        time.sleep(0.02)
    return None


def fits(driver):
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("floorgate")
    parser.add_argument("--screenshots")
    arguments = parser.parse_args()
    shots = arguments.screenshots
    if shots:
        os.makedirs(shots, exist_ok=True)
    directory = tempfile.mkdtemp(prefix="floorgate-browser-")
    demo = Demo(arguments.floorgate, directory)
    driver = None
    try:
        url = demo.wait_for(r"Station page: (http://\S+)").group(1)
        driver = browser(1280, 800)
        wait = WebDriverWait(driver, 30)
        driver.get(url)
        wait.until(EC.text_to_be_present_in_element((By.ID, "link"), "live"))
        check("the live channel connects", True)

        wait.until(EC.text_to_be_present_in_element((By.ID, "serial"), "SN-0001"))
        check("the scanned serial opens the build on the page", True, driver.find_element(By.ID, "revision").text)

        for frame, value, verdict in (("01A+0012.004", "12.004 mm", "pass"), ("01A+0012.031", "12.031 mm", "fail-high")):
            sent = demo.sent_at("caliper", frame)
            shown = arrival(driver, value)
            check(f"caliper {value} appears on the page", shown is not None)
            if shown:
                latency = shown["at"] - sent
                check(f"  with verdict {verdict}", shown["verdict"] == verdict, shown["verdict"])
                check(f"  within 500 ms of the device's frame", latency <= 500, f"{latency} ms")

        wait.until(EC.presence_of_element_located((By.ID, "redline-prompt")))
        check("a redline prompt appears", True, driver.find_element(By.ID, "redline-prompt").text.splitlines()[0])
        changes = driver.find_element(By.CSS_SELECTOR, "#redline-prompt .redline-changes").text
        check("the prompt says what the redline changes before it is signed",
              "Torque cover screws" in changes and "lower 1.10 → 1.15" in changes, changes.replace("\n", " "))
        check("the prompt shows the redline's new drawing and names the one it replaces",
              "Picture added" in changes and "Picture removed" in changes, changes.replace("\n", " "))
        pictures = driver.find_elements(By.CSS_SELECTOR, "#step figure.picture img")
        check("the active step shows its picture, loaded from the record",
              bool(pictures) and all(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img) for img in pictures),
              f"{len(pictures)} pictures")
        driver.switch_to.frame("chart")
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg.spc-chart"))
        marks = len(driver.find_elements(By.CSS_SELECTOR, "svg.spc-chart circle, svg.spc-chart g.flagged"))
        caption = driver.find_element(By.CSS_SELECTOR, "figure.spc figcaption").text
        driver.switch_to.default_content()
        check("beside the step, its point's control chart with the earlier units' results", marks >= 40, f"{caption}: {marks} marks")
        latest = driver.find_element(By.ID, "latest").text
        check("the latest verdict is in words and a symbol, not colour alone", any(w in latest for w in ("PASS", "FAIL", "RECORDED")), latest.replace("\n", " "))
        check("the station page fits 1280×800", fits(driver))
        if shots:
            driver.save_screenshot(os.path.join(shots, "station.png"))

        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "redline-prompt")))
        items = driver.find_elements(By.CSS_SELECTOR, "#reading-list li")
        check("after a reload nothing is lost: the readings and the prompt are still there",
              any("12.031 mm" in item.text for item in items), f"{len(items)} readings")

        # While the redline waits for the operator, the build stands still: the other pages.
        driver.get(url.rstrip("/") + "/build")
        wait.until(EC.presence_of_element_located((By.ID, "history")))
        driver.switch_to.frame("history")
        WebDriverWait(driver, 10).until(lambda d: "SN-0001" in d.find_element(By.TAG_NAME, "body").text)
        history = driver.find_element(By.TAG_NAME, "body").text
        driver.switch_to.default_content()
        check("the build page shows the build and its history so far", "12.031" in history and "SN-0001" in driver.find_element(By.ID, "build").text)
        if shots:
            driver.save_screenshot(os.path.join(shots, "build.png"))
        driver.get(url.rstrip("/") + "/spc")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.capability")))
        rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table.capability tbody tr")]
        check("the SPC page lists the measured points with their Cpk", len(rows) == 3 and any("bore diameter" in row for row in rows), " | ".join(rows))
        driver.find_element(By.LINK_TEXT, "bore diameter").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg.spc-chart"))
        notices = driver.find_element(By.CSS_SELECTOR, ".spc-notices").text
        check("the bore's chart says in words that the process has shifted",
              "9 average bore diameters in a row above the centre line" in notices, notices.splitlines()[-1] if notices else "no notice")
        if shots:
            driver.save_screenshot(os.path.join(shots, "spc.png"))
        driver.get(url.rstrip("/") + "/devices")
        wait.until(EC.text_to_be_present_in_element((By.ID, "devices"), "caliper"))
        check("the devices page shows the station's devices", "connected" in driver.find_element(By.ID, "devices").text)
        if shots:
            driver.save_screenshot(os.path.join(shots, "devices.png"))

        tablet = browser(800, 1280)  # a 10" tablet, upright
        try:
            tablet.get(url)
            WebDriverWait(tablet, 30).until(EC.presence_of_element_located((By.ID, "redline-prompt")))
            check("the station page fits a 10\" tablet (800×1280)", fits(tablet))
            if shots:
                tablet.save_screenshot(os.path.join(shots, "station-tablet.png"))
        finally:
            tablet.quit()

        driver.get(url)
        wait.until(EC.presence_of_element_located((By.ID, "redline-prompt")))
        driver.find_element(By.CSS_SELECTOR, "#redline-prompt button.sign").click()
        wait.until(EC.visibility_of_element_located((By.ID, "sign-dialog")))
        user = driver.find_element(By.ID, "sign-user")
        user.send_keys("olga")
        driver.find_element(By.ID, "sign-password").click()  # leaving the field asks the record who olga is
        wait.until(EC.text_to_be_present_in_element((By.ID, "sign-signer"), "Olga Operator"))
        meaning = driver.find_element(By.ID, "sign-meaning").text
        check("before signing, the dialog shows printed name, meaning and time",
              meaning == "reviewed" and driver.find_element(By.ID, "sign-time").text.endswith("UTC"), f"meaning {meaning}")
        driver.find_element(By.ID, "sign-password").send_keys("bench-olga-1")
        if shots:
            driver.save_screenshot(os.path.join(shots, "signing.png"))
        driver.find_element(By.ID, "sign-confirm").click()
        WebDriverWait(driver, 15).until(EC.invisibility_of_element_located((By.ID, "redline-prompt")))
        check("signing the redline on the page clears the prompt", True)
        sent = demo.sent_at("nutrunner", "trigger")
        shown = arrival(driver, "1.21 N.m 45°")
        check("the build goes on: the nutrunner's tightening passes on the page",
              shown is not None and shown["verdict"] == "pass", f"{shown and shown['at'] - sent} ms after the trigger")

        status = demo.process.wait(timeout=120)
        check("the demo finished its build (every DHR entry present)", status == 0, f"exit {status}")
    except Exception as error:  # a timeout or a missing element: say what, with the demo's output
        check("the browser session ran to its end", False, f"{type(error).__name__}: {error}")
        print("\n".join(demo.lines[-30:]))
    finally:
        if driver:
            driver.quit()
        if demo.process.poll() is None:
            demo.process.terminate()
            demo.process.wait(timeout=30)
    print(f"{len(failures)} failed" if failures else "all browser checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
