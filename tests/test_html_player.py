"""The HTML player page in a real browser (issue #15): headless Chromium (Debian's
``chromium`` and ``chromium-driver``, installed by .ci/run) driven by selenium opens a page
written by ``livespec export`` offline (file://) and is checked against positions and levels
computed here, independently of the page's script: click-to-seek, the playhead, the hover
readout (frequency within one bin, level within 0.5 dB of scipy's spectrogram), the overlay
curve and the labels where they belong (read from the canvas pixels), zoom, and a
screenshot that shows the spectrogram.

``LIVESPEC_UPDATE_DOC_IMAGES=1`` also writes the screenshot to docs/images/html-player.png.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FS = 48000
FFT, HOP = 4096, 1024  # livespec's defaults: fft 4096, overlap 0.75
BIN = FS / FFT  # 11.71875 Hz
SECONDS = 24.0
# (start s, end s, frequency Hz (a bin centre), amplitude): tones at known times.
TONES = [(2.0, 8.0, 128 * BIN, 0.5), (10.0, 16.0, 256 * BIN, 0.25), (17.0, 23.0, 64 * BIN, 0.1)]
PITCH = [(2.0 + 0.5 * i, 1500.0 + 200.0 * np.sin(i / 3.0)) for i in range(13)]
LABELS = "2.000000\t8.000000\tfirst tone\n10.000000\t16.000000\tsecond\n17.500000\t17.500000\tp\n"
DOC_IMAGE = Path(__file__).resolve().parents[1] / "docs" / "images" / "html-player.png"


def _signal() -> np.ndarray:
    t = np.arange(int(SECONDS * FS)) / FS
    x = 1e-4 * np.random.default_rng(0).standard_normal(t.size)
    for a, b, f, amp in TONES:
        m = (t >= a) & (t < b)
        x[m] += amp * np.sin(2 * np.pi * f * t[m])
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, np.ndarray]]:
    """(driver, folder, signal): the page loaded in headless Chromium."""
    for tool in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(tool), f"{tool} missing: apt-get install chromium chromium-driver"
    d = tmp_path_factory.mktemp("player")
    x = _signal()
    sf.write(d / "tones.wav", x, FS, subtype="FLOAT")
    (d / "pitch.csv").write_text("time_s,value\n" + "".join(f"{t},{f}\n" for t, f in PITCH))
    (d / "labels.txt").write_text(LABELS)
    cmd = [sys.executable, "-m", "livespec", "export", str(d / "tones.wav"), "-o"]
    cmd += [str(d / "tones.html"), "--overlay", str(d / "pitch.csv")]
    cmd += ["--labels", str(d / "labels.txt")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="lsp-chromium-")
    flags = (
        "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
        "--disable-background-networking --disable-component-update --disable-sync "
        "--autoplay-policy=no-user-gesture-required --window-size=1200,800 "
        "--force-device-scale-factor=1"
    )
    for flag in flags.split():
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.get((d / "tones.html").as_uri())
        _wait(driver, "const a = document.querySelector('audio'); return a.readyState >= 1;")
        yield driver, d, x
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: Any, script: str, timeout: float = 20.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = driver.execute_script(script)
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def _cfg(driver: Any) -> dict[str, Any]:
    text = driver.execute_script("return document.querySelector('.lsp-config').textContent")
    cfg: dict[str, Any] = json.loads(text)
    return cfg


def _span() -> tuple[float, float]:
    """The plot's time span, computed here: frame k is centred on (FFT/2 + k*HOP)/FS."""
    frames = 1 + (int(SECONDS * FS) - FFT) // HOP
    left = (FFT / 2 - HOP / 2) / FS
    return left, left + frames * HOP / FS


def _x(cfg: dict[str, Any], t: float, view: tuple[float, float] | None = None) -> float:
    a, b = view or _span()
    lay = cfg["layout"]
    return float(lay["ml"] + (t - a) / (b - a) * lay["pw"])


def _y(cfg: dict[str, Any], f: float) -> float:
    """y (px) of ``f`` Hz on the linear plot: row k (bin k of 2049) centred at
    height - (k + 0.5) * height / 2049."""
    lay = cfg["layout"]
    return float(lay["mt"] + lay["ph"] - (f / BIN + 0.5) * lay["ph"] / (FFT // 2 + 1))


def _at(driver: Any, x: float, y: float) -> ActionChains:
    """An action chain moved to page pixel (x, y) of the overlay canvas."""
    over = driver.find_element(By.CSS_SELECTOR, ".lsp-over")
    w, h = over.size["width"], over.size["height"]
    return ActionChains(driver).move_to_element_with_offset(
        over, round(x - w / 2), round(y - h / 2)
    )


def _overlay_pixels(driver: Any) -> np.ndarray:
    """The overlay canvas as an (h, w, 4) uint8 array (through a PNG data: URL)."""
    url = driver.execute_script("return document.querySelector('.lsp-over').toDataURL()")
    raw = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))


