"""`ionpump record`: MP4 and GIF files decode with ffmpeg with the requested codec, size and
frame count; recordings are deterministic; bad options exit 2 with one line; an interrupt
leaves a playable file and exit 130."""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

EXE = str(Path(sys.executable).with_name("ionpump"))
SMALL = ["--set", "pumps.count=2", "--set", "domain.height_um=0.2", "--set",
         "channels.k_leak_count=0", "--seed", "4"]


def ffmpeg():
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def record(out, *extra, check=True):
    r = subprocess.run([EXE, "record", "pump-cycle", "--out", str(out), *SMALL, *extra],
                       capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def probe(path):
    """(codec line of the video stream, decoded frames as (n, H, W, 3) uint8)."""
    info = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True).stderr
    stream = next(ln for ln in info.splitlines() if "Video:" in ln)
    size = re.search(r"(\d{2,5})x(\d{2,5})", stream.split("Video:")[1])
    W, H = int(size.group(1)), int(size.group(2))
    raw = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return stream, np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


@pytest.fixture(scope="module")
def mp4(tmp_path_factory):
    out = tmp_path_factory.mktemp("v") / "a.mp4"
    record(out, "--seconds", "2", "--fps", "10", "--size", "320x192")
    return out


def test_mp4_is_h264_yuv420p_with_requested_size_and_frames(mp4):
    stream, frames = probe(mp4)
    assert "h264" in stream and "yuv420p" in stream, stream
    assert frames.shape[1:] == (192, 320, 3)
    assert abs(len(frames) - 20) <= 1
    diffs = [np.abs(frames[k + 1].astype(int) - frames[k]).mean() for k in range(len(frames) - 1)]
    assert min(diffs) > 0.05, diffs  # ions move: consecutive frames differ
    head = mp4.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_same_seed_same_frames(mp4, tmp_path):
    other = tmp_path / "b.mp4"
    record(other, "--seconds", "2", "--fps", "10", "--size", "320x192")
    _, a = probe(mp4)
    _, b = probe(other)
    assert a.shape == b.shape and np.array_equal(a, b)


def test_gif_frames_size_and_loop(tmp_path):
    out = tmp_path / "a.gif"
    record(out, "--seconds", "1", "--fps", "8", "--size", "240x136", "--no-captions")
    stream, frames = probe(out)
    assert "gif" in stream
    assert frames.shape[1:] == (136, 240, 3)
    assert abs(len(frames) - 8) <= 1
    assert b"NETSCAPE2.0" in out.read_bytes()  # loops


