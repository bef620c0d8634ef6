//! The UI scale the window can actually hold.
//!
//! The user picks a UI scale in the top bar's menu; the editor then asks the host for a
//! window of the layout's size times the new scale. A host may refuse, grant another
//! size, or give the window a size of its own later (a host-drawn resize handle, a
//! project's saved size). Laying the editor out at the chosen scale in
//! whatever window it gets would squeeze the layout below the size it needs: panels
//! overlapping, knobs over their labels. Instead the editor lays out for the window it
//! really has: when the window is too small for the layout at the chosen scale, the
//! whole editor is drawn smaller, at the largest scale at which the layout's minimum
//! size fits the window (the *fitted* scale), and the top bar says so. The user's
//! choice is kept (and saved), and comes back as soon as the window is large enough.
//!
//! How, under egui-baseview (nice-plug-egui's window): the scale is egui's zoom factor,
//! and egui-baseview resizes the window by the zoom's ratio whenever the zoom changes,
//! unless the same frame asks for a window size of its own
//! (`ViewportCommand::InnerSize`, in points at the zoom egui reports at the frame's end).
//! So a fitted zoom is applied with the window held at its size: [`ScaleFit`] sends the
//! window's own size in the frame that changes the zoom and in the next one (the zoom
//! takes effect at the start of the next frame, and egui-baseview sees it only after
//! that frame). The size sent must be the size the window has *now*: any other is a
//! resize request to the host. egui's input does not say it in the frame after a zoom
//! change (egui then rescales the last frame's screen instead), so the editor passes the
//! size the window last reported. (A stale size there is a request to resize the window
//! back to what it was a frame ago; seen with DawDreamer, whose window briefly reverts a
//! resize, as a window flipping between two sizes.)
//!
//! After the user picks a scale the window is left alone for [`HOST_ANSWER_WAIT`], so
//! the resize request can reach the host and its answer come back; then the window has
//! the size the host gave it and the zoom is fitted to that. egui_kittest's harness
//! never resizes its window unless the editor asks (`InnerSize`), so in the headless
//! tests it behaves as a host that refuses every resize.

use egui::{Context, Vec2, ViewportCommand};

/// How long the editor waits, after a new scale was picked, for the host to answer the
/// resize it asks for before laying out for the window it has, seconds. A host answers
/// within a few frames: the request goes out on the host's next main-thread callback
/// and the new size comes back as an X11 configure event.
pub const HOST_ANSWER_WAIT: f64 = 0.5;

/// The smallest zoom the editor draws at, however small the window: below it nothing
/// is readable, and egui needs a positive zoom.
pub const MIN_ZOOM: f32 = 0.25;

/// Changes of zoom smaller than this are not made (a pixel's rounding of a window size
/// must not start a resize).
const ZOOM_EPSILON: f32 = 0.005;

/// How far (in points) the window may be below the layout's minimum before the zoom is
/// lowered: egui rounds sizes to its pixel grid.
const SIZE_SLACK: f32 = 0.5;

/// Keeps egui's zoom at the user's chosen scale where the window holds it, and at the
/// fitted scale where it does not. One per editor window; [`ScaleFit::begin_frame`] at
/// the start of every frame, [`ScaleFit::chose`] when the user picks a scale.
#[derive(Clone, Debug, Default)]
pub struct ScaleFit {
    /// The zoom this editor last gave egui (`None` before the first frame). egui's zoom
    /// differing from it at the start of a frame means egui changed it itself: its
    /// keyboard zoom (Ctrl + / Ctrl −, where the window passes those keys to egui:
    /// egui-baseview 0.9 passes neither, egui_kittest does).
    applied: Option<f32>,
    /// A scale was picked and the host asked for a new window: since when (egui's time,
    /// seconds) and the window's size then (logical pixels).
    pending: Option<(f64, Vec2)>,
    /// Frames left in which the window is held at its size while the zoom changes.
    hold: u8,
    /// The window's size (logical pixels) as of the current frame.
    window: Option<Vec2>,
    /// The editor's size in points when last drawn at the chosen scale: the window a
    /// scale asks for is this times the scale.
    natural: Option<Vec2>,
    /// A window size (logical pixels) to ask the host for in the next frame, the one in
    /// which egui-baseview sees the zoom change (see [`ScaleFit::ask_again`]).
    ask: Option<Vec2>,
}

