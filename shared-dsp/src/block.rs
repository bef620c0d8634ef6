//! Splitting a host's block into chunks a chain has allocated for.

/// The most channels a chain processes in one call (stereo plus a stereo sidechain, with
/// room for 5.1 metering).
pub const MAX_CHANNELS: usize = 8;

/// Calls `process` on consecutive chunks of at most `max_frames` frames of `channels`
/// (all channels cut at the same frames). Channels past [`MAX_CHANNELS`] are left out, and
/// the shortest channel sets the length, so a malformed buffer is never indexed out of
/// bounds. Allocates nothing.
#[inline]
pub fn for_each_chunk(
    channels: &mut [&mut [f32]],
    max_frames: usize,
    mut process: impl FnMut(&mut [&mut [f32]]),
) {
    let count = channels.len().min(MAX_CHANNELS);
    let frames = channels[..count].iter().map(|c| c.len()).min().unwrap_or(0);
    let step = max_frames.max(1);
    let mut start = 0;
    while start < frames {
        let end = (start + step).min(frames);
        let mut parts: [&mut [f32]; MAX_CHANNELS] = Default::default();
        for (part, channel) in parts.iter_mut().zip(channels.iter_mut()) {
            *part = &mut channel[start..end];
        }
        process(&mut parts[..count]);
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_block_in_order() {
        let mut left: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let mut right = left.clone();
        let mut seen = Vec::new();
        for_each_chunk(&mut [&mut left, &mut right], 4, |chunk| {
            assert_eq!(chunk.len(), 2);
            seen.push(chunk[0].len());
            chunk[1].iter_mut().for_each(|s| *s = -*s);
        });
        assert_eq!(seen, vec![4, 4, 2]);
        assert_eq!(right[9], -9.0);
    }

    #[test]
    fn empty_and_ragged_input_is_safe() {
        for_each_chunk(&mut [], 64, |_| panic!("nothing to process"));
        let mut a = vec![0.0f32; 5];
        let mut b = vec![0.0f32; 3];
        let mut total = 0;
        for_each_chunk(&mut [&mut a, &mut b], 0, |chunk| total += chunk[0].len());
        assert_eq!(
            total, 3,
            "the shortest channel sets the length; max 0 means 1"
        );
    }
}
