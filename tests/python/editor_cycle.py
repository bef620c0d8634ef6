"""A plugin's editor opened and closed again and again in a real VST3 host.

Run by tests/tests/editor_host.rs (and `cargo xtask screenshots`) under an Xvfb display
with a window manager (openbox) running, as

    python editor_cycle.py BUNDLE --cycles 50 [--screenshot OUT.png --framebuffer FILE]

DawDreamer (PyPI, JUCE-based) loads the VST3 bundle and plays a 1 kHz sine at -20 dBFS
through it. Each cycle renders a block of audio with the editor closed, then opens the
editor (`open_editor`, which shows JUCE's editor window and returns when it is closed)
and has it closed the way a user closes it: a separate process (this script with
`--close`) waits for the window to be mapped, lets it draw, then asks the window manager
to close it (`wmctrl -c`: the window manager sends the window WM_DELETE_WINDOW, as when
the user clicks the title bar's close button). `open_editor` holds Python's interpreter
lock while the window is up, so the closer is a process, not a thread.

What is checked, in this script and again by the Rust side from the report:

- every cycle's window appeared and was closed by the window manager (none timed out);
- the audio after each cycle is bit for bit the audio of the first render, so opening
  and closing the editor changes nothing the audio thread does; the first render is
  reported against the input (its largest difference from the input delayed by the
  reported latency, and its level change);
- resident memory and thread count from /proc/self/status, after a few warm-up cycles
  (first-use allocations: fonts, the GL driver, JUCE's message thread) and after the
  last; the Rust side applies the tolerances.

With --screenshot, one cycle: the closer copies the window's client area out of Xvfb's
framebuffer file (-fbdir, XWD format) into a PNG before closing it.

Prints one JSON line: {"ok": bool, "cycles": n, "rss_kib": [...], "threads": [...], ...}.
"""

import argparse
import ctypes
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

SAMPLE_RATE = 48_000
BLOCK = 512
RENDER_SECONDS = 0.25
# How long the closer waits for the window and then for it to go (a debug build on a
# loaded 2-core machine, with software OpenGL, can take seconds to open one).
WINDOW_TIMEOUT_S = 60.0
# How long the window stays up before the close: long enough for the editor to draw
# several frames (it repaints at the host's ~60 Hz), short enough to keep 50 cycles quick.
HOLD_S = 0.3
# Where the UI scale menu's entries lie below the top of the editor, logical pixels at
# 100 % (the first entry's centre, and from one entry to the next): egui's combo box
# popup under the top bar, one 18-pixel row and 3 pixels of spacing per entry.
SCALE_MENU_FIRST_Y = int(os.environ.get("OXIDE_SCALE_MENU_FIRST_Y", "39"))
SCALE_MENU_STEP_Y = int(os.environ.get("OXIDE_SCALE_MENU_STEP_Y", "21"))
# The menu's entries (the kit's SCALE_STEPS), and how often a scale is picked again
# when the host has not resized the window.
SCALE_MENU_STEPS = [0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
SCALE_TRIES = 4
RESEND_S = 1.0


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost",
        )
    ]


def heap_in_use_kib() -> int:
    """Bytes the C allocator has handed out and not had back (glibc's mallinfo2: the
    arenas' allocated chunks plus mmapped blocks), KiB: what a leak grows, whereas RSS
    also grows with memory freed but not returned to the system."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return (info.uordblks + info.hblkhd) // 1024


def status() -> dict:
    """Resident memory (KiB), heap in use (KiB), thread count and open file descriptors
    of this process."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "Threads"):
                values[key] = int(rest.split()[0])
    return {
        "rss_kib": values["VmRSS"],
        "heap_kib": heap_in_use_kib(),
        "threads": values["Threads"],
        "fds": len(os.listdir("/proc/self/fd")),
    }


# ------------------------------------------------------------------------ the closer


