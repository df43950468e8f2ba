//! General matrix multiply: C ← α·A·B + β·C over strided f32 matrices, with a fused dense
//! epilogue (per-column bias + activation) and a batched form.
//!
//! Contract: A is m×k with element (i, p) at `a[i*rsa + p*csa]`, B is k×n with (p, j) at
//! `b[p*rsb + j*csb]`, C is m×n with (i, j) at `c[i*rsc + j*csc]`. Strides are in elements and
//! may be arbitrary (a transpose is a swap of strides). When β = 0, C is not read, so it need not
//! be initialized (NaN in C does not leak through). C must not overlap A or B.
//!
//! Scratch space: the caller passes `work`, a buffer of at least [`GEMM_WORKSPACE_F32`] f32 values
//! (one per thread), used for packing panels; kernels never allocate.
//!
//! Structure (the BLIS/matrixmultiply loop nest): B is packed in KC×NC blocks of NR-wide column
//! slivers, A in MC×KC blocks of MR-high row slivers, both zero-padded to whole slivers so that
//! the 4×8 micro-kernel never branches; partial tiles are handled only when storing. α, β, the
//! bias and the activation are applied in the store of each tile.
//!
//! What V8 needs (measured with bench/kernels.mjs and `node --print-wasm-code`; see
//! bench/peak-probe.mjs for the peak): the k loop is NOT unrolled, because LLVM hoists all loads
//! of an unrolled body to its top and V8's register allocator then spills accumulators (an
//! unrolled-by-4 kernel ran at half speed); broadcasts come from `v128.load32_splat` (one load µop,
//! the same speed as pre-broadcast packing); no array initializers near the hot path (they become
//! `memory.fill`, an out-of-line call in V8 that made the whole tile loop spill). With that the
//! kernel runs at ~90–95% of the register peak for n ≥ 128 on an idle core.

use crate::simd::F32x4;

#[path = "gemm_pack.rs"]
mod pack;
use pack::{pack_a, pack_b};

/// Rows of the register tile (A sliver height).
const MR: usize = 4;
/// Columns of the register tile (B sliver width): two F32x4 per row, 8 accumulators in all,
/// which leaves V8 (~15 vector registers) room for two B vectors and an A broadcast.
const NR: usize = 8;
/// Depth of one packed block: a KC×NR B sliver (8 KiB) stays in L1 while A slivers stream by.
const KC: usize = 256;
/// Rows of one packed A block (MC×KC = 128 KiB, meant for L2).
const MC: usize = 128;
/// Columns of one packed B block (KC×NC = 1 MiB).
const NC: usize = 1024;
/// Below this many multiply-adds (m·n·k), packing costs more than it saves.
const SMALL_MNK: usize = 8 * 8 * 8;

/// Size in f32 elements of the packing workspace every `gemm` call needs.
pub const GEMM_WORKSPACE_F32: usize = MC * KC + KC * NC;

/// Activation codes of [`gemm_bias_act`] (the `act` argument of `f32_gemm_bias_act`).
/// 0 = linear (identity); any code not listed here is treated as linear.
pub const ACT_LINEAR: i32 = 0;
/// 1 = relu: max(x, 0) (NaN stays NaN).
pub const ACT_RELU: i32 = 1;
/// 2 = relu6: min(max(x, 0), 6).
pub const ACT_RELU6: i32 = 2;

/// What the store of one tile does: `c ← act(α·acc + β·c + bias)`, each term only when present.
#[derive(Copy, Clone)]
struct Epilogue {
    alpha: f32,
    beta: f32,
    /// Per-column bias (element j at `bias[j]`), or null.
    bias: *const f32,
    act: i32,
}

/// C ← α·A·B + β·C (see the module documentation for the layout contract).
///
/// # Safety
/// Every element addressed by the strides for the given m, n, k must lie inside valid memory,
/// readable for A and B and writable for C; `work` must hold [`GEMM_WORKSPACE_F32`] f32 values
/// (it may be null when m·n·k ≤ 512, which never packs).
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    work: *mut f32,
) {
    let ep = Epilogue { alpha, beta, bias: core::ptr::null(), act: ACT_LINEAR };
    gemm_epilogue(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, ep, work)
}

/// Dense-layer forward in one pass: C ← act(A·B + bias), bias broadcast over rows (one value per
/// column of C, contiguous; null for none), `act` one of the `ACT_*` codes. C is not read.
///
/// # Safety
/// As for [`gemm`]; `bias` must be null or readable for n values.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_bias_act(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    bias: *const f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    act: i32,
    work: *mut f32,
) {
    let ep = Epilogue { alpha: 1.0, beta: 0.0, bias, act };
    gemm_epilogue(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, ep, work)
}

