//! Host tests of conv2d: every kernel against plain f64 loops over the definition, across
//! strides, dilations, paddings (valid, same, asymmetric), odd sizes, batches, channel counts on
//! both sides of the column-layout switch and block sizes that cut output rows anywhere.
//! Inputs are small integers, so every f32 sum is exact and results compare bit for bit.

use super::*;

/// Small integers in [-3, 3], a different stream per seed.
pub(crate) fn ints(len: usize, seed: u32) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let h = (i as u32).wrapping_mul(2654435761).wrapping_add(seed.wrapping_mul(40503));
            ((h >> 9) % 7) as f32 - 3.0
        })
        .collect()
}

/// Calls `f(ky, kx, iy, ix)` for every tap of output pixel (oy, ox) that lies inside the image.
pub(crate) fn taps(
    g: &Conv2dGeometry,
    oy: usize,
    ox: usize,
    mut f: impl FnMut(usize, usize, usize, usize),
) {
    for ky in 0..g.k_h {
        let iy = (oy * g.stride_h + ky * g.dil_h) as isize - g.pad_top as isize;
        if iy < 0 || iy >= g.in_h as isize {
            continue;
        }
        for kx in 0..g.k_w {
            let ix = (ox * g.stride_w + kx * g.dil_w) as isize - g.pad_left as isize;
            if ix >= 0 && ix < g.in_w as isize {
                f(ky, kx, iy as usize, ix as usize);
            }
        }
    }
}

/// Calls `f(x index, filter index, y index)` for every product term of the convolution.
fn terms(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize)) {
    let (oh, ow) = (g.out_h(), g.out_w());
    for n in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                taps(g, oy, ox, |ky, kx, iy, ix| {
                    for c in 0..g.in_c {
                        for o in 0..g.out_c {
                            let xi = ((n * g.in_h + iy) * g.in_w + ix) * g.in_c + c;
                            let fi = ((ky * g.k_w + kx) * g.in_c + c) * g.out_c + o;
                            let yi = ((n * oh + oy) * ow + ox) * g.out_c + o;
                            f(xi, fi, yi);
                        }
                    }
                });
            }
        }
    }
}

pub(crate) fn reference_forward(
    g: &Conv2dGeometry,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
) -> Vec<f64> {
    let mut y = vec![0.0f64; g.rows() * g.out_c];
    if let Some(b) = b {
        for (i, v) in y.iter_mut().enumerate() {
            *v = b[i % g.out_c] as f64;
        }
    }
    terms(g, |xi, fi, yi| y[yi] += x[xi] as f64 * w[fi] as f64);
    y
}

fn reference_backward(
    g: &Conv2dGeometry,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
) -> (Vec<f64>, Vec<f64>) {
    let mut dx = vec![0.0f64; x.len()];
    let mut dw = vec![0.0f64; w.len()];
    terms(g, |xi, fi, yi| {
        dx[xi] += dy[yi] as f64 * w[fi] as f64;
        dw[fi] += dy[yi] as f64 * x[xi] as f64;
    });
    (dx, dw)
}

fn dot(a: &[f64], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * *b as f64).sum()
}

fn same_pads(input: usize, k: usize, s: usize, d: usize) -> (usize, usize) {
    let out = (input + s - 1) / s;
    let span = (k - 1) * d + 1;
    let total = ((out - 1) * s + span).saturating_sub(input);
    (total / 2, total - total / 2)
}

pub(crate) fn assert_exact(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(*g as f64 == *w, "{what}: at {i} expected {w}, got {g}");
    }
}

