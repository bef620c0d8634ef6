//! One FLAC frame from one block of integer samples, written from the format's
//! specification (RFC 9639): the frame header with its CRC-8, a subframe per channel
//! (constant, verbatim, fixed predictor or quantised LPC, with wasted bits), the residual
//! as partitioned Rice codes, and the CRC-16 footer.
//!
//! The search is close to the reference encoder's level 5 (`flac -5`): an LPC of order
//! up to 8 from the autocorrelation of a Tukey(0.5)-windowed block, its order chosen by
//! the Levinson-Durbin error estimate, coefficients quantised to 12 bits (16-bit audio)
//! or 15 bits (deeper), checked against the best fixed predictor; Rice partitions up to
//! order 8 with each parameter chosen from the partition's sum; stereo coded as the
//! pair (left/right, left/side, right/side or mid/side) with the smallest estimate.

/// Highest LPC order searched.
const MAX_LPC_ORDER: usize = 8;
/// Highest Rice partition order searched.
const MAX_PARTITION_ORDER: u32 = 8;

/// A big-endian bit writer into a byte vector.
pub struct Bits {
    pub bytes: Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits {
    pub fn new() -> Self {
        Self {
            bytes: Vec::new(),
            acc: 0,
            count: 0,
        }
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.acc = 0;
        self.count = 0;
    }

    fn drain(&mut self) {
        while self.count >= 8 {
            self.count -= 8;
            self.bytes.push((self.acc >> self.count) as u8);
        }
    }

    /// Appends the low `n` bits of `value` (`n` ≤ 32, higher bits of `value` zero).
    #[inline]
    pub fn put(&mut self, n: u32, value: u64) {
        debug_assert!(n <= 32 && value >> n == 0);
        if self.count + n > 64 {
            // Spill the oldest 32 bits; `count` > 32 here, so what stays plus `n` fits.
            let word = (self.acc >> (self.count - 32)) as u32;
            self.bytes.extend_from_slice(&word.to_be_bytes());
            self.count -= 32;
        }
        // A shift by 64 (n = 64) never happens: n ≤ 32.
        self.acc = (self.acc << n) | value;
        self.count += n;
    }

    /// Appends the low `n` bits of a signed value (two's complement).
    #[inline]
    pub fn put_signed(&mut self, n: u32, value: i64) {
        self.put(n, (value as u64) & ((1u64 << n) - 1));
    }

    /// Appends `u` Rice-coded with parameter `k`: the quotient in unary (zeros, then a
    /// one), then the `k` low bits.
    #[inline]
    fn put_rice(&mut self, k: u32, u: u32) {
        let q = u >> k;
        let low = u64::from(u) & ((1u64 << k) - 1);
        if u64::from(q) + 1 + u64::from(k) <= 32 {
            self.put(q + 1 + k, (1u64 << k) | low);
        } else {
            let mut zeros = q;
            while zeros > 0 {
                let n = zeros.min(32);
                self.put(n, 0);
                zeros -= n;
            }
            self.put(1 + k, (1u64 << k) | low);
        }
    }

    /// Pads with zeros to a byte boundary and flushes everything to `bytes`.
    pub fn align(&mut self) {
        let pad = (8 - self.count % 8) % 8;
        self.put(pad, 0);
        self.drain();
        debug_assert_eq!(self.count, 0);
    }
}

const fn crc8_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u8;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
            b += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-16 tables for eight bytes at a time: `table[k][b]` is the CRC of byte `b`
/// followed by `k` zero bytes (the CRC is linear, so a word's CRC is the XOR of its
/// bytes' entries, the running CRC folded into the first two bytes).
const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut table = [[0u16; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u16) << 8;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
            b += 1;
        }
        table[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = table[k - 1][i];
            table[k][i] = (prev << 8) ^ table[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    table
}

static CRC8: [u8; 256] = crc8_table();
static CRC16: [[u16; 256]; 8] = crc16_tables();

/// CRC-8 of the frame header (polynomial x⁸ + x² + x + 1, initial 0).
pub fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |c, &b| CRC8[usize::from(c ^ b)])
}

