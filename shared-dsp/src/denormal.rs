//! Flushing denormals to zero for the length of a processing call.
//!
//! Recursive filters and decaying tails produce denormal numbers (below about 1e-38),
//! which x86 processes up to a hundred times slower. Every chain creates a
//! [`FlushDenormals`] guard at the top of `process()`: the CPU then treats denormal
//! inputs and results as zero until the guard is dropped, and the caller's
//! floating-point mode is restored.

/// Sets flush-to-zero and denormals-are-zero while it lives; restores the previous mode
/// when dropped.
pub struct FlushDenormals {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    previous: usize,
}

#[cfg(target_arch = "x86_64")]
mod arch {
    /// MXCSR bits: FTZ (bit 15) and DAZ (bit 6).
    const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

    #[inline]
    pub fn enable() -> usize {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr read and write the SSE control register of this thread
        // only; SSE is part of the x86_64 baseline. Setting FTZ/DAZ changes rounding of
        // denormals only, which is the purpose.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            let flushed = csr | FTZ_DAZ;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &flushed, options(nostack, readonly));
        }
        csr as usize
    }

    #[inline]
    pub fn restore(previous: usize) {
        let csr = previous as u32;
        // SAFETY: as above; writes back the value read in `enable`.
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    /// FPCR bit 24: FZ, flush-to-zero.
    const FZ: usize = 1 << 24;

    #[inline]
    pub fn enable() -> usize {
        let fpcr: usize;
        // SAFETY: reads and writes this thread's floating-point control register only.
        unsafe {
            std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack));
            std::arch::asm!("msr fpcr, {}", in(reg) fpcr | FZ, options(nomem, nostack));
        }
        fpcr
    }

    #[inline]
    pub fn restore(previous: usize) {
        // SAFETY: as above; writes back the value read in `enable`.
        unsafe {
            std::arch::asm!("msr fpcr, {}", in(reg) previous, options(nomem, nostack));
        }
    }
}

impl FlushDenormals {
    /// Enables flush-to-zero for the current thread until the guard is dropped.
    #[inline]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            previous: arch::enable(),
        }
    }
}

impl Drop for FlushDenormals {
    #[inline]
    fn drop(&mut self) {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        arch::restore(self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denormals_flush_inside_and_come_back_outside() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        let half = std::hint::black_box(0.5f32);
        assert!((tiny * half) > 0.0, "denormals are on before the guard");
        {
            let _guard = FlushDenormals::new();
            let product = std::hint::black_box(tiny) * std::hint::black_box(half);
            if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                assert_eq!(product, 0.0, "a denormal result is flushed to zero");
            }
        }
        assert!(
            (std::hint::black_box(tiny) * std::hint::black_box(half)) > 0.0,
            "the previous mode is restored"
        );
    }
}
