//! A private X display for the editor tests: Xvfb on a free display number with openbox
//! as its window manager (JUCE hosts need one: their windows wait for the window
//! manager's answers), both ended when the [`VirtualDisplay`] is dropped.
//!
//! Xvfb keeps its screen in a file (`-fbdir`, XWD format), which is how the screenshots
//! are taken: no screen-grabbing tool is needed. The tools the tests use with it —
//! `Xvfb` (xvfb), `openbox`, `wmctrl`, `xwininfo` (x11-utils) — are installed by
//! `.ci/run`; a missing one fails with the package to install.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::host_test_dir;

/// The screen's size: room for either editor at 200 % with its frame.
pub const SCREEN: (u32, u32) = (2400, 1800);

/// The programs the editor tests run, and the Debian package of each.
pub const TOOLS: [(&str, &str); 5] = [
    ("Xvfb", "xvfb"),
    ("openbox", "openbox"),
    ("wmctrl", "wmctrl"),
    ("xwininfo", "x11-utils"),
    ("xprop", "x11-utils"),
];

/// Xvfb and openbox on a display of their own.
pub struct VirtualDisplay {
    number: u32,
    xvfb: Child,
    window_manager: Child,
    fb_dir: PathBuf,
}

impl VirtualDisplay {
    /// Starts Xvfb on the first free display from :90 (past those this process used) and
    /// openbox on it, and waits until the window manager answers (`wmctrl -m`).
    pub fn start() -> Result<Self> {
        // One start at a time in this process, so two tests never race for a number.
        static STARTING: Mutex<()> = Mutex::new(());
        let _starting = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
        for (tool, package) in TOOLS {
            if which(tool).is_none() {
                bail!(
                    "`{tool}` is not installed: the editor tests need it \
                     (Debian: apt-get install {package}; .ci/run installs it)"
                );
            }
        }
        // A number this process used before is not reused: a new openbox on a display
        // number whose last server just ended was seen not to start.
        static NEXT: AtomicU32 = AtomicU32::new(90);
        let first = NEXT.load(Ordering::Relaxed);
        let mut window_manager_failures = 0;
        for number in first..190 {
            NEXT.store(number + 1, Ordering::Relaxed);
            // A display whose lock file or socket exists belongs to another server.
            if Path::new(&format!("/tmp/.X{number}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
            {
                continue;
            }
            let fb_dir = host_test_dir().join(format!("xvfb-{}-{number}", std::process::id()));
            std::fs::create_dir_all(&fb_dir)?;
            let mut xvfb = Command::new("Xvfb")
                .arg(format!(":{number}"))
                .args(["-screen", "0"])
                .arg(format!("{}x{}x24", SCREEN.0, SCREEN.1))
                .args(["-nolisten", "tcp", "-fbdir"])
                .arg(&fb_dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("start Xvfb")?;
            // Up when its socket appears; gone at once when the display was taken.
            let deadline = Instant::now() + Duration::from_secs(10);
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            let mut up = false;
            while Instant::now() < deadline {
                if xvfb.try_wait()?.is_some() {
                    break;
                }
                // Ours only if the display's lock file names our Xvfb (another server
                // may have taken the number meanwhile; ours then exits).
                let owner = std::fs::read_to_string(format!("/tmp/.X{number}-lock"))
                    .ok()
                    .and_then(|pid| pid.trim().parse::<u32>().ok());
                if socket.exists() && owner == Some(xvfb.id()) {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !up {
                let _ = xvfb.kill();
                let _ = xvfb.wait();
                continue;
            }
            let window_manager = match Command::new("openbox")
                .env("DISPLAY", format!(":{number}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            {
                Ok(child) => child,
                Err(e) => {
                    let _ = xvfb.kill();
                    let _ = xvfb.wait();
                    return Err(e).context("start openbox");
                }
            };
            let display = VirtualDisplay {
                number,
                xvfb,
                window_manager,
                fb_dir,
            };
            match display.wait_for_window_manager() {
                Ok(()) => return Ok(display),
                // Seen on a loaded machine with other test processes starting displays
                // of their own: openbox never answered. Both go (the display's `Drop`)
                // and the next number is tried, a few times.
                Err(e) if window_manager_failures < 2 => {
                    window_manager_failures += 1;
                    eprintln!("{e:#}; trying another display");
                }
                Err(e) => return Err(e),
            }
        }
        bail!("no free X display between :90 and :189")
    }

    fn wait_for_window_manager(&self) -> Result<()> {
        // Generous: on a loaded 2-core machine openbox can take seconds to start.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let answered = Command::new("wmctrl")
                .arg("-m")
                .env("DISPLAY", self.name())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if answered {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("openbox did not start on {}", self.name())
    }

    /// Tells X clients the screen has `dpi` dots per inch (`Xft.dpi` in the root
    /// window's resources, which JUCE reads when it connects): 192 makes a JUCE host
    /// scale its windows and its plugins' editors to 200 %. Affects clients started
    /// afterwards.
    pub fn set_dpi(&self, dpi: u32) -> Result<()> {
        let status = Command::new("xprop")
            .env("DISPLAY", self.name())
            .args([
                "-root",
                "-f",
                "RESOURCE_MANAGER",
                "8s",
                "-set",
                "RESOURCE_MANAGER",
            ])
            .arg(format!("Xft.dpi:\t{dpi}\n"))
            .status()
            .context("run xprop (x11-utils)")?;
        if !status.success() {
            bail!("xprop could not set Xft.dpi ({status})");
        }
        Ok(())
    }

    /// The `DISPLAY` value, e.g. `:90`.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    /// Xvfb's screen as a file (XWD format), always current.
    pub fn framebuffer(&self) -> PathBuf {
        self.fb_dir.join("Xvfb_screen0")
    }
}

impl Drop for VirtualDisplay {
    /// Ends openbox and Xvfb with SIGTERM, so Xvfb removes its lock file and socket
    /// (after SIGKILL they would stay and mark the display as taken), SIGKILL after 5 s.
    fn drop(&mut self) {
        for child in [&mut self.window_manager, &mut self.xvfb] {
            let _ = Command::new("kill")
                .arg(child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.fb_dir);
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