/// CRC-16 of the frame (polynomial x¹⁶ + x¹⁵ + x² + 1, initial 0).
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut words = bytes.chunks_exact(8);
    let mut c = 0u16;
    for w in &mut words {
        let t = |k: usize, b: u8| CRC16[k][usize::from(b)];
        c = t(7, w[0] ^ (c >> 8) as u8)
            ^ t(6, w[1] ^ c as u8)
            ^ t(5, w[2])
            ^ t(4, w[3])
            ^ t(3, w[4])
            ^ t(2, w[5])
            ^ t(1, w[6])
            ^ t(0, w[7]);
    }
    words.remainder().iter().fold(c, |c, &b| {
        (c << 8) ^ CRC16[0][usize::from(((c >> 8) as u8) ^ b)]
    })
}

/// The frame header's sample-rate code, and the extra bits it needs at the end of the
/// header (`(bits, value)`, zero bits for none).
fn rate_code(rate: u32) -> (u64, u32, u64) {
    match rate {
        88_200 => (1, 0, 0),
        176_400 => (2, 0, 0),
        192_000 => (3, 0, 0),
        8_000 => (4, 0, 0),
        16_000 => (5, 0, 0),
        22_050 => (6, 0, 0),
        24_000 => (7, 0, 0),
        32_000 => (8, 0, 0),
        44_100 => (9, 0, 0),
        48_000 => (10, 0, 0),
        96_000 => (11, 0, 0),
        r if r % 1000 == 0 && r / 1000 < 256 => (12, 8, u64::from(r / 1000)),
        r if r < 65_536 => (13, 16, u64::from(r)),
        r if r % 10 == 0 && r / 10 < 65_536 => (14, 16, u64::from(r / 10)),
        // Taken from the STREAMINFO.
        _ => (0, 0, 0),
    }
}

/// The frame header's block-size code and its extra bits.
fn block_code(n: usize) -> (u64, u32, u64) {
    match n {
        192 => (1, 0, 0),
        576 | 1152 | 2304 | 4608 => (2 + (n / 576).trailing_zeros() as u64, 0, 0),
        256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 => {
            (8 + (n / 256).trailing_zeros() as u64, 0, 0)
        }
        n if n <= 256 => (6, 8, n as u64 - 1),
        n => (7, 16, n as u64 - 1),
    }
}

/// How the channels of a frame are coded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Assignment {
    Independent,
    LeftSide,
    RightSide,
    MidSide,
}

/// Scratch space for encoding frames; reused block after block.
pub struct FrameEncoder {
    channel: Vec<i32>,
    shifted: Vec<i32>,
    window: Vec<f64>,
    windowed: Vec<f64>,
    residual: Vec<i32>,
    best_residual: Vec<i32>,
    zigzag: Vec<u32>,
    sums: Vec<u64>,
    window_len: usize,
}

/// A subframe's chosen coding.
#[derive(Clone, Copy)]
enum Kind {
    Verbatim,
    Fixed(usize),
    Lpc {
        order: usize,
        precision: u32,
        shift: u32,
        coefs: [i32; MAX_LPC_ORDER],
    },
}

/// The Rice coding of a residual: partition order, parameters and whether 5-bit
/// parameters are needed.
struct RicePlan {
    order: u32,
    params: Vec<u32>,
    wide: bool,
    bits: u64,
}

impl FrameEncoder {
    pub fn new() -> Self {
        Self {
            channel: Vec::new(),
            shifted: Vec::new(),
            window: Vec::new(),
            windowed: Vec::new(),
            residual: Vec::new(),
            best_residual: Vec::new(),
            zigzag: Vec::new(),
            sums: Vec::new(),
            window_len: 0,
        }
    }