@pytest.mark.parametrize("opts, word", [
    (["--size", "12x"], "--size"),
    (["--fps", "0"], "--fps"),
    (["--out", "/proc/no/such/dir/x.mp4"], "x.mp4"),
    (["--out", "OUT/x.avi"], ".avi"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, opts, word):
    args = [EXE, "record", "pump-cycle"]
    if "--out" not in opts:
        args += ["--out", str(tmp_path / "x.mp4")]
    args += [o.replace("OUT", str(tmp_path)) for o in opts]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_interrupt_leaves_a_playable_file(tmp_path):
    out = tmp_path / "long.mp4"
    p = subprocess.Popen([EXE, "record", "pump-cycle", "--out", str(out), *SMALL,
                          "--seconds", "300", "--fps", "10", "--size", "160x96"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    stream, frames = probe(out)
    assert "h264" in stream and len(frames) >= 1


def test_whole_protocol_is_the_default_length():
    from render.video import whole_protocol
    assert whole_protocol({"time.duration_ms": 150.0, "render.ms_per_second": 10.0}) == \
        (15.0, 10.0)
    assert whole_protocol({"time.duration_ms": 20.0, "render.ms_per_second": 0.25}) == \
        pytest.approx((60.0, 1 / 3))  # 80 s at its rate: faster, to last 60 s


def test_record_without_seconds_shows_the_whole_run(tmp_path):
    out = tmp_path / "whole.mp4"
    r = record(out, "--set", "time.duration_ms=2", "--fps", "10", "--size", "320x192")
    _, frames = probe(out)
    assert abs(len(frames) - 10) <= 1  # 2 ms at 2 ms/s: 1 s of video
    assert "showing 2 ms simulated" in r.stdout


def test_frames_drawn_while_stepping_are_those_of_drawing_then_stepping():
    """`frames` draws each frame from a frozen copy while the simulation steps on in a
    thread: the frames and the final state equal drawing and stepping one after the other;
    the copy does not change when the simulation steps."""
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from particles import Simulation, load_scenario
    from render.messages import speed_label
    from render.scene import Scene
    from render.video import frames

    sc = load_scenario("ouabain", overrides={"time.warmup_ms": 0.0})
    a, b = Simulation(sc, seed=2), Simulation(sc, seed=2)
    shots = frames(a, (320, 192), 10, captions=False)
    got = [next(shots).copy() for _ in range(4)]
    shots.close()
    scene = Scene((320, 192), fps=10, captions=False)
    scene.set_follow(int(b.scenario.values["render.follow_pump"]))
    scene.speed_label = speed_label(1.0, 10.0, 10.0)  # as `frames` labels a video
    per = sc.values["render.ms_per_second"] / 10 / b.dt_ms
    want, carry = [], 0.0
    for _ in range(4):
        want.append(scene.draw(b).copy())
        carry += per
        b.run_steps(int(carry))
        carry -= int(carry)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))
    assert a.step_index == b.step_index and np.array_equal(a.ions.x, b.ions.x)
    view = a.frozen()
    assert view.timeseries().equals(a.timeseries())
    assert np.array_equal(view.pump_cycles_history(), a.pump_cycles_history())
    x, rows = view.ions.x.copy(), len(view.recorder.rows)
    a.run(1.0)
    assert np.array_equal(view.ions.x, x) and len(view.recorder.rows) == rows
    assert view.time_ms < a.time_ms and view.counts()["time_ms"] == view.time_ms


def bt709_reference(rgb):
    """Limited-range BT.709 Y, Cb, Cr (float) of ``(..., 3)`` RGB, from ITU-R BT.709-6."""
    kr, kb = 0.2126, 0.0722
    r, g, b = (rgb[..., k].astype(float) for k in range(3))
    y = kr * r + (1 - kr - kb) * g + kb * b
    return (16 + 219 / 255 * y, 128 + 224 / 255 * (b - y) / (2 * (1 - kb)),
            128 + 224 / 255 * (r - y) / (2 * (1 - kr)))


def test_yuv420_planes_are_bt709_limited_range():
    from render.yuv import plane_bytes, rgb_to_yuv420

    rng = np.random.default_rng(7)
    H, W = 36, 50
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    out = np.empty(plane_bytes(W, H), np.uint8)
    rgb_to_yuv420(rgb, out)
    y_ref, cb_ref, cr_ref = bt709_reference(rgb)
    Y = out[:H * W].reshape(H, W)
    Cb = out[H * W:H * W * 5 // 4].reshape(H // 2, W // 2)
    Cr = out[H * W * 5 // 4:].reshape(H // 2, W // 2)
    # chroma of the mean of each 2x2 block (the matrix is linear)
    mean2 = rgb.reshape(H // 2, 2, W // 2, 2, 3).astype(float).mean(axis=(1, 3))
    _, cb2, cr2 = bt709_reference(mean2)
    assert np.abs(Y - y_ref).max() <= 0.5 + 1e-3  # rounded to nearest
    assert np.abs(Cb - cb2).max() <= 0.5 + 1e-3 and np.abs(Cr - cr2).max() <= 0.5 + 1e-3
    for rgb1, ycc in (((255, 255, 255), (235, 128, 128)), ((0, 0, 0), (16, 128, 128)),
                      ((255, 0, 0), (63, 102, 240)), ((0, 0, 255), (32, 240, 118))):
        block = np.empty((2, 2, 3), np.uint8)
        block[:] = rgb1
        small = np.empty(6, np.uint8)
        rgb_to_yuv420(block, small)
        assert (small[0], small[4], small[5]) == ycc


def test_mp4_colours_come_back_as_drawn(tmp_path):
    """The palette's colours survive MP4 (tagged BT.709, so players convert back with the
    matrix they were converted with): within a few levels away from stripe edges."""
    from particles.palette import K_RGB, NA_RGB, TRACER_RGB
    from render.video import Encoder

    colours = [(255, 255, 255), (0, 0, 0), NA_RGB, K_RGB, TRACER_RGB, (0, 158, 115),
               (204, 121, 167), (240, 228, 66), (128, 128, 128)]
    W, H = 16 * len(colours), 32
    frame = np.zeros((H, W, 3), np.uint8)
    for k, c in enumerate(colours):
        frame[:, 16 * k:16 * (k + 1)] = c
    enc = Encoder(tmp_path / "c.mp4", (W, H), 10, crf=18)
    for _ in range(3):
        enc.write(frame)
    stream, back = probe(enc.close())
    assert "bt709" in stream, stream
    got = back[1, H // 2, [16 * k + 8 for k in range(len(colours))]].astype(int)
    assert np.abs(got - np.array(colours)).max() <= 6, got