/// What the window shows this frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// The scale the user chose (saved with the project).
    pub chosen: f32,
    /// The scale drawn at: `chosen`, or less where the window is too small for it.
    pub shown: f32,
    /// The window's size, logical pixels (the host's size divided by the system's
    /// HiDPI factor).
    pub window: Vec2,
}

impl Fit {
    /// Whether the editor is drawn smaller than the chosen scale.
    pub fn is_reduced(&self) -> bool {
        self.shown < self.chosen - ZOOM_EPSILON
    }
}

impl ScaleFit {
    /// Call at the start of each frame, before anything is laid out. `chosen` is the
    /// user's scale, `min_size` the smallest size (points) the layout fits in, `window`
    /// the window's size (logical pixels) as the window last reported it, where known
    /// (otherwise egui's screen is taken for it). Returns what the frame shows and the
    /// user's scale, which changes when egui's zoom was changed by the keyboard (the
    /// caller saves it).
    pub fn begin_frame(
        &mut self,
        ctx: &Context,
        chosen: f32,
        min_size: Vec2,
        window: Option<Vec2>,
    ) -> Fit {
        let zoom = ctx.zoom_factor();
        let window =
            window.unwrap_or_else(|| ctx.input(|input| input.viewport_rect().size()) * zoom);
        // The window's own size as egui-baseview reads an `InnerSize` after this frame:
        // in points at egui's zoom then, which a `set_zoom_factor` in this frame does not
        // change yet.
        let hold_size = window / zoom;
        self.window = Some(window);
        let mut chosen = chosen;
        match self.applied {
            None => self.applied = Some(zoom),
            Some(applied) if (applied - zoom).abs() > 1e-6 => {
                // egui zoomed by itself (its keyboard zoom): that is the user's new
                // choice (within the scale range), and egui-baseview asks the host for
                // a window to match.
                chosen = super::sanitized_scale(zoom);
                if chosen != zoom {
                    ctx.set_zoom_factor(chosen);
                }
                self.chose(ctx, chosen);
            }
            Some(_) => {}
        }
        let now = ctx.input(|input| input.time);
        if let Some((since, window_then)) = self.pending {
            let answered = (window - window_then).length() > 0.5;
            if answered || now - since >= HOST_ANSWER_WAIT {
                self.pending = None;
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(
                    HOST_ANSWER_WAIT - (now - since),
                ));
            }
        }
        if let Some(ask) = self.ask.take() {
            // In points at the zoom egui-baseview multiplies by after this frame.
            ctx.send_viewport_cmd(ViewportCommand::InnerSize(ask / zoom));
        } else if self.hold > 0 {
            self.hold -= 1;
            ctx.send_viewport_cmd(ViewportCommand::InnerSize(hold_size));
        }
        let usable = window.x > 0.0 && window.y > 0.0 && window.is_finite();
        if self.pending.is_none() && usable {
            let holds = |zoom: f32| {
                let points = window / zoom;
                points.x >= min_size.x - SIZE_SLACK && points.y >= min_size.y - SIZE_SLACK
            };
            let target = if holds(chosen) {
                chosen
            } else {
                chosen.min(fitted_zoom(window, min_size))
            };
            if !holds(zoom) || (zoom - target).abs() > ZOOM_EPSILON {
                ctx.set_zoom_factor(target);
                self.applied = Some(target);
                // The window stays as it is in this frame and the next (see the module
                // documentation).
                self.hold = 1;
                ctx.send_viewport_cmd(ViewportCommand::InnerSize(hold_size));
            }
        }
        let shown = self.applied.unwrap_or(zoom);
        if self.pending.is_none() && usable && (shown - chosen).abs() <= ZOOM_EPSILON {
            self.natural = Some(window / chosen);
        }
        Fit {
            chosen,
            shown,
            window,
        }
    }

    /// The user picked the chosen `scale` again while the window is too small for it
    /// (already applied as egui's zoom): the host is asked for the window the editor
    /// had at that scale, its size in points when last drawn at the chosen scale times
    /// `scale`. (egui-baseview alone would ask for the window times the change of zoom,
    /// which from a fitted zoom is only the minimum size at `scale`.)
    pub fn ask_again(&mut self, ctx: &Context, scale: f32) {
        self.chose(ctx, scale);
        self.ask = self.natural.map(|points| points * scale);
    }

    /// The user picked `scale` (already applied as egui's zoom): the window is left to
    /// the host for [`HOST_ANSWER_WAIT`].
    pub fn chose(&mut self, ctx: &Context, scale: f32) {
        let window = self
            .window
            .unwrap_or_else(|| ctx.input(|input| input.viewport_rect().size()) * ctx.zoom_factor());
        self.applied = Some(scale);
        self.hold = 0;
        self.pending = Some((ctx.input(|input| input.time), window));
        ctx.request_repaint_after(std::time::Duration::from_secs_f64(HOST_ANSWER_WAIT));
    }
}