    /// Appends to `out` the frame numbered `number` holding `block` (interleaved,
    /// `channels` channels of `bits` bits; every sample within range).
    pub fn encode(
        &mut self,
        out: &mut Bits,
        block: &[i32],
        channels: usize,
        bits: u32,
        rate: u32,
        number: u64,
    ) {
        let n = block.len() / channels;
        let start = out.bytes.len();
        debug_assert_eq!(out.count, 0);
        let assignment = if channels == 2 {
            choose_stereo(block)
        } else {
            Assignment::Independent
        };
        // Header.
        out.put(16, 0xFFF8);
        let (block_code, block_bits, block_extra) = block_code(n);
        let (rate_code, rate_bits, rate_extra) = rate_code(rate);
        out.put(4, block_code);
        out.put(4, rate_code);
        out.put(
            4,
            match assignment {
                Assignment::Independent => channels as u64 - 1,
                Assignment::LeftSide => 8,
                Assignment::RightSide => 9,
                Assignment::MidSide => 10,
            },
        );
        out.put(3, if bits == 16 { 0b100 } else { 0b110 });
        out.put(1, 0);
        put_utf8(out, number);
        out.put(block_bits, block_extra);
        out.put(rate_bits, rate_extra);
        out.align();
        let crc = crc8(&out.bytes[start..]);
        out.put(8, u64::from(crc));
        // Subframes.
        for c in 0..channels {
            let (sub_bits, source) = match (assignment, c) {
                (Assignment::Independent, _) => (bits, Source::Channel(c)),
                (Assignment::LeftSide, 0) => (bits, Source::Channel(0)),
                (Assignment::LeftSide, _) => (bits + 1, Source::Side),
                (Assignment::RightSide, 0) => (bits + 1, Source::Side),
                (Assignment::RightSide, _) => (bits, Source::Channel(1)),
                (Assignment::MidSide, 0) => (bits, Source::Mid),
                (Assignment::MidSide, _) => (bits + 1, Source::Side),
            };
            let mut channel = std::mem::take(&mut self.channel);
            channel.clear();
            match source {
                Source::Channel(c) => {
                    channel.extend(block.iter().skip(c).step_by(channels).copied())
                }
                Source::Side => channel.extend(block.chunks_exact(2).map(|f| f[0] - f[1])),
                Source::Mid => channel.extend(
                    block
                        .chunks_exact(2)
                        .map(|f| ((i64::from(f[0]) + i64::from(f[1])) >> 1) as i32),
                ),
            }
            self.subframe(out, &channel, sub_bits);
            self.channel = channel;
        }
        out.align();
        let crc = crc16(&out.bytes[start..]);
        out.put(16, u64::from(crc));
        out.align();
    }

    /// Codes one channel's subframe.
    fn subframe(&mut self, out: &mut Bits, x: &[i32], bits: u32) {
        let n = x.len();
        if x.iter().all(|&v| v == x[0]) {
            out.put(8, 0);
            out.put_signed(bits, i64::from(x[0]));
            return;
        }
        // Wasted bits: low bits that are zero in every sample.
        let wasted = x.iter().fold(0i32, |a, &v| a | v).trailing_zeros();
        let mut samples = std::mem::take(&mut self.shifted);
        samples.clear();
        let x: &[i32] = if wasted > 0 {
            samples.extend(x.iter().map(|&v| v >> wasted));
            &samples
        } else {
            x
        };
        let bits = bits - wasted;

        let verbatim_bits = n as u64 * u64::from(bits);
        let mut best = (Kind::Verbatim, verbatim_bits, None::<RicePlan>);

        // The LPC.
        if n > MAX_LPC_ORDER * 2 {
            if let Some(
                kind @ Kind::Lpc {
                    order,
                    precision,
                    shift,
                    coefs,
                },
            ) = self.lpc(x, bits)
            {
                if lpc_residual(
                    x,
                    &coefs[..order],
                    shift,
                    bits,
                    precision,
                    &mut self.residual,
                ) {
                    let plan = self.rice_plan(order, bits);
                    let total = plan.bits
                        + u64::from(bits) * order as u64
                        + 9
                        + u64::from(precision) * order as u64;
                    if total < best.1 {
                        best = (kind, total, Some(plan));
                        std::mem::swap(&mut self.residual, &mut self.best_residual);
                    }
                }
            }
        }
        // The best fixed predictor by the sum of its residual's magnitudes, coded when
        // its estimate (the Rice cost of a partition with that sum) is within 2 % of
        // what is chosen so far.
        if n > 4 {
            let (order, sum) = best_fixed_order(x);
            let count = (n - order) as u64;
            let (_, estimate) = rice_parameter(2 * sum, count, if bits > 16 { 30 } else { 14 });
            if estimate + u64::from(bits) * order as u64 <= best.1 + best.1 / 50 {
                fixed_residual(x, order, &mut self.residual);
                let plan = self.rice_plan(order, bits);
                let total = plan.bits + u64::from(bits) * order as u64;
                if total < best.1 {
                    best = (Kind::Fixed(order), total, Some(plan));
                    std::mem::swap(&mut self.residual, &mut self.best_residual);
                }
            }
        }

        let wasted_flag = u64::from(wasted > 0);
        match best {
            (Kind::Verbatim, _, _) | (_, _, None) => {
                out.put(7, 0b000001);
                out.put(1, wasted_flag);
                put_wasted(out, wasted);
                for &v in x {
                    out.put_signed(bits, i64::from(v));
                }
            }
            (Kind::Fixed(order), _, Some(plan)) => {
                out.put(7, 0b001000 | order as u64);
                out.put(1, wasted_flag);
                put_wasted(out, wasted);
                for &v in &x[..order] {
                    out.put_signed(bits, i64::from(v));
                }
                self.put_residual(out, &plan, order);
            }
            (
                Kind::Lpc {
                    order,
                    precision,
                    shift,
                    coefs,
                },
                _,
                Some(plan),
            ) => {
                out.put(7, 0b100000 | (order as u64 - 1));
                out.put(1, wasted_flag);
                put_wasted(out, wasted);
                for &v in &x[..order] {
                    out.put_signed(bits, i64::from(v));
                }
                out.put(4, u64::from(precision - 1));
                out.put(5, u64::from(shift));
                for &c in &coefs[..order] {
                    out.put_signed(precision, i64::from(c));
                }
                self.put_residual(out, &plan, order);
            }
        }
        self.shifted = samples;
    }