def test_the_page_spans_the_recording(page: tuple[Any, Path, np.ndarray]) -> None:
    driver, _, _ = page
    cfg = _cfg(driver)
    left, right = _span()
    assert cfg["t_left"] == pytest.approx(left) and cfg["t_right"] == pytest.approx(right)
    assert driver.execute_script("return document.querySelector('audio').duration") == (
        pytest.approx(SECONDS, abs=1e-3)
    )


def test_a_click_seeks_to_the_time_under_the_pointer(page: tuple[Any, Path, np.ndarray]) -> None:
    driver, _, _ = page
    cfg = _cfg(driver)
    lay = cfg["layout"]
    _at(driver, _x(cfg, 12.5), lay["mt"] + lay["ph"] / 2).click().perform()
    t = driver.execute_script("return document.querySelector('audio').currentTime")
    assert abs(t - 12.5) <= HOP / FS, t  # one frame


def test_the_playhead_follows_current_time(page: tuple[Any, Path, np.ndarray]) -> None:
    driver, _, _ = page
    cfg = _cfg(driver)
    lay = cfg["layout"]
    for t in (3.0, 7.25, 20.0):
        driver.execute_script(f"document.querySelector('audio').currentTime = {t};")
        _wait(driver, f"return Math.abs(document.querySelector('audio').currentTime - {t}) < 1e-6")
        want = _x(cfg, t)
        end = time.monotonic() + 10.0
        while True:  # the 'seeked' event redraws; poll the pixels until it has
            px = _overlay_pixels(driver)
            row = px[int(lay["mt"] + 0.25 * lay["ph"])]  # above the curve, clear of the labels
            red = np.flatnonzero((row[:, 0] == 255) & (row[:, 1] == 59) & (row[:, 2] == 48))
            if (red.size == 1 and abs(red[0] + 0.5 - want) <= 1.0) or time.monotonic() > end:
                break
            time.sleep(0.05)
        assert red.size == 1, red
        assert abs(red[0] + 0.5 - want) <= 1.0, (t, red[0], want)


def _scipy_db(x: np.ndarray, t: float, f: float) -> float:
    """The level at (t, f) by scipy: dBFS = 10 log10(PSD as 'spectrum') + 3.0103 (a
    full-scale sine reads 0 dBFS; docs/dsp.md), hann window of FFT samples, hop HOP."""
    freqs, times, p = scipy.signal.spectrogram(
        x.astype(np.float64), FS, window=scipy.signal.get_window("hann", FFT),
        nperseg=FFT, noverlap=FFT - HOP, detrend=False, scaling="spectrum", mode="psd",
    )  # fmt: skip
    k = int(np.argmin(np.abs(times - t)))
    b = round(f / (freqs[1] - freqs[0]))
    return float(10 * np.log10(p[b, k]) + 3.0103)


@pytest.mark.parametrize("tone", TONES[1:])
def test_hovering_a_tone_reads_its_frequency_and_level(
    page: tuple[Any, Path, np.ndarray], tone: tuple[float, float, float, float]
) -> None:
    driver, _, x = page
    cfg = _cfg(driver)
    a, b, f, _ = tone
    t = (a + b) / 2
    driver.execute_script("document.querySelector('.lsp-readout').textContent = '';")
    _at(driver, _x(cfg, t), _y(cfg, f)).perform()
    got = _wait(
        driver,
        "const r = document.querySelector('.lsp-readout');"
        "return r.textContent && [+r.dataset.t, +r.dataset.f, +r.dataset.db, r.textContent];",
    )
    assert abs(got[0] - t) <= 2 * _span()[1] / cfg["layout"]["pw"], got
    assert abs(got[1] - f) <= BIN, got
    assert abs(got[2] - _scipy_db(x, t, f)) <= 0.5, (got, _scipy_db(x, t, f))
    assert f"{got[2]:.1f} dBFS" in got[3]