def windows() -> list:
    """(id, process id) of every client window the window manager manages."""
    out = subprocess.run(["wmctrl", "-l", "-p"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        # wmctrl gives up when a window goes away while it reads the list: ask again.
        return None
    found = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            found.append((parts[0], int(parts[2])))
    return found


def gone(window_id: str) -> bool:
    """Whether the window no longer exists (xwininfo: "No such window")."""
    out = subprocess.run(["xwininfo", "-id", window_id], capture_output=True, text=True)
    return out.returncode != 0 and "No such window" in out.stderr + out.stdout


def client_geometry(window_id: str) -> tuple:
    """The window's absolute x, y, width, height (its client area), from xwininfo."""
    out = subprocess.run(
        ["xwininfo", "-id", window_id], capture_output=True, text=True, check=True
    ).stdout
    fields = {}
    for line in out.splitlines():
        key, _, value = line.strip().partition(":")
        fields[key] = value.strip()
    return (
        int(fields["Absolute upper-left X"]),
        int(fields["Absolute upper-left Y"]),
        int(fields["Width"]),
        int(fields["Height"]),
    )


def read_xwd(path: str):
    """Xvfb's framebuffer file (XWD, 24/32 bits per pixel): (width, height, rows of RGB)."""
    with open(path, "rb") as f:
        data = f.read()
    header = struct.unpack(">25I", data[:100])
    header_size, _version, _fmt, depth, width, height = header[:6]
    byte_order = header[7]
    bits_per_pixel = header[11]
    bytes_per_line = header[12]
    ncolors = header[19]
    if bits_per_pixel != 32 or depth != 24:
        raise RuntimeError(f"framebuffer is {depth}-bit depth, {bits_per_pixel} bpp; need 24/32")
    offset = header_size + ncolors * 12
    return width, height, bytes_per_line, byte_order, data[offset:]


def write_png(path: str, width: int, height: int, rgb_rows: list) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + row for row in rgb_rows)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)


def move_pointer_away() -> None:
    """Puts the mouse pointer in the screen's bottom-right corner, out of the picture
    (Xvfb draws it into the framebuffer)."""
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong] + [
        ctypes.c_int
    ] * 2 + [ctypes.c_uint] * 2 + [ctypes.c_int] * 2
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    if not display:
        raise RuntimeError("cannot open the display")
    root = x11.XDefaultRootWindow(display)
    x11.XWarpPointer(display, 0, root, 0, 0, 0, 0, 100_000, 100_000)
    x11.XCloseDisplay(display)  # flushes the request


def click(x: int, y: int) -> None:
    """A left click at screen position (x, y), as the X server's own input (XTest), so
    the editor takes it as a user's click."""
    x11 = ctypes.CDLL("libX11.so.6")
    xtst = ctypes.CDLL("libXtst.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                          ctypes.c_int, ctypes.c_ulong]
    xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_ulong]
    display = x11.XOpenDisplay(None)
    if not display:
        raise RuntimeError("cannot open the display")
    xtst.XTestFakeMotionEvent(display, -1, x, y, 0)
    x11.XFlush(display)
    time.sleep(0.1)
    xtst.XTestFakeButtonEvent(display, 1, 1, 0)
    x11.XFlush(display)
    time.sleep(0.05)
    xtst.XTestFakeButtonEvent(display, 1, 0, 0)
    x11.XCloseDisplay(display)  # flushes the requests


def shown_scale(width: int, height: int, chosen: float, min_size: tuple) -> float:
    """The scale the editor draws at in a window of `width` x `height` with `chosen`
    picked: `chosen`, or the largest at which its minimum size fits the window (the
    editor's `fit` module)."""
    if not min_size:
        return chosen
    return min(chosen, width / min_size[0], height / min_size[1])


