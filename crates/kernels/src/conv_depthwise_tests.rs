//! Host tests of depthwise conv2d against plain f64 loops over the definition and the adjoint
//! identities, with small-integer inputs so that every sum is exact.

use super::*;
use crate::conv::tests::{ints, taps};

fn geometry(
    batch: usize,
    hwc: (usize, usize, usize),
    khw: (usize, usize),
    mult: usize,
) -> Conv2dGeometry {
    Conv2dGeometry {
        batch,
        in_h: hwc.0,
        in_w: hwc.1,
        in_c: hwc.2,
        k_h: khw.0,
        k_w: khw.1,
        out_c: hwc.2 * mult,
        stride_h: 1,
        stride_w: 1,
        dil_h: 1,
        dil_w: 1,
        pad_top: 0,
        pad_left: 0,
        pad_bottom: 0,
        pad_right: 0,
    }
}

/// Calls f(x index, filter index, y index) for every product term, straight from the
/// definition.
fn terms(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize)) {
    let (oh, ow, c) = (g.out_h(), g.out_w(), g.in_c);
    let mult = g.out_c / c;
    for n in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                taps(g, oy, ox, |ky, kx, iy, ix| {
                    for ci in 0..c {
                        for m in 0..mult {
                            let o = ci * mult + m;
                            f(
                                ((n * g.in_h + iy) * g.in_w + ix) * c + ci,
                                (ky * g.k_w + kx) * g.out_c + o,
                                ((n * oh + oy) * ow + ox) * g.out_c + o,
                            );
                        }
                    }
                });
            }
        }
    }
}

#[test]
fn matches_reference_and_adjoints() {
    let mut cases = 0usize;
    for &c in &[1, 3, 4, 5, 9, 16, 21] {
        for &mult in &[1, 2, 3] {
            for &(kh, kw) in &[(1, 1), (3, 3), (2, 3)] {
                for &(s, d) in
                    &[((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (2, 1)), ((2, 1), (2, 2))]
                {
                    for &pads in &[(0, 0, 0, 0), (1, 1, 1, 1), (2, 0, 1, 0)] {
                        cases += 1;
                        let (h, w) = [(5, 7), (6, 4), (7, 5)][cases % 3];
                        let g = Conv2dGeometry {
                            stride_h: s.0,
                            stride_w: s.1,
                            dil_h: d.0,
                            dil_w: d.1,
                            pad_top: pads.0,
                            pad_left: pads.1,
                            pad_bottom: pads.2,
                            pad_right: pads.3,
                            ..geometry(1 + cases % 2, (h, w, c), (kh, kw), mult)
                        };
                        if !g.is_valid() {
                            continue;
                        }
                        check(&g, cases % 2 == 0);
                    }
                }
            }
        }
    }
}

fn check(g: &Conv2dGeometry, with_bias: bool) {
    let x = ints(g.batch * g.in_h * g.in_w * g.in_c, 11);
    let w = ints(g.k_h * g.k_w * g.out_c, 12);
    let b = ints(g.out_c, 13);
    let dy = ints(g.rows() * g.out_c, 14);
    let mut y = vec![f32::NAN; dy.len()];
    let mut dx = vec![f32::NAN; x.len()];
    let mut dw = vec![f32::NAN; w.len()];
    let bias = if with_bias { b.as_ptr() } else { core::ptr::null() };
    unsafe {
        depthwise_conv2d_forward(g, x.as_ptr(), w.as_ptr(), bias, y.as_mut_ptr());
        depthwise_conv2d_backward_input(g, dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr());
        depthwise_conv2d_backward_filter(g, x.as_ptr(), dy.as_ptr(), dw.as_mut_ptr());
    }
    let mut y_ref: Vec<f64> =
        (0..y.len()).map(|i| if with_bias { b[i % g.out_c] as f64 } else { 0.0 }).collect();
    let mut dx_ref = vec![0.0f64; x.len()];
    let mut dw_ref = vec![0.0f64; w.len()];
    terms(g, |xi, fi, yi| {
        y_ref[yi] += x[xi] as f64 * w[fi] as f64;
        dx_ref[xi] += dy[yi] as f64 * w[fi] as f64;
        dw_ref[fi] += dy[yi] as f64 * x[xi] as f64;
    });
    let what = format!("{g:?} bias {with_bias}");
    for (name, got, want) in [("forward", &y, &y_ref), ("dx", &dx, &dx_ref), ("dw", &dw, &dw_ref)] {
        for (i, (a, e)) in got.iter().zip(want.iter()).enumerate() {
            assert!(*a as f64 == *e, "{name} {what}: at {i} expected {e}, got {a}");
        }
    }
    // ⟨conv(x, w), dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩ without bias.
    let mut lhs = 0.0f64;
    terms(g, |xi, fi, yi| lhs += x[xi] as f64 * w[fi] as f64 * dy[yi] as f64);
    let dot =
        |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>();
    assert_eq!(lhs, dot(&dx, &x), "adjoint dx {what}");
    assert_eq!(lhs, dot(&dw, &w), "adjoint dw {what}");
}

#[test]
fn rejects_channel_counts_that_are_not_multiples() {
    let g = Conv2dGeometry { out_c: 5, ..geometry(1, (3, 3, 2), (2, 2), 1) };
    assert!(!is_valid_depthwise(&g));
    let mut y = [f32::NAN; 20];
    unsafe {
        depthwise_conv2d_forward(
            &g,
            [1.0; 18].as_ptr(),
            [1.0; 20].as_ptr(),
            core::ptr::null(),
            y.as_mut_ptr(),
        )
    };
    assert!(y.iter().all(|v| v.is_nan()));
}
