//! A pair of `f64` lanes (left and right channel) for the stereo filter loops.
//!
//! On x86_64 this is one SSE2 register (SSE2 is part of the x86_64 baseline, so no
//! runtime detection is needed); elsewhere a plain array the compiler may vectorise.
//!
//! [`F64x4`] (x86_64 only) is one AVX register holding two such pairs, for running two
//! stereo sections in one instruction. AVX is not in the x86_64 baseline: its methods
//! are `#[target_feature(enable = "avx")]` and only usable from functions that enable
//! AVX too, which the caller enters after [`avx_available`] said yes. The arithmetic is
//! the same IEEE add/sub/mul per lane as [`F64x2`] (no FMA), so both give bit-identical
//! results.

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::{
        __m128d, __m256d, _mm256_add_pd, _mm256_castpd128_pd256, _mm256_castpd256_pd128,
        _mm256_cvtpd_ps, _mm256_extractf128_pd, _mm256_insertf128_pd, _mm256_mul_pd,
        _mm256_permute2f128_pd, _mm256_permute_pd, _mm256_set1_pd, _mm256_sub_pd, _mm_add_pd,
        _mm_cvtsd_f64, _mm_mul_pd, _mm_set1_pd, _mm_set_pd, _mm_storeu_ps, _mm_sub_pd,
        _mm_unpackhi_pd,
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

    /// Four `f64` lanes: two [`F64x2`] pairs, `lo` (lanes 0, 1) and `hi` (lanes 2, 3).
    #[derive(Debug, Clone, Copy)]
    #[repr(transparent)]
    pub struct F64x4(__m256d);

    impl F64x4 {
        /// All lanes `v`.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn splat(v: f64) -> Self {
            Self(_mm256_set1_pd(v))
        }
        /// `lo` in lanes 0, 1 and `hi` in lanes 2, 3.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn from_halves(lo: F64x2, hi: F64x2) -> Self {
            Self(_mm256_insertf128_pd::<1>(
                _mm256_castpd128_pd256(lo.0),
                hi.0,
            ))
        }
        /// `lo` in lanes 0, 1 and `other`'s lanes 0, 1 in lanes 2, 3.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn with_lo_of(lo: F64x2, other: Self) -> Self {
            Self(_mm256_permute2f128_pd::<0x20>(
                _mm256_castpd128_pd256(lo.0),
                other.0,
            ))
        }
        /// Lanes 0, 1.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn lo(self) -> F64x2 {
            F64x2(_mm256_castpd256_pd128(self.0))
        }
        /// Lanes 2, 3.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn hi(self) -> F64x2 {
            F64x2(_mm256_extractf128_pd::<1>(self.0))
        }
        /// `[h, h, h, h]` where `h` is lane 3 (one value of the high pair, everywhere).
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn splat_lane3(self) -> Self {
            let hi = _mm256_permute2f128_pd::<0x11>(self.0, self.0);
            Self(_mm256_permute_pd::<0b1111>(hi))
        }
        /// `[self₂, self₃, o₀, o₁]`: the high pair of `self`, then the low pair of `o`.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn hi_then_lo_of(self, o: Self) -> Self {
            Self(_mm256_permute2f128_pd::<0x21>(self.0, o.0))
        }
        /// The lanes rounded to `f32` (round to nearest, as `as f32` on each lane).
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn to_f32_array(self) -> [f32; 4] {
            let mut out = [0.0f32; 4];
            // SAFETY: `out` has room for the four floats the unaligned store writes.
            unsafe { _mm_storeu_ps(out.as_mut_ptr(), _mm256_cvtpd_ps(self.0)) };
            out
        }
        /// Lane-wise `self + o`.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn add(self, o: Self) -> Self {
            Self(_mm256_add_pd(self.0, o.0))
        }
        /// Lane-wise `self − o`.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn sub(self, o: Self) -> Self {
            Self(_mm256_sub_pd(self.0, o.0))
        }
        /// Lane-wise `self · o`.
        #[target_feature(enable = "avx")]
        #[inline]
        pub fn mul(self, o: Self) -> Self {
            Self(_mm256_mul_pd(self.0, o.0))
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
