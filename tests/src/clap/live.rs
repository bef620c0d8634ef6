//! Audio that keeps running while the host's main thread does other work (opening and
//! closing the editor), as in a host playing a session: [`ClapInstance::process_alongside`]
//! processes on an audio thread, paced like an audio interface, for as long as a closure
//! runs on the main thread with the instance. CLAP allows exactly this: `process` on the
//! audio thread, GUI and other main-thread calls on the main thread, at the same time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Result};
use clack_host::events::io::EventBuffer;
use clack_host::prelude::{
    AudioPortBuffer, AudioPortBufferType, AudioPorts, InputChannel, StoppedPluginAudioProcessor,
};

use super::{ClapInstance, TestHost};

/// What the audio thread played during a [`ClapInstance::process_alongside`] call.
#[derive(Debug)]
pub struct Played {
    /// The output, one `Vec` per channel: every frame processed, in order.
    pub output: Vec<Vec<f32>>,
    /// Blocks processed.
    pub blocks: usize,
    /// Blocks that were not ready by their deadline (processing slower than real time):
    /// the stream ran late, as an audio interface would report an underrun.
    pub late_blocks: usize,
}

impl ClapInstance {
    /// Plays `source(channel, frame)` through the plugin on an audio thread, in blocks of
    /// `block` frames, one block per block's worth of real time (a block is never
    /// processed before its time, as an audio interface delivers them; when processing
    /// falls behind, the next block follows at once), while `main` runs on this thread
    /// with the instance. Processing starts (the plugin's reset) before `main` and stops
    /// after it returns; at most `max_frames` frames are played.
    ///
    /// The input of frame `n` is `source(channel, n)`, so the same audio can be rendered
    /// again with [`Self::process`] and compared.
    pub fn process_alongside<R>(
        &mut self,
        source: &(dyn Fn(usize, usize) -> f32 + Sync),
        block: usize,
        max_frames: usize,
        main: impl FnOnce(&mut ClapInstance) -> R,
    ) -> Result<(Played, R)> {
        let config = self
            .config
            .ok_or_else(|| anyhow!("process_alongside() before activate()"))?;
        ensure!(
            block >= 1 && block <= config.max_frames,
            "block size {block} outside 1..={}",
            config.max_frames
        );
        let processor = self.processor.take().ok_or_else(|| anyhow!("not active"))?;
        let channels = self.channels;
        let aux = self.aux_inputs.clone();
        let stop = AtomicBool::new(false);
        let (joined, result) = std::thread::scope(|scope| {
            let audio = scope.spawn(|| {
                play(
                    processor,
                    source,
                    channels,
                    &aux,
                    block,
                    max_frames,
                    config.sample_rate,
                    &stop,
                )
            });
            // Whatever `main` does (or if it panics), the audio thread is stopped.
            struct Stop<'a>(&'a AtomicBool);
            impl Drop for Stop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Release);
                }
            }
            let stopper = Stop(&stop);
            let result = main(self);
            drop(stopper);
            (audio.join(), result)
        });
        let (processor, played) = match joined {
            Ok(joined) => joined,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        self.processor = Some(processor);
        self.serve_main_thread_requests();
        Ok((played?, result))
    }
}

/// The audio thread of [`ClapInstance::process_alongside`].
#[allow(clippy::too_many_arguments)]
fn play(
    processor: StoppedPluginAudioProcessor<TestHost>,
    source: &(dyn Fn(usize, usize) -> f32 + Sync),
    channels: usize,
    aux: &[usize],
    block: usize,
    max_frames: usize,
    sample_rate: f64,
    stop: &AtomicBool,
) -> (StoppedPluginAudioProcessor<TestHost>, Result<Played>) {
    let mut started = match processor.start_processing() {
        Ok(started) => started,
        Err(e) => {
            return (
                e.into_stopped_processor(),
                Err(anyhow!("start_processing failed")),
            )
        }
    };
    // Everything allocated up front, as an audio thread does.
    let mut in_buffers: Vec<Vec<Vec<f32>>> = std::iter::once(channels)
        .chain(aux.iter().copied())
        .map(|n| vec![vec![0.0f32; block]; n])
        .collect();
    let mut out_buffers = vec![vec![0.0f32; block]; channels];
    let mut output: Vec<Vec<f32>> = (0..channels)
        .map(|_| Vec::with_capacity(max_frames))
        .collect();
    let mut in_ports =
        AudioPorts::with_capacity(channels + aux.iter().sum::<usize>(), 1 + aux.len());
    let mut out_ports = AudioPorts::with_capacity(channels, 1);
    let in_events = EventBuffer::with_capacity(1);
    let mut out_events = EventBuffer::with_capacity(64);
    let block_time = Duration::from_secs_f64(block as f64 / sample_rate);
    let start = Instant::now();
    let mut position = 0;
    let mut blocks = 0;
    let mut late_blocks = 0;
    let mut result = Ok(());
    while !stop.load(Ordering::Acquire) && position + block <= max_frames {
        // This block's audio is "recorded" by its deadline: wait for it.
        let due = start + block_time * blocks as u32;
        let now = Instant::now();
        if now < due {
            std::thread::sleep(due - now);
        } else if now > due + block_time {
            late_blocks += 1;
        }
        for (channel, buffer) in in_buffers[0].iter_mut().enumerate() {
            for (i, sample) in buffer.iter_mut().enumerate() {
                *sample = source(channel, position + i);
            }
        }
        for buffer in out_buffers.iter_mut() {
            buffer.fill(f32::NAN);
        }
        out_events.clear();
        let status = {
            let in_audio =
                in_ports.with_input_buffers(in_buffers.iter_mut().map(|port| AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        port.iter_mut().map(|b| InputChannel::variable(&mut b[..])),
                    ),
                }));
            let mut out_audio = out_ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    out_buffers.iter_mut().map(|b| &mut b[..]),
                ),
            }]);
            started.process(
                &in_audio,
                &mut out_audio,
                &in_events.as_input(),
                &mut out_events.as_output(),
                Some(position as u64),
                None,
            )
        };
        if let Err(e) = status {
            result = Err(anyhow!("process failed at sample {position}: {e:?}"));
            break;
        }
        for (out, buffer) in output.iter_mut().zip(&out_buffers) {
            out.extend_from_slice(buffer);
        }
        position += block;
        blocks += 1;
    }
    let played = result.map(|()| Played {
        output,
        blocks,
        late_blocks,
    });
    (started.stop_processing(), played)
}