/// `batch` independent products C_t ← α·A_t·B_t + β·C_t, where operand X_t starts at
/// `x + t*sx` (batch strides in elements, any sign; 0 shares one operand across the batch, which
/// is allowed for A and B but not for C).
///
/// # Safety
/// As for [`gemm`], for every t in 0..batch.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_batched(
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    sa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    sb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    sc: isize,
    work: *mut f32,
) {
    for t in 0..batch as isize {
        gemm(
            m,
            n,
            k,
            alpha,
            a.offset(t * sa),
            rsa,
            csa,
            b.offset(t * sb),
            rsb,
            csb,
            beta,
            c.offset(t * sc),
            rsc,
            csc,
            work,
        );
    }
}

/// The blocked driver shared by every entry point.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_epilogue(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    ep: Epilogue,
    work: *mut f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    if m * n * k <= SMALL_MNK {
        return gemm_small(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, ep);
    }
    let apack = work;
    let bpack = work.add(MC * KC);
    // k = 0 still runs one (empty) block so that the store applies β, bias and activation.
    let k_blocks = if k == 0 { 1 } else { (k + KC - 1) / KC };
    // LOOP 5: split n into NC-wide column blocks.
    let mut jc = 0;
    while jc < n {
        let nc = min(NC, n - jc);
        // LOOP 4: split k into KC-deep blocks; only the first sees β and the bias, only the last
        // applies the activation (it acts on the complete sum).
        for kb in 0..k_blocks {
            let pc = kb * KC;
            let kc = min(KC, k - pc);
            let block_ep = Epilogue {
                alpha: ep.alpha,
                beta: if kb == 0 { ep.beta } else { 1.0 },
                bias: if kb == 0 && !ep.bias.is_null() {
                    ep.bias.add(jc)
                } else {
                    core::ptr::null()
                },
                act: if kb + 1 == k_blocks { ep.act } else { ACT_LINEAR },
            };
            pack_b(kc, nc, b.offset(pc as isize * rsb + jc as isize * csb), rsb, csb, bpack);
            // LOOP 3: split m into MC-high row blocks.
            let mut ic = 0;
            while ic < m {
                let mc = min(MC, m - ic);
                pack_a(mc, kc, a.offset(ic as isize * rsa + pc as isize * csa), rsa, csa, apack);
                let c_block = c.offset(ic as isize * rsc + jc as isize * csc);
                macro_kernel(mc, nc, kc, apack, bpack, c_block, rsc, csc, &block_ep);
                ic += mc;
            }
        }
        jc += nc;
    }
}

/// LOOP 2 over one packed A block and one packed B block: every NR-wide B sliver (kept in L1)
/// meets every MR-high A sliver.
#[allow(clippy::too_many_arguments)]
unsafe fn macro_kernel(
    mc: usize,
    nc: usize,
    kc: usize,
    apack: *const f32,
    bpack: *const f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    ep: &Epilogue,
) {
    let mut jr = 0;
    while jr < nc {
        let nr = min(NR, nc - jr);
        let mut col_ep = *ep;
        if !ep.bias.is_null() {
            col_ep.bias = ep.bias.add(jr);
        }
        let c_col = c.offset(jr as isize * csc);
        tile_column(mc, nr, kc, apack, bpack.add(jr * kc), c_col, rsc, csc, col_ep);
        jr += NR;
    }
}

/// LOOP 1: one B sliver against all A slivers of the block, i.e. a column of 4×8 tiles. Kept
/// out of line (one call per B sliver) so that V8 allocates registers for this loop nest alone;
/// edge tiles leave through an out-of-line store so the hot path holds its accumulators in
/// registers.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_column(
    mc: usize,
    nr: usize,
    kc: usize,
    apack: *const f32,
    bsliver: *const f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    ep: Epilogue,
) {
    let full_width = nr == NR && csc == 1;
    let mut ir = 0;
    while ir < mc {
        let mr = min(MR, mc - ir);
        let acc = kernel_4x8(kc, apack.add(ir * kc), bsliver);
        let ctile = c.offset(ir as isize * rsc);
        if full_width && mr == MR {
            store_full(&acc, ctile, rsc, &ep);
        } else {
            store_partial(&acc, ctile, rsc, csc, mr, nr, &ep);
        }
        ir += MR;
    }
}

