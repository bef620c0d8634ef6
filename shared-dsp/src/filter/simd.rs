//! `f64` lanes for the filter loops: [`F64x2`] (a stereo pair, or two sections of one
//! channel) and the four-lane [`Quad`] (two such pairs), with lane-wise IEEE add,
//! subtract and multiply only ([`Lanes`]; no fused multiply-add anywhere, so every lane
//! width rounds alike and gives the same bits).
//!
//! - [`F64x2`]: one SSE2 register on x86_64 (SSE2 is part of the x86_64 baseline, so
//!   no detection is needed); elsewhere a plain array the compiler may vectorise.
//! - [`Quad`]: the type a kernel is written against when it runs two pairs side by
//!   side. [`F64x2x2`] is the portable one (two [`F64x2`]); `F64x4` (x86_64 only) is
//!   one AVX register, available only with the [`crate::cpu::Wide`] proof that the CPU
//!   runs the wide build. A kernel is one generic function over `Q: Quad`, compiled
//!   twice by [`crate::cpu::run_widest`]; both instantiations do the same operations
//!   per lane, in the same order, so they give bit-identical output.

#[cfg(target_arch = "x86_64")]
mod imp {
    use crate::cpu::Wide;
    use std::arch::x86_64::{
        __m128d, __m256d, _mm256_add_pd, _mm256_castpd128_pd256, _mm256_castpd256_pd128,
        _mm256_cvtpd_ps, _mm256_extractf128_pd, _mm256_insertf128_pd, _mm256_mul_pd,
        _mm256_permute2f128_pd, _mm256_permute_pd, _mm256_sub_pd, _mm_add_pd, _mm_cvtsd_f64,
        _mm_mul_pd, _mm_set1_pd, _mm_set_pd, _mm_storeu_ps, _mm_sub_pd, _mm_unpackhi_pd,
    };

    /// Two `f64` lanes.
    #[derive(Debug, Clone, Copy)]
    #[repr(transparent)]
    pub struct F64x2(__m128d);

    impl F64x2 {
        /// Both lanes `v`.
        #[inline(always)]
        pub fn splat(v: f64) -> Self {
            // SAFETY: SSE2 is part of the x86_64 baseline, always available.
            Self(unsafe { _mm_set1_pd(v) })
        }
        /// Lanes `[a, b]`.
        #[inline(always)]
        pub fn new(a: f64, b: f64) -> Self {
            // SAFETY: as above.
            Self(unsafe { _mm_set_pd(b, a) })
        }
        /// The lanes as an array.
        #[inline(always)]
        pub fn to_array(self) -> [f64; 2] {
            // SAFETY: as above.
            unsafe {
                [
                    _mm_cvtsd_f64(self.0),
                    _mm_cvtsd_f64(_mm_unpackhi_pd(self.0, self.0)),
                ]
            }
        }
        /// Lane-wise `self + o`.
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            // SAFETY: as above.
            Self(unsafe { _mm_add_pd(self.0, o.0) })
        }
        /// Lane-wise `self − o`.
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            // SAFETY: as above.
            Self(unsafe { _mm_sub_pd(self.0, o.0) })
        }
        /// Lane-wise `self · o`.
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            // SAFETY: as above.
            Self(unsafe { _mm_mul_pd(self.0, o.0) })
        }
    }

    /// Four `f64` lanes in one AVX register: two [`F64x2`] pairs, `lo` (lanes 0, 1)
    /// and `hi` (lanes 2, 3).
    ///
    /// A value of this type exists only on a CPU that runs the wide build: the one
    /// constructor, [`super::Quad::from_halves`], takes the [`Wide`] proof, and every
    /// other value is made from an existing one. So its methods are safe: the
    /// instructions they use run wherever there is a value to call them on.
    #[derive(Debug, Clone, Copy)]
    #[repr(transparent)]
    pub struct F64x4(__m256d);

    impl super::Lanes for F64x4 {
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            // SAFETY: `self` exists, so the CPU has AVX (see the type).
            Self(unsafe { _mm256_add_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            // SAFETY: as above.
            Self(unsafe { _mm256_sub_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            // SAFETY: as above.
            Self(unsafe { _mm256_mul_pd(self.0, o.0) })
        }
    }

    impl super::Quad for F64x4 {
        type Isa = Wide;
        const REGISTERS: usize = 1;
        #[inline(always)]
        fn from_halves(_proof: Wide, lo: F64x2, hi: F64x2) -> Self {
            // SAFETY: a `Wide` exists only on a CPU with AVX2 (and so AVX).
            Self(unsafe { _mm256_insertf128_pd::<1>(_mm256_castpd128_pd256(lo.0), hi.0) })
        }
        #[inline(always)]
        fn with_lo_of(lo: F64x2, other: Self) -> Self {
            // SAFETY: `other` exists, so the CPU has AVX (see the type).
            Self(unsafe { _mm256_permute2f128_pd::<0x20>(_mm256_castpd128_pd256(lo.0), other.0) })
        }
        #[inline(always)]
        fn lo(self) -> F64x2 {
            // SAFETY: as above.
            F64x2(unsafe { _mm256_castpd256_pd128(self.0) })
        }
        #[inline(always)]
        fn hi(self) -> F64x2 {
            // SAFETY: as above.
            F64x2(unsafe { _mm256_extractf128_pd::<1>(self.0) })
        }
        #[inline(always)]
        fn splat_lane3(self) -> Self {
            // SAFETY: as above.
            unsafe {
                let hi = _mm256_permute2f128_pd::<0x11>(self.0, self.0);
                Self(_mm256_permute_pd::<0b1111>(hi))
            }
        }
        #[inline(always)]
        fn hi_then_lo_of(self, o: Self) -> Self {
            // SAFETY: as above.
            Self(unsafe { _mm256_permute2f128_pd::<0x21>(self.0, o.0) })
        }
        #[inline(always)]
        fn to_f32_array(self) -> [f32; 4] {
            let mut out = [0.0f32; 4];
            // SAFETY: as above; `out` has room for the four floats the unaligned store
            // writes.
            unsafe { _mm_storeu_ps(out.as_mut_ptr(), _mm256_cvtpd_ps(self.0)) };
            out
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    /// Two `f64` lanes.
    #[derive(Debug, Clone, Copy)]
    pub struct F64x2([f64; 2]);

    impl F64x2 {
        /// Both lanes `v`.
        #[inline(always)]
        pub fn splat(v: f64) -> Self {
            Self([v, v])
        }
        /// Lanes `[a, b]`.
        #[inline(always)]
        pub fn new(a: f64, b: f64) -> Self {
            Self([a, b])
        }
        /// The lanes as an array.
        #[inline(always)]
        pub fn to_array(self) -> [f64; 2] {
            self.0
        }
        /// Lane-wise `self + o`.
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            Self([self.0[0] + o.0[0], self.0[1] + o.0[1]])
        }
        /// Lane-wise `self − o`.
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            Self([self.0[0] - o.0[0], self.0[1] - o.0[1]])
        }
        /// Lane-wise `self · o`.
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            Self([self.0[0] * o.0[0], self.0[1] * o.0[1]])
        }
    }
}

pub(crate) use imp::F64x2;
#[cfg(target_arch = "x86_64")]
pub(crate) use imp::F64x4;

impl Default for F64x2 {
    fn default() -> Self {
        Self::splat(0.0)
    }
}

/// Lane-wise IEEE arithmetic on a register of `f64` lanes: each lane rounds exactly as
/// the scalar operation would, whatever the width.
pub(crate) trait Lanes: Copy {
    /// Lane-wise `self + o`.
    fn add(self, o: Self) -> Self;
    /// Lane-wise `self − o`.
    fn sub(self, o: Self) -> Self;
    /// Lane-wise `self · o`.
    fn mul(self, o: Self) -> Self;
}

impl Lanes for F64x2 {
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        F64x2::add(self, o)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        F64x2::sub(self, o)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        F64x2::mul(self, o)
    }
}