/// Runs forward, backward input and backward filter for `g` with the given block size and checks
/// them against the f64 references and the adjoint identities.
fn check(g: &Conv2dGeometry, block: usize, with_bias: bool) {
    let what = format!("{g:?} block {block} bias {with_bias}");
    let x = ints(g.batch * g.in_h * g.in_w * g.in_c, 1);
    let w = ints(g.patch_len() * g.out_c, 2);
    let b = ints(g.out_c, 3);
    let dy = ints(g.rows() * g.out_c, 4);
    let mut work = vec![f32::NAN; g.col_len().max(block * g.patch_len() + 3) + GEMM_WORKSPACE_F32];
    let bias = if with_bias { Some(&b[..]) } else { None };
    let bias_ptr = bias.map_or(core::ptr::null(), |b| b.as_ptr());

    let mut y = vec![f32::NAN; g.rows() * g.out_c];
    let mut dx = vec![f32::NAN; x.len()];
    let mut dw = vec![f32::NAN; w.len()];
    unsafe {
        forward_blocked(
            g,
            x.as_ptr(),
            w.as_ptr(),
            bias_ptr,
            y.as_mut_ptr(),
            crate::gemm::ACT_LINEAR,
            work.as_mut_ptr(),
            block,
        );
        backward_input_blocked(
            g,
            dy.as_ptr(),
            w.as_ptr(),
            dx.as_mut_ptr(),
            work.as_mut_ptr(),
            block,
        );
        backward_filter_blocked(
            g,
            x.as_ptr(),
            dy.as_ptr(),
            dw.as_mut_ptr(),
            work.as_mut_ptr(),
            block,
        );
    }
    let y_ref = reference_forward(g, &x, &w, bias);
    assert_exact(&y, &y_ref, &format!("forward {what}"));
    // The public entry point (which may take the Winograd path), with and without relu.
    let mut big = vec![f32::NAN; g.workspace_len()];
    for act in [crate::gemm::ACT_LINEAR, crate::gemm::ACT_RELU] {
        let mut y2 = vec![f32::NAN; y.len()];
        unsafe {
            conv2d_forward(
                g,
                x.as_ptr(),
                w.as_ptr(),
                bias_ptr,
                y2.as_mut_ptr(),
                act,
                big.as_mut_ptr(),
            )
        };
        let want: Vec<f64> = y_ref
            .iter()
            .map(|v| if act == crate::gemm::ACT_RELU { v.max(0.0) } else { *v })
            .collect();
        assert_exact(&y2, &want, &format!("conv2d_forward act {act} {what}"));
    }
    let (dx_ref, dw_ref) = reference_backward(g, &x, &w, &dy);
    assert_exact(&dx, &dx_ref, &format!("backward input {what}"));
    assert_exact(&dw, &dw_ref, &format!("backward filter {what}"));
    // Adjoint identities: ⟨conv(x, w), dy⟩ = ⟨x, dx(dy)⟩ = ⟨w, dw(x, dy)⟩ (without bias).
    let y0 = reference_forward(g, &x, &w, None);
    let lhs = dot(&y0, &dy);
    let dx64: Vec<f64> = dx.iter().map(|v| *v as f64).collect();
    let dw64: Vec<f64> = dw.iter().map(|v| *v as f64).collect();
    assert_eq!(lhs, dot(&dx64, &x), "⟨conv x, dy⟩ ≠ ⟨x, dx⟩ {what}");
    assert_eq!(lhs, dot(&dw64, &w), "⟨conv x, dy⟩ ≠ ⟨w, dw⟩ {what}");
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn geometry(
    batch: usize,
    (in_h, in_w, in_c): (usize, usize, usize),
    (k_h, k_w, out_c): (usize, usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dil_h, dil_w): (usize, usize),
    padding: &str,
) -> Conv2dGeometry {
    let ((pad_top, pad_bottom), (pad_left, pad_right)) = match padding {
        "same" => (same_pads(in_h, k_h, stride_h, dil_h), same_pads(in_w, k_w, stride_w, dil_w)),
        "asym" => ((2, 0), (0, 1)),
        _ => ((0, 0), (0, 0)),
    };
    Conv2dGeometry {
        batch,
        in_h,
        in_w,
        in_c,
        k_h,
        k_w,
        out_c,
        stride_h,
        stride_w,
        dil_h,
        dil_w,
        pad_top,
        pad_left,
        pad_bottom,
        pad_right,
    }
}

#[test]
fn matches_reference_across_strides_dilations_paddings_and_channels() {
    // The full product of the options is slow in a debug build; the image size, output channels
    // and extra block size rotate with a counter so every value still meets every other axis.
    let mut cases = 0usize;
    for &c in &[1, 2, 3, 4, 5, 8] {
        for &(kh, kw) in &[(1, 1), (3, 3), (2, 3)] {
            for &s in &[(1, 1), (2, 2), (1, 2)] {
                for &d in &[(1, 1), (2, 2), (2, 1)] {
                    for &pad in &["valid", "same", "asym"] {
                        let (h, w) = [(5, 7), (6, 4), (7, 5)][cases % 3];
                        let oc = [1, 5, 8, 3][cases % 4];
                        let g = geometry(1 + cases % 2, (h, w, c), (kh, kw, oc), s, d, pad);
                        cases += 1;
                        if !g.is_valid() {
                            continue;
                        }
                        let block = [1, 3, 7, 2, 5][cases % 5].min(g.rows());
                        check(&g, g.block_rows(), cases % 2 == 0);
                        check(&g, block, cases % 2 == 1);
                    }
                }
            }
        }
    }
    assert!(cases > 400, "only {cases} geometries ran");
}

#[test]
fn pointwise_goes_straight_to_gemm_and_needs_no_columns() {
    let g = geometry(3, (5, 3, 6), (1, 1, 7), (1, 1), (1, 1), "valid");
    assert!(g.is_pointwise());
    assert_eq!(g.workspace_len(), GEMM_WORKSPACE_F32);
    check(&g, g.block_rows(), true);
    // Strided or padded 1×1 filters take the im2col path and must agree too.
    for pad in ["same", "asym"] {
        let g = geometry(2, (5, 3, 6), (1, 1, 4), (2, 1), (1, 1), pad);
        assert!(!g.is_pointwise() || pad == "same");
        check(&g, 4, false);
    }
}

#[test]
fn large_blocks_and_the_default_workspace_bound() {
    // A patch long enough that one block holds few rows, and many rows across blocks.
    let g = geometry(3, (9, 8, 64), (3, 3, 6), (1, 1), (1, 1), "same");
    assert!(g.block_rows() < g.rows());
    assert!(g.workspace_len() >= g.block_rows() * g.patch_len() + GEMM_WORKSPACE_F32);
    check(&g, g.block_rows(), true);
}

#[test]
fn invalid_geometry_and_empty_shapes_write_nothing_or_zeros() {
    // Kernel larger than the padded input: no output exists, kernels must not touch memory.
    let g = geometry(1, (2, 2, 1), (3, 3, 1), (1, 1), (1, 1), "valid");
    assert!(!g.is_valid());
    assert_eq!(g.workspace_len(), 0);
    let mut y = [f32::NAN; 4];
    unsafe {
        conv2d_forward(
            &g,
            [1.0; 4].as_ptr(),
            [1.0; 9].as_ptr(),
            core::ptr::null(),
            y.as_mut_ptr(),
            crate::gemm::ACT_LINEAR,
            core::ptr::null_mut(),
        );
    }
    assert!(y.iter().all(|v| v.is_nan()));
    let zero_stride = Conv2dGeometry {
        stride_h: 0,
        ..geometry(1, (3, 3, 1), (1, 1, 1), (1, 1), (1, 1), "valid")
    };
    assert!(!zero_stride.is_valid());
    let huge = Conv2dGeometry {
        dil_h: usize::MAX,
        ..geometry(1, (3, 3, 1), (3, 3, 1), (1, 1), (1, 1), "valid")
    };
    assert!(!huge.is_valid());
    // Zero input channels: the output is the bias alone (or zero).
    let g = geometry(2, (3, 3, 0), (2, 2, 3), (1, 1), (1, 1), "valid");
    check(&g, 2, true);
    check(&g, 2, false);
    // Batch 0 and zero output channels.
    check(&geometry(0, (3, 3, 2), (2, 2, 3), (1, 1), (1, 1), "same"), 1, true);
    check(&geometry(2, (3, 3, 2), (2, 2, 0), (1, 1), (1, 1), "same"), 1, true);
}

#[test]
fn bias_gradient_sums_rows() {
    for &(rows, oc) in &[(0, 3), (1, 1), (7, 3), (5, 4), (9, 13), (6, 16), (5, 37)] {
        let dy = ints(rows * oc, 5);
        let mut db = vec![f32::NAN; oc];
        unsafe { conv2d_backward_bias(dy.as_ptr(), rows, oc, db.as_mut_ptr()) };
        let want: Vec<f64> =
            (0..oc).map(|j| (0..rows).map(|r| dy[r * oc + j] as f64).sum()).collect();
        assert_exact(&db, &want, &format!("bias rows {rows} oc {oc}"));
    }
}

#[test]
fn direct_few_channel_forward_covers_every_channel_chunk_and_edge() {
    // 16 + 8 + 4 + 1 channels, pixel pairs and single edge pixels, C = 1..3.
    for &c in &[1, 2, 3] {
        for &oc in &[16, 21, 29, 44] {
            for &(s, pad) in &[((1, 1), "same"), ((2, 1), "asym"), ((1, 2), "valid")] {
                let g = geometry(2, (6, 9, c), (3, 3, oc), s, (1, 1), pad);
                check(&g, g.block_rows(), oc % 2 == 1);
            }
        }
    }
}