/// The register micro-kernel: acc[2r + h] = Σ_p A(r, p)·B(p, 4h..4h+4) over packed slivers
/// (A: MR values per step, B: NR values per step). 8 accumulators, 2 B vectors, 1 broadcast.
#[inline(always)]
unsafe fn kernel_4x8(kc: usize, mut pa: *const f32, mut pb: *const f32) -> [F32x4; 8] {
    let mut c00 = F32x4::zero();
    let mut c01 = F32x4::zero();
    let mut c10 = F32x4::zero();
    let mut c11 = F32x4::zero();
    let mut c20 = F32x4::zero();
    let mut c21 = F32x4::zero();
    let mut c30 = F32x4::zero();
    let mut c31 = F32x4::zero();
    // Ends on a pointer compare rather than a counter: one integer register fewer, which keeps
    // V8 from spilling the loop state of tile_column to the stack.
    let pb_end = pb.add(kc * NR);
    while pb != pb_end {
        let b0 = F32x4::load(pb);
        let b1 = F32x4::load(pb.add(4));
        let a0 = F32x4::splat(*pa);
        c00 = a0.mul_add(b0, c00);
        c01 = a0.mul_add(b1, c01);
        let a1 = F32x4::splat(*pa.add(1));
        c10 = a1.mul_add(b0, c10);
        c11 = a1.mul_add(b1, c11);
        let a2 = F32x4::splat(*pa.add(2));
        c20 = a2.mul_add(b0, c20);
        c21 = a2.mul_add(b1, c21);
        let a3 = F32x4::splat(*pa.add(3));
        c30 = a3.mul_add(b0, c30);
        c31 = a3.mul_add(b1, c31);
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    [c00, c01, c10, c11, c20, c21, c30, c31]
}

/// `act(α·acc + β·old + bias)` for one vector; `old` is only used when β ≠ 0.
#[inline(always)]
fn finish(acc: F32x4, old: F32x4, bias: F32x4, ep: &Epilogue) -> F32x4 {
    let mut v = acc.mul(F32x4::splat(ep.alpha));
    if ep.beta != 0.0 {
        v = v.add(old.mul(F32x4::splat(ep.beta)));
    }
    if !ep.bias.is_null() {
        v = v.add(bias);
    }
    match ep.act {
        ACT_RELU => v.max(F32x4::zero()),
        ACT_RELU6 => v.max(F32x4::zero()).min(F32x4::splat(6.0)),
        _ => v,
    }
}

/// Store of a whole 4×8 tile with unit column stride: vector loads/stores straight into C.
#[inline(always)]
unsafe fn store_full(acc: &[F32x4; 8], c: *mut f32, rsc: isize, ep: &Epilogue) {
    let (bias0, bias1) = if ep.bias.is_null() {
        (F32x4::zero(), F32x4::zero())
    } else {
        (F32x4::load(ep.bias), F32x4::load(ep.bias.add(4)))
    };
    for r in 0..MR {
        let row = c.offset(r as isize * rsc);
        let (old0, old1) = if ep.beta != 0.0 {
            (F32x4::load(row), F32x4::load(row.add(4)))
        } else {
            (F32x4::zero(), F32x4::zero())
        };
        finish(acc[2 * r], old0, bias0, ep).store(row);
        finish(acc[2 * r + 1], old1, bias1, ep).store(row.add(4));
    }
}

/// Store of an edge tile (mr ≤ 4 rows, nr ≤ 8 columns) or of any tile with a non-unit column
/// stride: C and the bias go through a local 4×8 copy so the arithmetic is exactly that of
/// [`store_full`]; only the mr×nr cells inside C are read (when β ≠ 0) and written.
/// The local buffers are zeroed with vector stores: an array initializer would become a
/// `memory.fill`, which V8 runs as an out-of-line call.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn store_partial(
    acc: &[F32x4; 8],
    c: *mut f32,
    rsc: isize,
    csc: isize,
    mr: usize,
    nr: usize,
    ep: &Epilogue,
) {
    let mut bias = [F32x4::zero(); 2];
    let bias_ptr = bias.as_mut_ptr() as *mut f32;
    if !ep.bias.is_null() {
        for j in 0..nr {
            *bias_ptr.add(j) = *ep.bias.add(j);
        }
    }
    let (bias0, bias1) = (bias[0], bias[1]);
    let mut buf = [F32x4::zero(); 2];
    let row_buf = buf.as_mut_ptr() as *mut f32;
    for r in 0..mr {
        let c_row = c.offset(r as isize * rsc);
        if ep.beta != 0.0 {
            for j in 0..nr {
                *row_buf.add(j) = *c_row.offset(j as isize * csc);
            }
        }
        let (old0, old1) = (F32x4::load(row_buf), F32x4::load(row_buf.add(4)));
        finish(acc[2 * r], old0, bias0, ep).store(row_buf);
        finish(acc[2 * r + 1], old1, bias1, ep).store(row_buf.add(4));
        for j in 0..nr {
            *c_row.offset(j as isize * csc) = *row_buf.add(j);
        }
    }
}

/// Direct loops for tiny products (m·n·k ≤ [`SMALL_MNK`]), with the same per-element arithmetic
/// and summation order as the packed path (k ≤ KC here, so there is one block).
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_small(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    ep: Epilogue,
) {
    for i in 0..m as isize {
        for j in 0..n as isize {
            let mut s = 0.0f32;
            for p in 0..k as isize {
                s += *a.offset(i * rsa + p * csa) * *b.offset(p * rsb + j * csb);
            }
            let cp = c.offset(i * rsc + j * csc);
            let old = if ep.beta != 0.0 { *cp } else { 0.0 };
            let bias = if ep.bias.is_null() { 0.0 } else { *ep.bias.offset(j) };
            *cp = finish(F32x4::splat(s), F32x4::splat(old), F32x4::splat(bias), &ep).lanes()[0];
        }
    }
}

#[inline(always)]
fn min(a: usize, b: usize) -> usize {
    if a < b {
        a
    } else {
        b
    }
}

#[cfg(test)]
#[path = "gemm_tests.rs"]
mod tests;