def choose_scale(window_id: str, entry: int, min_size: tuple, current: float = 1.0) -> dict:
    """Picks entry `entry` (0 = 75 %, …, 5 = 200 %) of the editor's UI scale menu, the
    top bar's rightmost item, as a user does: a click on the menu, one on the entry.
    The editor then asks the host for a window of the new size, which the host does not
    always grant (DawDreamer's JUCE window sometimes puts its old size back): while the
    window has not grown, the scale is picked again (the editor then asks again), up to
    SCALE_TRIES times. The clicks aim at the scale the editor shows: where the window is
    too small for the chosen scale, the largest its minimum size (`min_size`, logical
    pixels at 100 %) fits. `current` is the scale the editor opened at (its window that
    size). Returns the window's size before and after, and whether it became the
    picked scale's."""
    x, y, w, h = client_geometry(window_id)
    before = (w, h)
    wanted = SCALE_MENU_STEPS[entry] / current
    chosen = current
    tries = 0
    for tries in range(1, SCALE_TRIES + 1):
        _, _, now_w, now_h = client_geometry(window_id)
        # The menu is the top bar's rightmost item at any scale; its entries lie below it
        # at the scale shown.
        scale = shown_scale(now_w, now_h, chosen, min_size) if tries > 1 else current
        click(x + now_w - int(30 * scale), y + int(10 * scale))
        time.sleep(0.5)
        click(x + now_w - int(30 * scale), y + int((SCALE_MENU_FIRST_Y + entry * SCALE_MENU_STEP_Y) * scale))
        chosen = SCALE_MENU_STEPS[entry]
        time.sleep(1.0)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            _, _, now_w, now_h = client_geometry(window_id)
            if abs(now_w - w * wanted) < 2 and abs(now_h - h * wanted) < 2:
                return {"before": before, "after": (now_w, now_h), "tries": tries, "granted": True}
            time.sleep(0.2)
    _, _, now_w, now_h = client_geometry(window_id)
    return {"before": before, "after": (now_w, now_h), "tries": tries, "granted": False}


def screenshot(window_id: str, framebuffer: str, out: str) -> dict:
    move_pointer_away()
    time.sleep(0.2)  # a repaint where the pointer was
    x, y, w, h = client_geometry(window_id)
    fb_w, fb_h, stride, byte_order, pixels = read_xwd(framebuffer)
    if x < 0 or y < 0 or x + w > fb_w or y + h > fb_h:
        raise RuntimeError(f"window {w}x{h}+{x}+{y} is not inside the {fb_w}x{fb_h} screen")
    rows = []
    for row in range(y, y + h):
        start = row * stride + x * 4
        line = pixels[start : start + w * 4]
        # 32-bit pixels 0x00RRGGBB: bytes B G R 0 (LSB first) or 0 R G B (MSB first).
        if byte_order == 0:
            b, g, r = line[0::4], line[1::4], line[2::4]
        else:
            r, g, b = line[1::4], line[2::4], line[3::4]
        rgb = bytearray(w * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = r, g, b
        rows.append(bytes(rgb))
    write_png(out, w, h, rows)
    return {"width": w, "height": h}


def host_windows(host: int) -> list:
    """The ids of `host`'s windows now."""
    for _ in range(100):
        listed = windows()
        if listed is not None:
            return [i for i, pid in listed if pid == host]
        time.sleep(0.05)
    raise RuntimeError("wmctrl cannot list the windows: is the window manager running?")


def close_when_shown(
    host: int,
    old: set,
    hold: float,
    framebuffer: str,
    out: str,
    scale_entry: int = -1,
    min_size: tuple = (),
    current: float = 1.0,
) -> int:
    """The closer process: wait for the host's window, let it draw, (screenshot,) close it.

    The host's window is the one whose _NET_WM_PID is the host's process (JUCE sets it;
    its title is not readable by wmctrl)."""
    deadline = time.monotonic() + WINDOW_TIMEOUT_S
    # `old`: the host's windows before it opened the editor (the last cycle's may still be
    # on its way out); only a new one counts.
    window_id = None
    while time.monotonic() < deadline and window_id is None:
        window_id = next((i for i, pid in windows() or [] if pid == host and i not in old), None)
        if window_id is None:
            time.sleep(0.02)
    if window_id is None:
        return give_up(host, {"closed": False, "error": f"no window of process {host}"})
    time.sleep(hold)
    result = {"closed": False, "window": window_id}
    if scale_entry >= 0:
        result["scale"] = choose_scale(window_id, scale_entry, min_size, current)
    if out:
        result["screenshot"] = screenshot(window_id, framebuffer, out)
    # The window manager's close: _NET_CLOSE_WINDOW to openbox, which sends the client
    # WM_DELETE_WINDOW, once, as one click on the close button does; then wait for the
    # window to go.
    result["requests"] = 0
    while time.monotonic() < deadline and not result["closed"]:
        subprocess.run(["wmctrl", "-i", "-c", window_id], check=False)
        result["requests"] += 1
        # Asked again only if it is still there a second later (a request that arrives
        # before the client takes part in the protocol is lost).
        resend_at = time.monotonic() + RESEND_S
        while time.monotonic() < resend_at:
            time.sleep(0.02)
            if gone(window_id):
                result["closed"] = True
                break
    if not result["closed"]:
        return give_up(host, result)
    print(json.dumps(result))
    return 0


def give_up(host: int, result: dict) -> int:
    """The window did not appear or did not go: the host would wait in `open_editor`
    for ever, so it is ended here, with the reason on stderr for the Rust side."""
    print(f"editor_cycle.py closer: {json.dumps(result)}; killing the host", file=sys.stderr)
    os.kill(host, signal.SIGKILL)
    return 1


# ------------------------------------------------------------------------ the host


class XErrorEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("resourceid", ctypes.c_ulong),
        ("serial", ctypes.c_ulong),
        ("error_code", ctypes.c_ubyte),
        ("request_code", ctypes.c_ubyte),
        ("minor_code", ctypes.c_ubyte),
    ]


