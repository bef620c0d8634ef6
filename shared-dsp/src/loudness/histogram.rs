//! Bounded storage of gating-block powers: a histogram of block loudness in 0.01 LU bins
//! from −70 to +30 LUFS (the design of libebur128's histogram mode, with ten times finer
//! bins), which also keeps the exact sum of the powers in every bin.
//!
//! Memory is fixed (four arrays of 10 000 entries) however long the programme is. Because
//! each bin keeps its exact power sum, the gated mean is exact except for the blocks that
//! lie within 0.01 LU of a relative gate (the bin that straddles the gate is kept or
//! dropped as a whole, by its mean). Percentiles are read as the mean power of the bin the
//! ranked block falls in, so they are within 0.01 LU of the exact value.
//!
//! Two Fenwick trees (binary indexed trees) over the bins give prefix counts and prefix
//! power sums in O(log n), so the integrated loudness and the loudness range can be
//! updated at every 100 ms hop on the audio thread for a few hundred operations.

/// Lowest loudness kept (the absolute gate of BS.1770-4 and Tech 3342), LUFS.
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Bin width, LU.
pub const BIN_WIDTH_LU: f64 = 0.01;
/// Bins from −70 to +30 LUFS; louder blocks go to the top bin (with their exact power).
pub const BINS: usize = 10_000;

/// BS.1770-4 eq. 2: `L = −0.691 + 10·log10(Σ Gᵢ·zᵢ)`.
#[inline]
pub fn power_to_lufs(power: f64) -> f64 {
    -0.691 + 10.0 * power.log10()
}

/// Inverse of [`power_to_lufs`].
#[inline]
pub fn lufs_to_power(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

/// Block powers above the absolute gate, binned by loudness.
#[derive(Debug, Clone)]
pub struct BlockHistogram {
    counts: Box<[u64]>,
    powers: Box<[f64]>,
    /// Fenwick trees, 1-based: node `i` covers bins `(i − lowbit(i), i]` (1-based).
    count_tree: Box<[u64]>,
    power_tree: Box<[f64]>,
    total_count: u64,
    total_power: f64,
    absolute_gate_power: f64,
}

/// The blocks that pass a relative gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GatedBlocks {
    /// Blocks kept.
    pub count: u64,
    /// Sum of their powers.
    pub power_sum: f64,
    /// The first bin kept.
    pub first_bin: usize,
}

impl BlockHistogram {
    pub fn new() -> Self {
        Self {
            counts: vec![0; BINS].into_boxed_slice(),
            powers: vec![0.0; BINS].into_boxed_slice(),
            count_tree: vec![0; BINS + 1].into_boxed_slice(),
            power_tree: vec![0.0; BINS + 1].into_boxed_slice(),
            total_count: 0,
            total_power: 0.0,
            absolute_gate_power: lufs_to_power(ABSOLUTE_GATE_LUFS),
        }
    }

    pub fn reset(&mut self) {
        self.counts.fill(0);
        self.powers.fill(0.0);
        self.count_tree.fill(0);
        self.power_tree.fill(0.0);
        self.total_count = 0;
        self.total_power = 0.0;
    }

    /// Capacity of the storage (for the test that memory does not grow).
    pub fn capacity(&self) -> usize {
        self.counts.len() + self.powers.len() + self.count_tree.len() + self.power_tree.len()
    }

    /// Blocks above the absolute gate so far.
    pub fn total_count(&self) -> u64 {
        self.total_count
    }

    fn bin_of(power: f64) -> usize {
        let position = (power_to_lufs(power) - ABSOLUTE_GATE_LUFS) / BIN_WIDTH_LU;
        // `as` saturates: NaN → 0, negative → 0, huge → usize::MAX (then clamped).
        (position.floor() as usize).min(BINS - 1)
    }

    /// Adds a block of mean power `power` (Σ Gᵢ·zᵢ). Blocks at or below the absolute gate
    /// (−70 LUFS) and non-finite powers are dropped (BS.1770-4 eq. 6 keeps `l > Γa`).
    pub fn add(&mut self, power: f64) {
        if !(power > self.absolute_gate_power) || !power.is_finite() {
            return;
        }
        let bin = Self::bin_of(power);
        self.counts[bin] += 1;
        self.powers[bin] += power;
        let mut node = bin + 1;
        while node <= BINS {
            self.count_tree[node] += 1;
            self.power_tree[node] += power;
            node += node & node.wrapping_neg();
        }
        self.total_count += 1;
        self.total_power += power;
    }

