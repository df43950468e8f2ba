//! Host tests of pooling against plain f64 loops over the definition: windows sizes, strides,
//! valid/same/asymmetric padding, odd sizes, batches, channel counts around the vector width,
//! NaN-prefilled outputs, ties and NaN inputs for max pooling, adjoint identities for backward.

use super::*;
use crate::conv::tests::ints;

fn geometry(
    batch: usize,
    (h, w, c): (usize, usize, usize),
    k: (usize, usize),
    s: (usize, usize),
    pads: [usize; 4],
) -> Conv2dGeometry {
    Conv2dGeometry {
        batch,
        in_h: h,
        in_w: w,
        in_c: c,
        k_h: k.0,
        k_w: k.1,
        out_c: c,
        stride_h: s.0,
        stride_w: s.1,
        dil_h: 1,
        dil_w: 1,
        pad_top: pads[0],
        pad_left: pads[1],
        pad_bottom: pads[2],
        pad_right: pads[3],
    }
}

fn same_pads(input: usize, k: usize, s: usize) -> (usize, usize) {
    let out = (input + s - 1) / s;
    let total = ((out - 1) * s + k).saturating_sub(input);
    (total / 2, total - total / 2)
}

/// Every pooling geometry of the sweep.
fn sweep() -> Vec<Conv2dGeometry> {
    let mut out = Vec::new();
    let mut i = 0usize;
    for &c in &[1, 3, 4, 5, 8, 13] {
        for &k in &[(1, 1), (2, 2), (3, 3), (2, 3)] {
            for &s in &[(1, 1), (2, 2), (1, 2), (3, 2)] {
                for pad in 0..3 {
                    i += 1;
                    let (h, w) = [(5, 7), (6, 4), (7, 7), (4, 9)][i % 4];
                    let pads = match pad {
                        0 => [0; 4],
                        1 => {
                            let (t, b) = same_pads(h, k.0, s.0);
                            let (l, r) = same_pads(w, k.1, s.1);
                            [t, l, b, r]
                        }
                        _ => [k.0 - 1, 0, 0, k.1 - 1],
                    };
                    let g = geometry(1 + i % 3, (h, w, c), k, s, pads);
                    if is_valid_pool(&g) {
                        out.push(g);
                    }
                }
            }
        }
    }
    assert!(out.len() > 250, "only {} geometries", out.len());
    out
}

/// Calls f(output index, list of input indices of its window inside the image), per channel.
fn windows(g: &Conv2dGeometry, mut f: impl FnMut(usize, &[usize])) {
    let (oh, ow, c) = (g.out_h(), g.out_w(), g.in_c);
    let mut cells = Vec::new();
    for n in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    cells.clear();
                    for ky in 0..g.k_h {
                        for kx in 0..g.k_w {
                            let iy = (oy * g.stride_h + ky) as isize - g.pad_top as isize;
                            let ix = (ox * g.stride_w + kx) as isize - g.pad_left as isize;
                            if iy >= 0
                                && ix >= 0
                                && (iy as usize) < g.in_h
                                && (ix as usize) < g.in_w
                            {
                                cells.push(
                                    ((n * g.in_h + iy as usize) * g.in_w + ix as usize) * c + ch,
                                );
                            }
                        }
                    }
                    f(((n * oh + oy) * ow + ox) * c + ch, &cells);
                }
            }
        }
    }
}

#[test]
fn max_pool_matches_reference_with_ties_and_its_gradient_is_the_adjoint() {
    for (t, g) in sweep().iter().enumerate() {
        let x = ints(g.batch * g.in_h * g.in_w * g.in_c, t as u32);
        let y_len = g.rows() * g.in_c;
        let dy = ints(y_len, 7 + t as u32);
        let mut y = vec![f32::NAN; y_len];
        let mut arg = vec![-7i32; y_len];
        let mut y_only = vec![f32::NAN; y_len];
        let mut dx = vec![f32::NAN; x.len()];
        unsafe {
            max_pool2d_forward(g, x.as_ptr(), y.as_mut_ptr(), arg.as_mut_ptr());
            max_pool2d_forward(g, x.as_ptr(), y_only.as_mut_ptr(), core::ptr::null_mut());
            max_pool2d_backward(dy.as_ptr(), arg.as_ptr(), y_len, dx.as_mut_ptr(), x.len());
        }
        let mut dx_ref = vec![0.0f64; x.len()];
        let mut lhs = 0.0f64;
        windows(g, |o, cells| {
            // First maximum in row-major window order (ints have many ties).
            let mut best = cells[0];
            for &i in cells {
                if x[i] > x[best] {
                    best = i;
                }
            }
            assert_eq!(y[o], x[best], "max {g:?} at {o}");
            assert_eq!(arg[o], best as i32, "argmax {g:?} at {o}");
            dx_ref[best] += dy[o] as f64;
            lhs += x[best] as f64 * dy[o] as f64;
        });
        assert_eq!(
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            y_only.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        for (i, (a, e)) in dx.iter().zip(&dx_ref).enumerate() {
            assert!(*a as f64 == *e, "max backward {g:?} at {i}: expected {e}, got {a}");
        }
        // Max pooling is piecewise linear: ⟨y, dy⟩ = ⟨x, dx⟩ with the same winners.
        let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| *a as f64 * *b as f64).sum();
        assert_eq!(lhs, rhs, "adjoint {g:?}");
    }
}