/// The largest zoom at which `min_size` (points) fits in `window` (logical pixels),
/// at least [`MIN_ZOOM`].
pub fn fitted_zoom(window: Vec2, min_size: Vec2) -> f32 {
    let zoom = (window.x / min_size.x).min(window.y / min_size.y);
    // A hair under the exact ratio, so the points the window then has are never a
    // rounding error below the minimum.
    (zoom * (1.0 - 1e-5)).max(MIN_ZOOM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_zoom_holds_the_minimum_in_the_window() {
        let min = Vec2::new(860.0, 540.0);
        let zoom = fitted_zoom(Vec2::new(1000.0, 620.0), min);
        assert!((zoom - 620.0 / 540.0).abs() < 1e-4, "{zoom}");
        let points = Vec2::new(1000.0, 620.0) / zoom;
        assert!(points.x >= min.x && points.y >= min.y, "{points:?}");
        assert_eq!(fitted_zoom(Vec2::new(10.0, 10.0), min), MIN_ZOOM);
    }

    /// One frame as egui-baseview runs it: `screen` (points) as the raw input's screen,
    /// `window` as the window last reported it; returns the window sizes (logical
    /// pixels) the frame's `InnerSize` commands ask egui-baseview for (each times the
    /// zoom egui reports after the frame, as egui-baseview multiplies).
    fn frame(ctx: &Context, fit: &mut ScaleFit, screen: Vec2, window: Vec2) -> Vec<Vec2> {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, screen)),
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| {
            fit.begin_frame(ui.ctx(), 2.0, Vec2::new(860.0, 540.0), Some(window));
        });
        // No renderer here to take the font texture.
        output.textures_delta.clear();
        let zoom = ctx.zoom_factor();
        output.viewport_output[&egui::ViewportId::ROOT]
            .commands
            .iter()
            .filter_map(|command| match command {
                ViewportCommand::InnerSize(points) => Some(*points * zoom),
                _ => None,
            })
            .collect()
    }

    /// The window held while the zoom changes is the window as it is now, never a size
    /// it had a frame ago: in the frame after a zoom change egui shows last frame's
    /// screen rescaled, and a size taken from it would be a resize request to the host.
    #[test]
    fn the_window_held_is_the_window_as_it_is_now() {
        let ctx = Context::default();
        let mut fit = ScaleFit::default();
        // 200 % chosen in a 1000 × 620 window: drawn at the largest zoom that fits, the
        // window held at 1000 × 620.
        let small = Vec2::new(1000.0, 620.0);
        let asked = frame(&ctx, &mut fit, small, small);
        assert!(
            !asked.is_empty() && asked.iter().all(|&size| size == small),
            "{asked:?}"
        );
        // Meanwhile the host made the window 2000 × 1240; egui's screen this frame is
        // the last one's rescaled to the fitted zoom. Every size asked for is the window
        // the host made.
        let large = Vec2::new(2000.0, 1240.0);
        let asked = frame(&ctx, &mut fit, small, large);
        assert!(
            !asked.is_empty(),
            "no size held while the zoom went back to 200 %"
        );
        for size in asked {
            assert!((size - large).abs().max_elem() < 0.01, "asked for {size:?}");
        }
    }
}
