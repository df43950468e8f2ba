//! Packing for gemm (BLIS style): A into MR-high slivers and B into NR-wide slivers, zero-padded
//! at the edges so the micro-kernel's inner loop has no branches.

use super::{min, MR, NR};
use crate::simd::F32x4;

/// Packs the mc×kc block of A at `a` into MR-high slivers: sliver s holds, for each p, the MR
/// values A(s·MR + r, p), r = 0..MR, rows past mc being zero.
pub(super) unsafe fn pack_a(
    mc: usize,
    kc: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    out: *mut f32,
) {
    let mut out = out;
    let mut i = 0;
    while i < mc {
        let rows = min(MR, mc - i);
        let base = a.offset(i as isize * rsa);
        if rows == MR && rsa == 1 {
            // Column-major A (a transposed operand): each step is one contiguous vector.
            for p in 0..kc {
                F32x4::load(base.offset(p as isize * csa)).store(out.add(p * MR));
            }
        } else if rows == MR && csa == 1 {
            // Row-major A: four rows × four steps at a time, transposed in registers.
            let (r0, r1, r2, r3) =
                (base, base.offset(rsa), base.offset(2 * rsa), base.offset(3 * rsa));
            let mut p = 0;
            while p + 4 <= kc {
                let t = transpose4([
                    F32x4::load(r0.add(p)),
                    F32x4::load(r1.add(p)),
                    F32x4::load(r2.add(p)),
                    F32x4::load(r3.add(p)),
                ]);
                for (q, v) in t.iter().enumerate() {
                    v.store(out.add((p + q) * MR));
                }
                p += 4;
            }
            while p < kc {
                F32x4::new(*r0.add(p), *r1.add(p), *r2.add(p), *r3.add(p)).store(out.add(p * MR));
                p += 1;
            }
        } else if rows == MR {
            let (r0, r1, r2, r3) =
                (base, base.offset(rsa), base.offset(2 * rsa), base.offset(3 * rsa));
            for p in 0..kc {
                let o = p as isize * csa;
                F32x4::new(*r0.offset(o), *r1.offset(o), *r2.offset(o), *r3.offset(o))
                    .store(out.add(p * MR));
            }
        } else {
            for p in 0..kc {
                for r in 0..MR {
                    *out.add(p * MR + r) = if r < rows {
                        *base.offset(r as isize * rsa + p as isize * csa)
                    } else {
                        0.0
                    };
                }
            }
        }
        out = out.add(kc * MR);
        i += MR;
    }
}

/// Packs the kc×nc block of B at `b` into NR-wide slivers: sliver s holds, for each p, the NR
/// values B(p, s·NR + j), j = 0..NR, columns past nc being zero.
pub(super) unsafe fn pack_b(
    kc: usize,
    nc: usize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    out: *mut f32,
) {
    let mut out = out;
    let mut j = 0;
    while j < nc {
        let cols = min(NR, nc - j);
        let base = b.offset(j as isize * csb);
        if cols == NR && csb == 1 {
            // Row-major B: each step is two contiguous vectors.
            for p in 0..kc {
                let src = base.offset(p as isize * rsb);
                F32x4::load(src).store(out.add(p * NR));
                F32x4::load(src.add(4)).store(out.add(p * NR + 4));
            }
        } else {
            // Any other layout: walk each column down (contiguous when B is transposed).
            for jj in 0..NR {
                let col = base.offset(jj as isize * csb);
                for p in 0..kc {
                    *out.add(p * NR + jj) =
                        if jj < cols { *col.offset(p as isize * rsb) } else { 0.0 };
                }
            }
        }
        out = out.add(kc * NR);
        j += NR;
    }
}

/// Transpose of a 4×4 block held as four row vectors (a local helper until [`F32x4`] has
/// shuffles): two rounds of lane interleaving on SIMD128, plain lane moves in the scalar twin.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn transpose4(r: [F32x4; 4]) -> [F32x4; 4] {
    use core::arch::wasm32::i32x4_shuffle;
    let lo01 = i32x4_shuffle::<0, 4, 1, 5>(r[0].0, r[1].0); // a0 b0 a1 b1
    let lo23 = i32x4_shuffle::<0, 4, 1, 5>(r[2].0, r[3].0); // c0 d0 c1 d1
    let hi01 = i32x4_shuffle::<2, 6, 3, 7>(r[0].0, r[1].0); // a2 b2 a3 b3
    let hi23 = i32x4_shuffle::<2, 6, 3, 7>(r[2].0, r[3].0); // c2 d2 c3 d3
    [
        F32x4(i32x4_shuffle::<0, 1, 4, 5>(lo01, lo23)),
        F32x4(i32x4_shuffle::<2, 3, 6, 7>(lo01, lo23)),
        F32x4(i32x4_shuffle::<0, 1, 4, 5>(hi01, hi23)),
        F32x4(i32x4_shuffle::<2, 3, 6, 7>(hi01, hi23)),
    ]
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn transpose4(r: [F32x4; 4]) -> [F32x4; 4] {
    let l = [r[0].lanes(), r[1].lanes(), r[2].lanes(), r[3].lanes()];
    let col = |j: usize| F32x4::new(l[0][j], l[1][j], l[2][j], l[3][j]);
    [col(0), col(1), col(2), col(3)]
}