#[test]
fn max_pool_propagates_nan_and_infinities() {
    let g = geometry(1, (2, 2, 5), (2, 2), (1, 1), [0; 4]);
    let mut x = vec![1.0f32; 20];
    x[0] = f32::NEG_INFINITY; // channel 0: -inf loses to 1
    x[5 + 1] = f32::NAN; // channel 1: NaN in the second cell wins
    x[10 + 1] = 5.0;
    x[15 + 2] = f32::INFINITY;
    x[4] = f32::NAN; // channel 4 (scalar tail): NaN in the first cell stays
    x[19] = 9.0;
    let mut y = [0.0f32; 5];
    let mut arg = [0i32; 5];
    unsafe { max_pool2d_forward(&g, x.as_ptr(), y.as_mut_ptr(), arg.as_mut_ptr()) };
    assert_eq!(y[0], 1.0);
    assert_eq!(arg[0], 5);
    assert!(y[1].is_nan() && arg[1] == 6);
    assert_eq!((y[2], arg[2]), (f32::INFINITY, 17));
    assert_eq!((y[3], arg[3]), (1.0, 3));
    assert!(y[4].is_nan() && arg[4] == 4);
}

#[test]
fn max_pool_backward_skips_indices_outside_dx() {
    let dy = [1.0f32, 2.0, 3.0, 4.0];
    let arg = [0i32, -1, 3, 99];
    let mut dx = [f32::NAN; 4];
    unsafe { max_pool2d_backward(dy.as_ptr(), arg.as_ptr(), 4, dx.as_mut_ptr(), 4) };
    assert_eq!(dx, [1.0, 0.0, 0.0, 3.0]);
}

#[test]
fn avg_pool_matches_reference_excluding_padding_and_backward_is_the_adjoint() {
    for (t, g) in sweep().iter().enumerate() {
        let x = ints(g.batch * g.in_h * g.in_w * g.in_c, 100 + t as u32);
        let y_len = g.rows() * g.in_c;
        let dy = ints(y_len, 300 + t as u32);
        let mut y = vec![f32::NAN; y_len];
        let mut dx = vec![f32::NAN; x.len()];
        unsafe {
            avg_pool2d_forward(g, x.as_ptr(), y.as_mut_ptr());
            avg_pool2d_backward(g, dy.as_ptr(), dx.as_mut_ptr());
        }
        let mut dx_ref = vec![0.0f64; x.len()];
        let mut lhs = 0.0f64;
        windows(g, |o, cells| {
            let n = cells.len() as f64;
            let mean = cells.iter().map(|&i| x[i] as f64).sum::<f64>() / n;
            // The window sum is exact in f32, so the one division rounds like the f64 one.
            assert_eq!(y[o], mean as f32, "avg {g:?} at {o}");
            for &i in cells {
                dx_ref[i] += dy[o] as f64 / n;
            }
            lhs += mean * dy[o] as f64;
        });
        for (i, (a, e)) in dx.iter().zip(&dx_ref).enumerate() {
            assert!(
                (*a as f64 - e).abs() <= 1e-6 * (1.0 + e.abs()),
                "avg backward {g:?} at {i}: expected {e}, got {a}"
            );
        }
        let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| *a as f64 * *b as f64).sum();
        assert!((lhs - rhs).abs() <= 1e-5 * (1.0 + lhs.abs()), "adjoint {g:?}: {lhs} vs {rhs}");
    }
}

#[test]
fn global_avg_pool_forward_and_backward() {
    for &(batch, pixels, c) in &[(1, 1, 1), (2, 9, 3), (3, 25, 4), (2, 7, 13), (0, 4, 4)] {
        let x = ints(batch * pixels * c, 21);
        let dy = ints(batch * c, 22);
        let mut y = vec![f32::NAN; batch * c];
        let mut dx = vec![f32::NAN; x.len()];
        unsafe {
            global_avg_pool2d_forward(x.as_ptr(), batch, pixels, c, y.as_mut_ptr());
            global_avg_pool2d_backward(dy.as_ptr(), batch, pixels, c, dx.as_mut_ptr());
        }
        for n in 0..batch {
            for ch in 0..c {
                let s: f64 = (0..pixels).map(|p| x[(n * pixels + p) * c + ch] as f64).sum();
                assert_eq!(
                    y[n * c + ch],
                    (s / pixels as f64) as f32,
                    "global avg ({batch},{pixels},{c})"
                );
                for p in 0..pixels {
                    assert_eq!(dx[(n * pixels + p) * c + ch], dy[n * c + ch] / pixels as f32);
                }
            }
        }
    }
}

#[test]
fn invalid_pool_geometry_writes_nothing() {
    // Padding as large as the window would leave an empty window.
    for g in [
        geometry(1, (3, 3, 2), (2, 2), (1, 1), [2, 0, 0, 0]),
        geometry(1, (3, 3, 2), (4, 4), (1, 1), [0; 4]),
        Conv2dGeometry { out_c: 3, ..geometry(1, (3, 3, 2), (2, 2), (1, 1), [0; 4]) },
    ] {
        assert!(!is_valid_pool(&g));
        let mut y = [f32::NAN; 32];
        unsafe {
            max_pool2d_forward(&g, [1.0; 18].as_ptr(), y.as_mut_ptr(), core::ptr::null_mut());
            avg_pool2d_forward(&g, [1.0; 18].as_ptr(), y.as_mut_ptr());
        }
        assert!(y.iter().all(|v| v.is_nan()));
    }
}
