//! A pair of `f64` lanes (left and right channel) for the stereo filter loops.
//!
//! On x86_64 this is one SSE2 register (SSE2 is part of the x86_64 baseline, so no
//! runtime detection is needed); elsewhere a plain array the compiler may vectorise.

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::{
        __m128d, _mm_add_pd, _mm_cvtsd_f64, _mm_mul_pd, _mm_set1_pd, _mm_set_pd, _mm_sub_pd,
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

impl Default for F64x2 {
    fn default() -> Self {
        Self::splat(0.0)
    }
}