def test_the_overlay_curve_and_the_labels_are_where_they_belong(
    page: tuple[Any, Path, np.ndarray],
) -> None:
    driver, _, _ = page
    driver.execute_script("document.querySelector('audio').currentTime = 0.0;")
    time.sleep(0.2)
    cfg = _cfg(driver)
    lay = cfg["layout"]
    px = _overlay_pixels(driver)
    white = (px[..., 0] > 200) & (px[..., 1] > 200) & (px[..., 2] > 200) & (px[..., 3] > 200)
    for t, f in PITCH[1:-1]:
        col = int(_x(cfg, t))
        ys = np.flatnonzero(white[lay["mt"] : lay["mt"] + lay["ph"], col]) + lay["mt"]
        assert ys.size, (t, f)
        assert abs(ys.mean() + 0.5 - _y(cfg, f)) <= 1.5, (t, f, ys, _y(cfg, f))
    strip = px[int(lay["strip_y"] + lay["strip_h"] / 2)]
    filled = strip[:, 3] > 0
    edges = np.flatnonzero(np.diff(filled.astype(np.int8)))
    runs = list(zip(edges[::2] + 1, edges[1::2] + 1, strict=True))
    want = [(2.0, 8.0), (10.0, 16.0), (17.5, 17.5)]
    assert len(runs) == len(want), runs
    for (r0, r1), (a, b) in zip(runs, want, strict=True):
        assert abs(r0 - _x(cfg, a)) <= 1.0, (r0, a)
        assert abs(r1 - max(_x(cfg, b), _x(cfg, a) + 2)) <= 1.0, (r1, b)


def test_zoom_in_halves_the_view_and_keeps_the_mapping(page: tuple[Any, Path, np.ndarray]) -> None:
    driver, _, _ = page
    cfg = _cfg(driver)
    lay = cfg["layout"]
    driver.execute_script("document.querySelector('audio').currentTime = 12.0;")
    time.sleep(0.2)
    driver.find_element(By.CSS_SELECTOR, "[data-act=in]").click()
    v0, v1 = driver.execute_script("return document.querySelector('.lsp-player').livespec.view()")
    left, right = _span()
    assert v1 - v0 == pytest.approx((right - left) / 2)
    assert v0 <= 12.0 <= v1
    _at(driver, _x(cfg, 13.0, (v0, v1)), lay["mt"] + 10).click().perform()
    t = driver.execute_script("return document.querySelector('audio').currentTime")
    assert abs(t - 13.0) <= HOP / FS, t
    driver.find_element(By.CSS_SELECTOR, "[data-act=all]").click()


def test_the_wheel_zooms_around_the_pointer(page: tuple[Any, Path, np.ndarray]) -> None:
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    driver, _, _ = page
    cfg = _cfg(driver)
    lay = cfg["layout"]
    left, right = _span()
    driver.find_element(By.CSS_SELECTOR, "[data-act=all]").click()
    over = driver.find_element(By.CSS_SELECTOR, ".lsp-over")
    px = round(_x(cfg, 12.0))
    dx, dy = px - over.size["width"] / 2, lay["mt"] + 50 - over.size["height"] / 2
    origin = ScrollOrigin.from_element(over, round(dx), round(dy))
    ActionChains(driver).scroll_from_origin(origin, 0, -300).perform()
    view = "return document.querySelector('.lsp-player').livespec.view()"
    _wait(driver, f"const v = (() => {{ {view} }})(); return v[1] - v[0] < {0.9 * (right - left)}")
    v0, v1 = driver.execute_script(view)
    assert v1 - v0 == pytest.approx((right - left) * np.exp(-0.6), rel=0.05)
    before = left + (px - lay["ml"]) / lay["pw"] * (right - left)
    after = v0 + (px - lay["ml"]) / lay["pw"] * (v1 - v0)
    assert after == pytest.approx(before, abs=1e-6)  # the time under the pointer stays
    driver.find_element(By.CSS_SELECTOR, "[data-act=all]").click()


def test_a_screenshot_shows_the_spectrogram(
    page: tuple[Any, Path, np.ndarray], tmp_path: Path
) -> None:
    driver, _, _ = page
    cfg = _cfg(driver)
    lay = cfg["layout"]
    driver.execute_script("document.querySelector('audio').currentTime = 12.5;")
    _at(driver, _x(cfg, 13.0), _y(cfg, TONES[1][2])).perform()
    time.sleep(0.3)
    shot = tmp_path / "player.png"
    driver.save_screenshot(str(shot))
    img = np.asarray(Image.open(shot).convert("RGB")).astype(np.float64)
    stage = driver.find_element(By.CSS_SELECTOR, ".lsp-stage").location
    x0, y0 = int(stage["x"]) + lay["ml"], int(stage["y"]) + lay["mt"]
    plot = img[y0 + 2 : y0 + lay["ph"] - 2, x0 + 2 : x0 + lay["pw"] - 2]
    assert plot.shape[:2] == (lay["ph"] - 4, lay["pw"] - 4)
    # Not blank: viridis' dark floor almost everywhere, bright tone lines, many colours.
    floor = np.array([68, 1, 84], dtype=np.float64)  # viridis at the bottom of the range
    dark = np.abs(plot - floor).sum(axis=2) < 120  # the -100 dBFS noise: near the floor
    assert dark.mean() > 0.8
    assert plot.std() > 5 and len(np.unique(plot.reshape(-1, 3), axis=0)) > 50
    tone_row = plot[int(_y(cfg, TONES[1][2]) - lay["mt"]) - 2, :, :]
    assert (np.abs(tone_row - floor).sum(axis=1) > 150).mean() > 0.15  # the 3 kHz line
    if os.environ.get("LIVESPEC_UPDATE_DOC_IMAGES"):
        DOC_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOC_IMAGE)