    /// Writes `best_residual` (after `order` warm-up samples) as planned.
    fn put_residual(&self, out: &mut Bits, plan: &RicePlan, order: usize) {
        out.put(2, u64::from(plan.wide));
        out.put(4, u64::from(plan.order));
        let residual = &self.best_residual;
        let n = residual.len() + order;
        let len = n >> plan.order;
        let mut i = 0;
        for (p, &k) in plan.params.iter().enumerate() {
            out.put(if plan.wide { 5 } else { 4 }, u64::from(k));
            let end = (p + 1) * len - order;
            for &r in &residual[i..end] {
                out.put_rice(k, zigzag(r));
            }
            i = end;
        }
    }

    /// The Rice partitioning of `self.residual` (the residual after `order` warm-up
    /// samples) with the fewest estimated bits.
    fn rice_plan(&mut self, order: usize, bits: u32) -> RicePlan {
        let residual = &self.residual;
        let n = residual.len() + order;
        let mut max_order = 0;
        while max_order < MAX_PARTITION_ORDER
            && n.is_multiple_of(1 << (max_order + 1))
            && (n >> (max_order + 1)) > order
        {
            max_order += 1;
        }
        self.zigzag.clear();
        self.zigzag.extend(residual.iter().map(|&r| zigzag(r)));
        // Partition sums at the finest order, then merged pairwise.
        let parts = 1usize << max_order;
        let len = n >> max_order;
        self.sums.clear();
        let mut i = 0;
        for p in 0..parts {
            let end = (p + 1) * len - order;
            self.sums
                .push(self.zigzag[i..end].iter().map(|&u| u64::from(u)).sum());
            i = end;
        }
        // Parameters up to 30 need the 5-bit escape-free method; 16-bit audio keeps to 14.
        let max_k = if bits > 16 { 30 } else { 14 };
        let mut best: Option<RicePlan> = None;
        let mut sums = std::mem::take(&mut self.sums);
        let mut level = max_order;
        loop {
            let parts = 1usize << level;
            let len = n >> level;
            let mut params = Vec::with_capacity(parts);
            let mut total = 0u64;
            for (p, &sum) in sums.iter().enumerate() {
                let count = (len - if p == 0 { order } else { 0 }) as u64;
                let (k, cost) = rice_parameter(sum, count, max_k);
                params.push(k);
                total += cost;
            }
            let wide = params.iter().any(|&k| k > 14);
            total += 6 + parts as u64 * if wide { 5 } else { 4 };
            if best.as_ref().is_none_or(|b| total < b.bits) {
                best = Some(RicePlan {
                    order: level,
                    params,
                    wide,
                    bits: total,
                });
            }
            if level == 0 {
                break;
            }
            level -= 1;
            for p in 0..sums.len() / 2 {
                sums[p] = sums[2 * p] + sums[2 * p + 1];
            }
            sums.truncate(sums.len() / 2);
        }
        self.sums = sums;
        best.expect("at least one partition order")
    }