    /// Count and power sum of bins `0..bins`.
    fn prefix(&self, bins: usize) -> (u64, f64) {
        let (mut count, mut power) = (0, 0.0);
        let mut node = bins.min(BINS);
        while node > 0 {
            count += self.count_tree[node];
            power += self.power_tree[node];
            node &= node - 1;
        }
        (count, power)
    }

    /// The blocks louder than `relative_gate_lu` below the mean power of all blocks above
    /// the absolute gate (BS.1770-4 eq. 7–8 with −10 LU; Tech 3342 with −20 LU). `None`
    /// when no block passed the absolute gate.
    pub fn gate(&self, relative_gate_lu: f64) -> Option<GatedBlocks> {
        if self.total_count == 0 {
            return None;
        }
        let threshold =
            self.total_power / self.total_count as f64 * 10f64.powf(relative_gate_lu / 10.0);
        if threshold <= self.absolute_gate_power {
            return Some(GatedBlocks {
                count: self.total_count,
                power_sum: self.total_power,
                first_bin: 0,
            });
        }
        let bin = Self::bin_of(threshold);
        // The straddling bin is kept if its mean is above the threshold.
        let keep_straddling =
            self.counts[bin] > 0 && self.powers[bin] > threshold * self.counts[bin] as f64;
        let first_bin = if keep_straddling { bin } else { bin + 1 };
        let (below_count, below_power) = self.prefix(first_bin);
        Some(GatedBlocks {
            count: self.total_count - below_count,
            power_sum: (self.total_power - below_power).max(0.0),
            first_bin,
        })
    }

    /// Mean power of the block with 0-based rank `rank` (in increasing loudness) among the
    /// blocks in bins `first_bin..`, as the mean of its bin.
    pub fn power_at_rank(&self, first_bin: usize, rank: u64) -> f64 {
        let (before, _) = self.prefix(first_bin);
        let target = before + rank + 1;
        // Smallest 1-based node position with prefix count ≥ target (Fenwick descent).
        let mut position = 0usize;
        let mut remaining = target;
        let mut step = 1usize << (usize::BITS - 1 - BINS.leading_zeros());
        while step > 0 {
            let next = position + step;
            if next <= BINS && self.count_tree[next] < remaining {
                position = next;
                remaining -= self.count_tree[next];
            }
            step >>= 1;
        }
        let bin = position.min(BINS - 1);
        if self.counts[bin] == 0 {
            return 0.0;
        }
        self.powers[bin] / self.counts[bin] as f64
    }
}

impl Default for BlockHistogram {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_and_ranks_match_a_sorted_list() {
        // Against the exact computation on a sorted list of powers. Tolerances: the gated
        // mean differs only by blocks within one bin (0.01 LU) of the gate, none here by
        // construction of the levels (0.33 LU apart, −80 to +18.7 LUFS, below the top
        // bin); ranks read the bin mean, within 0.01 LU of the block.
        let mut h = BlockHistogram::new();
        let mut levels = Vec::new();
        for i in 0..300 {
            let lufs = -80.0 + 0.33 * i as f64;
            levels.push(lufs);
            h.add(lufs_to_power(lufs));
        }
        let kept: Vec<f64> = levels.iter().copied().filter(|&l| l > -70.0).collect();
        assert_eq!(h.total_count(), kept.len() as u64);
        let mean: f64 = kept.iter().map(|&l| lufs_to_power(l)).sum::<f64>() / kept.len() as f64;
        let gate = power_to_lufs(mean) - 10.0;
        let gated: Vec<f64> = kept.iter().copied().filter(|&l| l > gate).collect();
        let g = h.gate(-10.0).unwrap();
        assert_eq!(g.count, gated.len() as u64);
        let exact: f64 = gated.iter().map(|&l| lufs_to_power(l)).sum();
        assert!((g.power_sum / exact - 1.0).abs() < 1e-12);
        for rank in [0u64, 5, g.count - 1] {
            let got = power_to_lufs(h.power_at_rank(g.first_bin, rank));
            assert!(
                (got - gated[rank as usize]).abs() < BIN_WIDTH_LU,
                "rank {rank}"
            );
        }
    }

    #[test]
    fn nothing_above_the_absolute_gate() {
        let mut h = BlockHistogram::new();
        h.add(lufs_to_power(-75.0));
        h.add(0.0);
        h.add(f64::NAN);
        h.add(f64::INFINITY);
        assert!(h.gate(-10.0).is_none());
        // Louder than +30 LUFS goes to the top bin with its exact power.
        h.add(lufs_to_power(40.0));
        let g = h.gate(-10.0).unwrap();
        assert!((power_to_lufs(g.power_sum) - 40.0).abs() < 1e-9);
    }
}