def test_the_playhead_follows_playback(page: tuple[Any, Path, np.ndarray]) -> None:
    driver, _, _ = page
    cfg = _cfg(driver)
    row = int(cfg["layout"]["mt"] + 0.25 * cfg["layout"]["ph"])
    driver.execute_script("const a = document.querySelector('audio'); a.currentTime = 5; a.play();")
    _wait(driver, "return document.querySelector('audio').currentTime > 5.3")
    seen = []
    for _ in range(3):  # one animation frame after the player's own: its drawing, that time
        t, xs = driver.execute_async_script(
            "const done = arguments[0];"
            "requestAnimationFrame(() => {"
            "  const t = document.querySelector('audio').currentTime;"
            "  const c = document.querySelector('.lsp-over');"
            f"  const d = c.getContext('2d').getImageData(0, {row}, c.width, 1).data, xs = [];"
            "  for (let i = 0; i < c.width; i++)"
            "    if (d[4*i] === 255 && d[4*i+1] === 59 && d[4*i+2] === 48) xs.push(i);"
            "  done([t, xs]);"
            "});"
        )
        assert len(xs) == 1, xs
        assert abs(xs[0] + 0.5 - _x(cfg, t)) <= 2.0, (t, xs, _x(cfg, t))
        seen.append(t)
        time.sleep(0.2)
    driver.execute_script("document.querySelector('audio').pause();")
    assert seen[-1] > seen[0] + 0.1  # it played


def test_two_notebook_players_on_one_page_work_independently(
    page: tuple[Any, Path, np.ndarray], tmp_path: Path
) -> None:
    import livespec

    driver, d, x = page
    a = livespec.spectrogram(x[: 12 * FS], FS)._repr_html_()
    b = livespec.spectrogram(str(d / "tones.wav"))._repr_html_()
    assert a is not None and b is not None
    (tmp_path / "two.html").write_text(f"<!DOCTYPE html><html><body>{a}{b}</body></html>")
    try:
        _two_players(driver, tmp_path / "two.html")
    finally:  # back to the module's page for the other tests
        driver.get((d / "tones.html").as_uri())
        _wait(driver, "return document.querySelector('audio').readyState >= 1")


def _two_players(driver: Any, path: Path) -> None:
    driver.get(path.as_uri())
    _wait(driver, "return [...document.querySelectorAll('audio')].every(a => a.readyState >= 1)")
    players = driver.find_elements(By.CSS_SELECTOR, ".lsp-player")
    assert len(players) == 2 and players[0].get_attribute("id") != players[1].get_attribute("id")
    durations = driver.execute_script(
        "return Array.from(document.querySelectorAll('audio')).map(a => a.duration)"
    )
    assert durations == [pytest.approx(12.0, abs=1e-3), pytest.approx(SECONDS, abs=1e-3)]
    text = players[1].find_element(By.CSS_SELECTOR, ".lsp-config").get_attribute("textContent")
    cfg = json.loads(text or "{}")
    lay = cfg["layout"]
    over = players[1].find_element(By.CSS_SELECTOR, ".lsp-over")
    driver.execute_script("arguments[0].scrollIntoView()", over)
    x_px = _x(cfg, 20.0, (cfg["t_left"], cfg["t_right"])) - over.size["width"] / 2
    y_px = lay["mt"] + 10 - over.size["height"] / 2
    chain = ActionChains(driver).move_to_element_with_offset(over, round(x_px), int(y_px))
    chain.click().perform()
    times = driver.execute_script(
        "return Array.from(document.querySelectorAll('audio')).map(a => a.currentTime)"
    )
    assert times[0] == 0.0 and abs(times[1] - 20.0) <= HOP / FS, times
