//! The Python side of the host tests: the pinned virtual environment in
//! `target/host-tests/venv` (pedalboard, DawDreamer, numpy; `tests/python/requirements.txt`)
//! and running a script with a timeout. Shared by the VST3 host tests
//! (`tests/vst3_pedalboard.rs`) and the editor test (`tests/editor_host.rs`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{host_test_dir, workspace_root, Plugin};

/// Pip's own network timeout and retries, so an unreachable PyPI fails in minutes.
const PIP_NETWORK_ARGS: [&str; 4] = ["--timeout", "30", "--retries", "2"];

/// The directory of the host tests' Python scripts (`tests/python`).
pub fn python_dir() -> PathBuf {
    workspace_root().join("tests").join("python")
}

/// What a finished script left.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` with its output captured, killing it after `timeout`.
pub fn run_with_timeout(mut command: Command, timeout: Duration) -> std::io::Result<Output> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out_pipe.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err_pipe.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "still running after {} s (killed); stderr so far:\n{}",
                    timeout.as_secs(),
                    err_reader.join().unwrap_or_default()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------------------
// The Python environment
// ---------------------------------------------------------------------------------------

/// The interpreter that runs the script: `OXIDE_PYTHON`, or the test's own venv.
pub fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Some(python) = std::env::var_os("OXIDE_PYTHON").filter(|p| !p.is_empty()) {
            let python = PathBuf::from(python);
            if let Err(problem) = imports_packages(&python) {
                panic!(
                    "OXIDE_PYTHON={} cannot run the VST3 test: {problem}\n\
                     Install the packages of {} into it, or unset OXIDE_PYTHON to let the \
                     test make its own venv.",
                    python.display(),
                    python_dir().join("requirements.txt").display()
                );
            }
            return python;
        }
        provision_venv()
    })
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// The file inside a venv that records the requirements it was made from.
const MARKER: &str = "oxide-requirements.txt";

/// Makes `target/host-tests/venv` if it is missing or stale, and returns its python.
///
/// Made in a directory of its own and renamed into place when complete, so a test
/// process running beside this one (another `cargo test`) never sees a half-made venv;
/// if two make one at the same time, the first rename wins and the other is discarded.
/// A venv's `bin/python` keeps working after the rename (its `pyvenv.cfg` names only the
/// base interpreter); the test runs pip and the script as `python -m pip` / `python
/// script`, never through the console scripts whose first lines name the old path.
fn provision_venv() -> PathBuf {
    let requirements_path = python_dir().join("requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", requirements_path.display()));
    let base = host_test_dir();
    std::fs::create_dir_all(&base).expect("create target/host-tests");
    let venv = base.join("venv");

    if venv_is_current(&venv, &requirements) {
        return venv_python(&venv);
    }

    let base_python = std::env::var("OXIDE_BASE_PYTHON").unwrap_or_else(|_| "python3".into());
    let tmp = base.join(format!("venv.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "host tests: making a Python venv in {} (pip install -r {})",
        venv.display(),
        requirements_path.display()
    );
    let started = Instant::now();

    let out = Command::new(&base_python)
        .args(["-m", "venv"])
        .arg(&tmp)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run `{base_python}` to make a venv ({e}): the VST3 test needs \
                 CPython 3.10 or newer as `python3` (or OXIDE_BASE_PYTHON / OXIDE_PYTHON)"
            )
        });
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        panic!(
            "`{base_python} -m venv` failed ({}): on Debian install python3-venv.\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let python = venv_python(&tmp);
    let out = Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
        .args(PIP_NETWORK_ARGS)
        .arg("-r")
        .arg(&requirements_path)
        .output()
        .expect("run pip");
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        panic!(
            "pip could not install the VST3 test's Python packages ({}) into a venv: is \
             PyPI reachable? The test cannot run pedalboard without them, so it fails \
             rather than pass without testing. Alternatively point OXIDE_PYTHON at a \
             Python that has them.\npip's stderr:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
        );
    }
    if let Err(problem) = imports_packages(&python) {
        let _ = std::fs::remove_dir_all(&tmp);
        panic!("the new venv cannot import its packages: {problem}");
    }
    std::fs::write(tmp.join(MARKER), &requirements).expect("write venv marker");

    // Put it in place: replace a stale venv, or lose the race to a current one.
    if venv.exists() && !venv_is_current(&venv, &requirements) {
        let old = base.join(format!("venv.old-{}", std::process::id()));
        if std::fs::rename(&venv, &old).is_ok() {
            let _ = std::fs::remove_dir_all(&old);
        }
    }
    match std::fs::rename(&tmp, &venv) {
        Ok(()) => {}
        Err(_) if venv_is_current(&venv, &requirements) => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            panic!("could not move the new venv to {}: {e}", venv.display());
        }
    }
    eprintln!(
        "host tests: venv ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    venv_python(&venv)
}

fn venv_is_current(venv: &Path, requirements: &str) -> bool {
    std::fs::read_to_string(venv.join(MARKER)).is_ok_and(|made_from| made_from == requirements)
        && imports_packages(&venv_python(venv)).is_ok()
}

/// Whether `python` imports pedalboard and numpy; the problem when it does not.
fn imports_packages(python: &Path) -> Result<String, String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import numpy, pedalboard, dawdreamer; print(pedalboard.__version__, numpy.__version__)",
        ])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "`import numpy, pedalboard, dawdreamer` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A headless command `python SCRIPT BUNDLE` for `plugin`'s VST3 bundle (built while the
/// Python environment is made), with the script's path and the bundle's.
pub fn script_command(plugin: Plugin, script: &str) -> (Command, PathBuf, PathBuf) {
    // The Python environment and the plugin build are independent: do them side by side.
    let (python, bundle) = std::thread::scope(|scope| {
        let bundle = scope.spawn(move || plugin.vst3_path());
        let python = python().clone();
        (
            python,
            bundle.join().expect("building the plugins panicked"),
        )
    });
    assert!(
        bundle.is_dir(),
        "the VST3 bundle {} was not made",
        bundle.display()
    );
    let script = python_dir().join(script);
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .arg(&bundle)
        // Headless: the plugin must load and process with no X server.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    (command, script, bundle)
}