/// One lane: the scalar operations themselves.
impl Lanes for f64 {
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self * o
    }
}

/// Four `f64` lanes: two [`F64x2`] pairs, `lo` (lanes 0, 1) and `hi` (lanes 2, 3).
pub(crate) trait Quad: Lanes {
    /// What it takes to make a value: nothing for the portable [`F64x2x2`], the
    /// [`crate::cpu::Wide`] proof for the AVX register.
    type Isa: Copy;
    /// The vector registers one value takes (1 for AVX, 2 portable): kernels size
    /// their groups by it.
    const REGISTERS: usize;
    /// `lo` in lanes 0, 1 and `hi` in lanes 2, 3.
    fn from_halves(isa: Self::Isa, lo: F64x2, hi: F64x2) -> Self;
    /// `lo` in lanes 0, 1 and `other`'s lanes 0, 1 in lanes 2, 3.
    fn with_lo_of(lo: F64x2, other: Self) -> Self;
    /// Lanes 0, 1.
    fn lo(self) -> F64x2;
    /// Lanes 2, 3.
    fn hi(self) -> F64x2;
    /// `[h, h, h, h]` where `h` is lane 3.
    fn splat_lane3(self) -> Self;
    /// `[self₂, self₃, o₀, o₁]`: the high pair of `self`, then the low pair of `o`.
    fn hi_then_lo_of(self, o: Self) -> Self;
    /// The lanes rounded to `f32` (round to nearest, as `as f32` on each lane).
    fn to_f32_array(self) -> [f32; 4];
}

/// The portable [`Quad`]: two [`F64x2`] registers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct F64x2x2(F64x2, F64x2);

impl Lanes for F64x2x2 {
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self(self.0.add(o.0), self.1.add(o.1))
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self(self.0.sub(o.0), self.1.sub(o.1))
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Self(self.0.mul(o.0), self.1.mul(o.1))
    }
}

impl Quad for F64x2x2 {
    type Isa = ();
    const REGISTERS: usize = 2;
    #[inline(always)]
    fn from_halves(_: (), lo: F64x2, hi: F64x2) -> Self {
        Self(lo, hi)
    }
    #[inline(always)]
    fn with_lo_of(lo: F64x2, other: Self) -> Self {
        Self(lo, other.0)
    }
    #[inline(always)]
    fn lo(self) -> F64x2 {
        self.0
    }
    #[inline(always)]
    fn hi(self) -> F64x2 {
        self.1
    }
    #[inline(always)]
    fn splat_lane3(self) -> Self {
        let h = F64x2::splat(self.1.to_array()[1]);
        Self(h, h)
    }
    #[inline(always)]
    fn hi_then_lo_of(self, o: Self) -> Self {
        Self(self.1, o.0)
    }
    #[inline(always)]
    fn to_f32_array(self) -> [f32; 4] {
        let ([a, b], [c, d]) = (self.0.to_array(), self.1.to_array());
        [a as f32, b as f32, c as f32, d as f32]
    }
}