    /// An LPC for `x` (order chosen by the estimated size), or `None` when the signal
    /// gives no usable predictor.
    fn lpc(&mut self, x: &[i32], bits: u32) -> Option<Kind> {
        let n = x.len();
        if self.window_len != n {
            self.window = tukey(n, 0.5);
            self.window_len = n;
        }
        self.windowed.clear();
        self.windowed
            .extend(x.iter().zip(&self.window).map(|(&v, &w)| f64::from(v) * w));
        let r = autocorrelation(&self.windowed);
        if r[0] <= 0.0 {
            return None;
        }
        // Levinson-Durbin: the predictor of every order and its error.
        let mut a = [0.0f64; MAX_LPC_ORDER];
        let mut orders = [[0.0f64; MAX_LPC_ORDER]; MAX_LPC_ORDER];
        let mut errors = [0.0f64; MAX_LPC_ORDER];
        let mut err = r[0];
        let mut found = 0;
        for m in 0..MAX_LPC_ORDER {
            let mut acc = r[m + 1];
            for j in 0..m {
                acc -= a[j] * r[m - j];
            }
            let k = acc / err;
            if !k.is_finite() || k.abs() >= 1.0 {
                break;
            }
            let prev = a;
            a[m] = k;
            for j in 0..m {
                a[j] = prev[j] - k * prev[m - 1 - j];
            }
            err *= 1.0 - k * k;
            orders[m] = a;
            errors[m] = err;
            found = m + 1;
            if err <= 0.0 {
                break;
            }
        }
        if found == 0 {
            return None;
        }
        let precision: u32 = if bits <= 17 { 12 } else { 15 };
        // Estimated bits: half the log of the error per sample for every residual, plus
        // the coefficients and warm-up.
        let scale = 0.5 / n as f64;
        let (order, _) = (1..=found)
            .map(|m| {
                let e = errors[m - 1].max(0.0) * scale;
                let per = if e > 0.0 {
                    (0.5 * e.log2()).max(0.0)
                } else {
                    0.0
                };
                let total = per * (n - m) as f64 + (m as f64) * f64::from(precision + bits);
                (m, total)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        let coefs = &orders[order - 1][..order];
        let (shift, q) = quantize(coefs, precision)?;
        Some(Kind::Lpc {
            order,
            precision,
            shift,
            coefs: q,
        })
    }
}

enum Source {
    Channel(usize),
    Side,
    Mid,
}

fn put_wasted(out: &mut Bits, wasted: u32) {
    if wasted > 0 {
        // wasted − 1 zeros, then a one.
        out.put(wasted, 1);
    }
}

#[inline]
fn zigzag(r: i32) -> u32 {
    ((r << 1) ^ (r >> 31)) as u32
}

/// The Rice parameter for a partition of `count` values summing to `sum`, and its
/// estimated cost in bits.
fn rice_parameter(sum: u64, count: u64, max_k: u32) -> (u32, u64) {
    if count == 0 {
        return (0, 0);
    }
    let mean = sum / count;
    let guess = if mean == 0 {
        0
    } else {
        63 - mean.leading_zeros()
    };
    let cost = |k: u32| count * u64::from(k + 1) + (sum >> k);
    let mut best = (0, u64::MAX);
    for k in guess.saturating_sub(1)..=(guess + 1).min(max_k) {
        let c = cost(k);
        if c < best.1 {
            best = (k, c);
        }
    }
    if best.1 == u64::MAX {
        best = (max_k, cost(max_k));
    }
    best
}

/// The frame number in FLAC's UTF-8-like coding.
fn put_utf8(out: &mut Bits, v: u64) {
    if v < 0x80 {
        out.put(8, v);
        return;
    }
    let bytes = match v {
        0..=0x7FF => 2,
        0x800..=0xFFFF => 3,
        0x1_0000..=0x1F_FFFF => 4,
        0x20_0000..=0x3FF_FFFF => 5,
        _ => 6,
    };
    let lead = (0xFF00u64 >> bytes) as u8 as u64;
    out.put(8, lead | (v >> (6 * (bytes - 1))));
    for b in (0..bytes - 1).rev() {
        out.put(8, 0x80 | ((v >> (6 * b)) & 0x3F));
    }
}

/// The fixed predictor order (0 to 4) whose residual has the smallest magnitude sum,
/// and that sum. Samples of up to 25 bits: the fourth difference stays within 29 bits.
fn best_fixed_order(x: &[i32]) -> (usize, u64) {
    let mut sums = [0u64; 5];
    let (a, b, c, d, e) = (x, &x[1..], &x[2..], &x[3..], &x[4..]);
    for i in 0..e.len() {
        let e0 = e[i];
        let e1 = e0 - d[i];
        let e2 = e1 - (d[i] - c[i]);
        let d2 = d[i] - 2 * c[i] + b[i];
        let e3 = e2 - d2;
        let e4 = e3 - (d2 - (c[i] - 2 * b[i] + a[i]));
        sums[0] += u64::from(e0.unsigned_abs());
        sums[1] += u64::from(e1.unsigned_abs());
        sums[2] += u64::from(e2.unsigned_abs());
        sums[3] += u64::from(e3.unsigned_abs());
        sums[4] += u64::from(e4.unsigned_abs());
    }
    let order = (0..5).min_by_key(|&o| sums[o]).expect("five orders");
    (order, sums[order])
}

/// The residual of the fixed predictor of `order` (after `order` warm-up samples).
fn fixed_residual(x: &[i32], order: usize, residual: &mut Vec<i32>) {
    residual.clear();
    let s = |i: usize| i64::from(x[i]);
    residual.extend((order..x.len()).map(|i| {
        (match order {
            0 => s(i),
            1 => s(i) - s(i - 1),
            2 => s(i) - 2 * s(i - 1) + s(i - 2),
            3 => s(i) - 3 * s(i - 1) + 3 * s(i - 2) - s(i - 3),
            _ => s(i) - 4 * s(i - 1) + 6 * s(i - 2) - 4 * s(i - 3) + s(i - 4),
        }) as i32
    }));
}

/// The residual of the quantised LPC; false when a residual value falls outside what
/// a FLAC decoder accepts (then the LPC is not used).
fn lpc_residual(
    x: &[i32],
    coefs: &[i32],
    shift: u32,
    bits: u32,
    precision: u32,
    residual: &mut Vec<i32>,
) -> bool {
    let order = coefs.len();
    residual.clear();
    residual.resize(x.len() - order, 0);
    // |x| ≤ 2^(bits−1), |c| ≤ 2^(precision−1), order ≤ 8: the sum fits 32 bits when
    // bits + precision ≤ 30.
    if bits + precision <= 30 {
        match order {
            1 => lpc_residual32::<1>(x, coefs, shift, residual),
            2 => lpc_residual32::<2>(x, coefs, shift, residual),
            3 => lpc_residual32::<3>(x, coefs, shift, residual),
            4 => lpc_residual32::<4>(x, coefs, shift, residual),
            5 => lpc_residual32::<5>(x, coefs, shift, residual),
            6 => lpc_residual32::<6>(x, coefs, shift, residual),
            7 => lpc_residual32::<7>(x, coefs, shift, residual),
            _ => lpc_residual32::<8>(x, coefs, shift, residual),
        }
        // The residual of in-range samples and this prediction stays within 32 bits.
        true
    } else {
        let limit = 1i64 << 30;
        let mut ok = true;
        for (i, r) in residual.iter_mut().enumerate() {
            let past = &x[i..i + order];
            let mut sum = 0i64;
            for (j, &c) in coefs.iter().enumerate() {
                sum += i64::from(c) * i64::from(past[order - 1 - j]);
            }
            let e = i64::from(x[i + order]) - (sum >> shift);
            ok &= e.abs() < limit;
            *r = e as i32;
        }
        ok
    }
}

/// The LPC residual of order `N` in 32-bit arithmetic (the caller checked the range).
fn lpc_residual32<const N: usize>(x: &[i32], coefs: &[i32], shift: u32, residual: &mut [i32]) {
    let c: [i32; N] = coefs.try_into().expect("N coefficients");
    for (i, r) in residual.iter_mut().enumerate() {
        let past: &[i32; N] = x[i..i + N].try_into().expect("N samples");
        let mut sum = 0i32;
        for j in 0..N {
            sum += c[j] * past[N - 1 - j];
        }
        *r = x[i + N] - (sum >> shift);
    }
}

/// Quantises LPC coefficients to `precision` bits with a common shift, carrying each
/// rounding error into the next coefficient.
fn quantize(coefs: &[f64], precision: u32) -> Option<(u32, [i32; MAX_LPC_ORDER])> {
    let cmax = coefs.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    if cmax <= 0.0 || !cmax.is_finite() {
        return None;
    }
    // cmax < 2^e.
    let e = cmax.log2().floor() as i32 + 1;
    let shift = (precision as i32 - 1 - e).min(15);
    if shift < 0 {
        return None;
    }
    let qmax = (1i32 << (precision - 1)) - 1;
    let qmin = -(1i32 << (precision - 1));
    let mut q = [0i32; MAX_LPC_ORDER];
    let mut carry = 0.0;
    let scale = f64::from(1u32 << shift);
    for (j, &c) in coefs.iter().enumerate() {
        let v = c * scale + carry;
        let r = (v.round() as i32).clamp(qmin, qmax);
        carry = v - f64::from(r);
        q[j] = r;
    }
    Some((shift as u32, q))
}

/// Tukey window with `p` of its length tapered.
fn tukey(n: usize, p: f64) -> Vec<f64> {
    let taper = ((p / 2.0) * (n - 1) as f64).floor() as usize;
    (0..n)
        .map(|i| {
            let j = i.min(n - 1 - i);
            if taper == 0 || j >= taper {
                1.0
            } else {
                0.5 - 0.5 * (std::f64::consts::PI * j as f64 / taper as f64).cos()
            }
        })
        .collect()
}

/// Autocorrelation at lags 0 to `MAX_LPC_ORDER`, four independent sums per lag.
fn autocorrelation(x: &[f64]) -> [f64; MAX_LPC_ORDER + 1] {
    let mut r = [0.0; MAX_LPC_ORDER + 1];
    for (lag, out) in r.iter_mut().enumerate() {
        let a = &x[lag..];
        let b = &x[..x.len() - lag];
        let mut acc = [0.0f64; 4];
        let chunks = a.len() / 4;
        for c in 0..chunks {
            for k in 0..4 {
                acc[k] += a[4 * c + k] * b[4 * c + k];
            }
        }
        let mut sum = acc[0] + acc[1] + acc[2] + acc[3];
        for i in chunks * 4..a.len() {
            sum += a[i] * b[i];
        }
        *out = sum;
    }
    r
}

/// The stereo coding with the smallest sum of second-order fixed residual magnitudes,
/// as the reference encoder estimates it.
fn choose_stereo(block: &[i32]) -> Assignment {
    let frames = block.len() / 2;
    if frames < 3 {
        return Assignment::Independent;
    }
    let at = |i: usize| (i64::from(block[2 * i]), i64::from(block[2 * i + 1]));
    let mut cost = [0u64; 4];
    let (mut l1, mut r1) = at(1);
    let (mut l0, mut r0) = at(0);
    for i in 2..frames {
        let (l2, r2) = at(i);
        let dl = l2 - 2 * l1 + l0;
        let dr = r2 - 2 * r1 + r0;
        cost[0] += dl.unsigned_abs();
        cost[1] += dr.unsigned_abs();
        // Mid as (l + r) / 2 before the floor: close enough for the estimate.
        cost[2] += ((dl + dr) >> 1).unsigned_abs();
        cost[3] += (dl - dr).unsigned_abs();
        (l0, r0, l1, r1) = (l1, r1, l2, r2);
    }
    let [l, r, m, s] = cost;
    [
        (Assignment::Independent, l + r),
        (Assignment::LeftSide, l + s),
        (Assignment::RightSide, r + s),
        (Assignment::MidSide, m + s),
    ]
    .into_iter()
    .min_by_key(|c| c.1)
    .expect("four choices")
    .0
}
