#!/usr/bin/env python3
"""Loads VST3 preset files into an Oxide `.vst3` bundle in pedalboard (a JUCE-based VST3
host) and renders a programme with each, as a host's preset browser would.

Usage: vst3_presets.py BUNDLE.vst3 JOBS.json

JOBS.json is {"input": WAV, "jobs": [{"preset": FILE.vstpreset, "frames": N,
"output": WAV}, ...]}. One plugin instance loads every preset in turn (a preset must not
keep anything of the one before); for each, the input (32-bit float) is padded with
silence to N frames, processed in blocks of 512 with the plugin's state reset first
(pedalboard compensates the plugin's reported latency), and written as 32-bit float.

One JSON object is printed on stdout at the end; the exit status is 0 when every job
ran, 2 when the plugin or a file could not be loaded.
"""

from __future__ import annotations

import json
import sys
import traceback

import numpy as np
import soundfile


def main() -> int:
    bundle, jobs_path = sys.argv[1], sys.argv[2]
    try:
        import pedalboard

        with open(jobs_path, encoding="utf-8") as f:
            spec = json.load(f)
        plugin = pedalboard.load_plugin(bundle)
        audio, rate = soundfile.read(spec["input"], dtype="float32", always_2d=True)
        audio = audio.T.copy()
        done = []
        for job in spec["jobs"]:
            plugin.load_preset(job["preset"])
            padded = np.zeros((audio.shape[0], job["frames"]), dtype=np.float32)
            padded[:, : audio.shape[1]] = audio
            out = plugin.process(padded, rate, buffer_size=512, reset=True)
            soundfile.write(job["output"], out.T, rate, subtype="FLOAT")
            done.append(job["output"])
            print(f"rendered {job['preset']}", file=sys.stderr)
    except Exception:  # noqa: BLE001 - the report carries what went wrong
        traceback.print_exc()
        print(json.dumps({"ok": False}))
        return 2
    print(json.dumps({"ok": True, "rendered": len(done)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
