"""The channel strip's VST3 sidechain input, driven by a host that connects it.

Run by tests/tests/vst3_pedalboard.rs as `python vst3_sidechain.py BUNDLE`. DawDreamer
(PyPI, JUCE-based) feeds the strip's second input bus from its own source; pedalboard,
which cannot connect a sidechain, turns the plain parameter values into the plugin's
normalized ones (`get_raw_value_for_text`, the plugin's own mapping).

The signals and the expectation are those of the chain's own test
(`external_sidechain_ducks_by_the_curve` in plugins/channel-strip/src/chain.rs): a
sustained 100 Hz bass at -40 dBFS, below the -30 dB threshold, and a sidechain "kick" of
0 dBFS 60 Hz bursts of 100 ms every 0.5 s. Keyed externally (ratio 4, hard knee) the bass
is ducked by the curve's gain for a 0 dBFS key, -22.5 dB, within 0.2 dB (the curve's
0.1 dB plus the 5 s release's droop over a 60 Hz cycle). With `comp_sc_ext` off the same
render leaves the bass alone (within 0.05 dB), so the duck comes from the sidechain bus.

Prints one JSON line: {"ok": bool, "ducked_db": float, "keyed_by_itself_db": float, ...}.
"""

import json
import sys

import dawdreamer as daw
import numpy as np
import pedalboard

SAMPLE_RATE = 48_000
BLOCK = 512
FRAMES = SAMPLE_RATE  # one second: two kicks
EXPECTED_DUCK_DB = -22.5
DUCK_TOL_DB = 0.2
UNKEYED_TOL_DB = 0.05

SETTINGS = {
    "comp_threshold_db": -30.0,
    "comp_ratio": 4.0,
    "comp_knee_db": 0.0,
    "comp_attack_ms": 0.05,
    "comp_release_ms": 5000.0,
}


def rms_db(x: np.ndarray) -> float:
    return float(20.0 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


def signals():
    n = np.arange(FRAMES)
    bass = (10 ** (-40 / 20) * np.sin(2 * np.pi * 100 * n / SAMPLE_RATE)).astype(np.float32)
    kick = np.where(n % 24_000 < 4800, np.sin(2 * np.pi * (n % 800) / 800), 0.0)
    return bass, kick.astype(np.float32)


def normalized_values(bundle: str, external: bool) -> dict:
    """Display name -> normalized value, as the plugin maps the plain values."""
    plugin = pedalboard.load_plugin(bundle)
    values = {}
    for key, plain in SETTINGS.items():
        param = plugin.parameters[key]
        values[param.name] = float(param.get_raw_value_for_text(f"{plain}"))
    values[plugin.parameters["comp_on"].name] = 1.0
    values[plugin.parameters["comp_external_sc"].name] = 1.0 if external else 0.0
    return values


def render(bundle: str, external: bool) -> np.ndarray:
    bass, kick = signals()
    engine = daw.RenderEngine(SAMPLE_RATE, BLOCK)
    main = engine.make_playback_processor("main", np.stack([bass, bass]))
    key = engine.make_playback_processor("key", np.stack([kick, kick]))
    strip = engine.make_plugin_processor("strip", bundle)
    if strip.get_num_input_channels() != 4:
        raise RuntimeError(
            f"expected 4 input channels (main + sidechain), got {strip.get_num_input_channels()}"
        )
    index = {strip.get_parameter_name(i): i for i in range(strip.get_plugin_parameter_size())}
    for name, value in normalized_values(bundle, external).items():
        strip.set_parameter(index[name], value)
    engine.load_graph([(main, []), (key, []), (strip, ["main", "key"])])
    engine.render(FRAMES / SAMPLE_RATE)
    return strip.get_audio()


def main() -> int:
    bundle = sys.argv[1]
    bass, _ = signals()
    # The second kick's last 60 ms (settled), against the same stretch of the input.
    settled = slice(24_000 + 1920, 24_000 + 4800)
    report = {"ok": False}
    try:
        keyed = render(bundle, external=True)
        alone = render(bundle, external=False)
        ducked = min(rms_db(ch[settled]) for ch in keyed) - rms_db(bass[settled])
        unkeyed = max(abs(rms_db(ch[settled]) - rms_db(bass[settled])) for ch in alone)
        report.update(
            ducked_db=ducked,
            expected_duck_db=EXPECTED_DUCK_DB,
            keyed_by_itself_db=unkeyed,
            finite=bool(np.isfinite(keyed).all() and np.isfinite(alone).all()),
        )
        report["ok"] = (
            report["finite"]
            and abs(ducked - EXPECTED_DUCK_DB) <= DUCK_TOL_DB
            and unkeyed <= UNKEYED_TOL_DB
        )
    except Exception as error:  # reported, and the Rust side fails on it
        report["error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