X_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(XErrorEvent))


class XErrors:
    """Records X protocol errors instead of exiting.

    DawDreamer's JUCE leaves Xlib's default error handler in place, which prints the
    error and exits the process, and JUCE asks for the tree of its window's frame while
    the window manager is destroying that frame (the window is closing): a BadWindow on
    X_QueryTree that kills the host in about one close in thirty under openbox, whatever
    the plugin. So the host installs this handler (the handler is per process: it sees
    the plugin's X connections too) before each open, and reports every error, which the
    Rust side judges."""

    def __init__(self):
        self.errors = []
        self.x11 = ctypes.CDLL("libX11.so.6")
        self.x11.XSetErrorHandler.argtypes = [X_ERROR_HANDLER]
        self.x11.XSetErrorHandler.restype = ctypes.c_void_p
        self.handler = X_ERROR_HANDLER(self._on_error)  # kept alive while installed

    def _on_error(self, _display, event) -> int:
        e = event.contents
        self.errors.append(
            {
                "error_code": e.error_code,
                "request_code": e.request_code,
                "resource": f"{e.resourceid:#x}",
            }
        )
        return 0

    def install(self) -> None:
        self.x11.XSetErrorHandler(self.handler)



def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--close", action="store_true", help="run as the closer process")
    parser.add_argument("--hold", type=float, default=HOLD_S)
    parser.add_argument("--screenshot", default="")
    parser.add_argument("--framebuffer", default="")
    parser.add_argument("--ignore", default="", help="(closer) window ids that are not new")
    parser.add_argument(
        "--scale-entry", type=int, default=-1, help="pick this UI scale menu entry first"
    )
    parser.add_argument(
        "--min-size", default="", help="the editor's minimum size at 100 %%: WIDTH,HEIGHT"
    )
    parser.add_argument(
        "--from-scale", type=float, default=1.0, help="(closer) the scale the editor opens at"
    )
    args = parser.parse_args()
    if args.close:
        old = set(filter(None, args.ignore.split(",")))
        min_size = tuple(float(v) for v in args.min_size.split(",")) if args.min_size else ()
        return close_when_shown(
            os.getppid(),
            old,
            args.hold,
            args.framebuffer,
            args.screenshot,
            args.scale_entry,
            min_size,
            args.from_scale,
        )

    import dawdreamer as daw
    import numpy as np

    report = {"ok": False, "cycles": 0, "failures": []}
    try:
        frames = int(SAMPLE_RATE * RENDER_SECONDS)
        n = np.arange(frames)
        tone = (10 ** (-20 / 20) * np.sin(2 * np.pi * 1000 * n / SAMPLE_RATE)).astype(np.float32)
        source = np.stack([tone, tone])
        engine = daw.RenderEngine(SAMPLE_RATE, BLOCK)
        player = engine.make_playback_processor("tone", source)
        plugin = engine.make_plugin_processor("plugin", args.bundle)
        engine.load_graph([(player, []), (plugin, ["tone"])])

        def render() -> np.ndarray:
            engine.render(RENDER_SECONDS)
            return np.array(plugin.get_audio(), dtype=np.float32)

        reference = render()
        latency = plugin.get_latency_samples()
        report["latency_samples"] = latency
        # The plugin at its defaults passes the tone unchanged, delayed by its latency.
        expected = np.zeros_like(source)
        expected[:, latency:] = source[:, : frames - latency]
        if reference.shape != source.shape or not np.isfinite(reference).all():
            report["failures"].append(f"first render: shape {reference.shape} or not finite")
        else:
            # The channel strip at its defaults is exactly transparent; the Rust side
            # holds it to that, and the mastering chain to its level (it shapes the
            # tone even at its defaults).
            report["reference_max_diff"] = float(np.max(np.abs(reference - expected)))
            half = slice(frames // 2, frames)
            report["level_change_db"] = float(
                10 * np.log10(np.mean(np.square(reference[:, half], dtype=np.float64)))
                - 10 * np.log10(np.mean(np.square(source[:, half], dtype=np.float64)))
            )

        cycles = 1 if args.screenshot else args.cycles
        x_errors = XErrors()
        samples = []
        worst_diff = 0.0
        started = time.monotonic()
        # With --scale-entry and several cycles, each cycle picks a scale: the entry, then
        # 100 %, then the entry ..., while the host grants them (after a refused one the
        # editor's size, and so where its menu is, is the host's choice: no more picks).
        current = 1.0
        report["scale_changes"] = 0
        for cycle in range(cycles):
            samples.append(status())
            entry = args.scale_entry
            if entry >= 0 and SCALE_MENU_STEPS[entry] == current:
                entry = 1
            closer = subprocess.Popen(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    args.bundle,
                    "--close",
                    "--hold",
                    str(args.hold),
                    "--screenshot",
                    args.screenshot,
                    "--framebuffer",
                    args.framebuffer,
                    "--ignore",
                    ",".join(host_windows(os.getpid())),
                    "--scale-entry",
                    str(entry),
                    "--min-size",
                    args.min_size,
                    "--from-scale",
                    str(current),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            if os.environ.get("OXIDE_EDITOR_TRACE"):
                print(f"cycle {cycle}", file=sys.stderr, flush=True)
            x_errors.install()
            plugin.open_editor()  # returns when the window is closed
            closed_out, _ = closer.communicate(timeout=2 * WINDOW_TIMEOUT_S + 10)
            closed = json.loads(closed_out.strip().splitlines()[-1]) if closed_out.strip() else {}
            if closer.returncode != 0 or not closed.get("closed"):
                report["failures"].append(f"cycle {cycle}: the window was not closed: {closed}")
                break
            if "screenshot" in closed:
                report["screenshot"] = closed["screenshot"]
            if "scale" in closed:
                report["scale"] = closed["scale"]
                if closed["scale"].get("granted"):
                    report["scale_changes"] += 1
                    current = SCALE_MENU_STEPS[entry]
                else:
                    args.scale_entry = -1
            # The audio after the editor was open and closed: the same as before.
            out = render()
            diff = float(np.max(np.abs(out - reference)))
            worst_diff = max(worst_diff, diff)
            if diff != 0.0 or not np.isfinite(out).all():
                report["failures"].append(f"cycle {cycle}: output differs by {diff:.3g}")
                break
            report["cycles"] = cycle + 1
        samples.append(status())
        report["seconds"] = time.monotonic() - started
        report["worst_render_diff"] = worst_diff
        report["x_errors"] = x_errors.errors
        report["rss_kib"] = [s["rss_kib"] for s in samples]
        report["heap_kib"] = [s["heap_kib"] for s in samples]
        report["threads"] = [s["threads"] for s in samples]
        report["fds"] = [s["fds"] for s in samples]
        report["ok"] = not report["failures"] and report["cycles"] == cycles
    except Exception as error:  # reported, and the Rust side fails on it
        report["failures"].append(f"{type(error).__name__}: {error}")
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
