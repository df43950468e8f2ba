//! Host tests of `loss.rs` (a child module of it, kept in its own file so each stays readable).

use super::*;
use crate::reduce::tests::data;
use core::ptr::null_mut;

fn close(got: f32, want: f64, atol: f64, rtol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got as f64 == want;
    }
    (got as f64 - want).abs() <= atol.max(rtol * want.abs())
}

fn check(got: &[f32], want: &[f64], atol: f64, rtol: f64, what: &str) {
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(close(g, w, atol, rtol), "{what} [{i}]: got {g:e}, want {w:e}");
    }
}

/// f64 reference of the per-row softmax cross-entropy: (row losses, gradient with scale 1).
fn ref_softmax_xent(x: &[f32], t: &[f64], rows: usize, cols: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut loss, mut grad) = (vec![], vec![0.0; rows * cols]);
    for i in 0..rows {
        let r = &x[i * cols..(i + 1) * cols];
        let m = r.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
        let s: f64 = r.iter().map(|&v| (v as f64 - m).exp()).sum();
        let lse = m + s.ln();
        let ts: f64 = t[i * cols..(i + 1) * cols].iter().sum();
        let mut l = 0.0;
        for j in 0..cols {
            let tj = t[i * cols + j];
            if tj != 0.0 {
                l += tj * (lse - r[j] as f64);
            }
            grad[i * cols + j] = ((r[j] as f64 - m).exp() / s) * ts - tj;
        }
        loss.push(l);
    }
    (loss, grad)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn softmax_cross_entropy_dense_and_sparse_match_f64() {
    for &rows in &[1usize, 4] {
        for &cols in &[1usize, 2, 3, 4, 5, 9, 10, 16, 17, 40] {
            let x: Vec<f32> = data(rows * cols, cols as u64 + 3).iter().map(|v| v * 6.0).collect();
            let labels: Vec<i32> = (0..rows).map(|i| ((i * 7 + 3) % cols) as i32).collect();
            let mut onehot = vec![0.0f32; rows * cols];
            for i in 0..rows {
                onehot[i * cols + labels[i] as usize] = 1.0;
            }
            // Probability targets (rows sum to 1) as well as one-hot ones.
            let soft: Vec<f32> = data(rows * cols, 5).iter().map(|v| v.abs() + 0.01).collect();
            let soft: Vec<f32> = (0..rows * cols)
                .map(|k| soft[k] / soft[k / cols * cols..(k / cols + 1) * cols].iter().sum::<f32>())
                .collect();
            for t in [&onehot, &soft] {
                let t64: Vec<f64> = t.iter().map(|&v| v as f64).collect();
                let (wl, wg) = ref_softmax_xent(&x, &t64, rows, cols);
                let mut dx = vec![f32::NAN; rows * cols];
                let scale = 1.0 / rows as f32;
                let l = unsafe {
                    softmax_cross_entropy(
                        rows,
                        cols,
                        x.as_ptr(),
                        t.as_ptr(),
                        dx.as_mut_ptr(),
                        scale,
                    )
                };
                let what = format!("xent {rows}x{cols}");
                assert!(close(l, mean(&wl), 1e-6, 1e-5), "{what}: {l} vs {}", mean(&wl));
                let wg: Vec<f64> = wg.iter().map(|g| g * scale as f64).collect();
                check(&dx, &wg, 1e-7, 1e-5, &what);
                let l2 = unsafe {
                    softmax_cross_entropy(rows, cols, x.as_ptr(), t.as_ptr(), null_mut(), 1.0)
                };
                assert_eq!(l.to_bits(), l2.to_bits(), "forward-only {what}");
            }
            let t64: Vec<f64> = onehot.iter().map(|&v| v as f64).collect();
            let (wl, wg) = ref_softmax_xent(&x, &t64, rows, cols);
            let mut dx = vec![f32::NAN; rows * cols];
            let l = unsafe {
                sparse_softmax_cross_entropy(
                    rows,
                    cols,
                    x.as_ptr(),
                    labels.as_ptr(),
                    dx.as_mut_ptr(),
                    0.5,
                )
            };
            assert!(close(l, mean(&wl), 1e-6, 1e-5), "sparse {rows}x{cols}: {l}");
            let wg: Vec<f64> = wg.iter().map(|g| g * 0.5).collect();
            check(&dx, &wg, 1e-7, 1e-5, "sparse grad");
            // In place (dx = x) gives the same.
            let mut inplace = x.clone();
            let p = inplace.as_mut_ptr();
            let l3 =
                unsafe { sparse_softmax_cross_entropy(rows, cols, p, labels.as_ptr(), p, 0.5) };
            assert_eq!(l.to_bits(), l3.to_bits());
            assert_eq!(inplace, dx);
        }
    }
}

#[test]
fn cross_entropy_extremes_and_bad_labels() {
    let inf = f32::INFINITY;
    let x = [1e4f32, -1e4, -inf, 0.0, /* */ -inf, 2.0, -inf, 1.0];
    let labels = [0i32, 1];
    let mut dx = [f32::NAN; 8];
    let l = unsafe {
        sparse_softmax_cross_entropy(2, 4, x.as_ptr(), labels.as_ptr(), dx.as_mut_ptr(), 1.0)
    };
    let want1 = (1.0f64 + (-1.0f64).exp()).ln();
    assert!(close(l, want1 / 2.0, 1e-7, 1e-6), "{l}");
    assert!(dx.iter().all(|v| v.is_finite()), "{dx:?}");
    let mut onehot = [0.0f32; 8];
    onehot[0] = 1.0;
    onehot[5] = 1.0;
    let l2 =
        unsafe { softmax_cross_entropy(2, 4, x.as_ptr(), onehot.as_ptr(), dx.as_mut_ptr(), 1.0) };
    assert!(close(l2, want1 / 2.0, 1e-7, 1e-6), "{l2}");
    // The target class at −Inf: an infinite loss, as the math says.
    let bad = [0i32, 0];
    let l3 =
        unsafe { sparse_softmax_cross_entropy(2, 4, x.as_ptr(), bad.as_ptr(), null_mut(), 1.0) };
    assert_eq!(l3, inf);
    for label in [-1i32, 4] {
        let lab = [0, label];
        let l = unsafe {
            sparse_softmax_cross_entropy(2, 4, x.as_ptr(), lab.as_ptr(), dx.as_mut_ptr(), 1.0)
        };
        assert!(
            l.is_nan()
                && dx[4..].iter().all(|v| v.is_nan())
                && dx[..4].iter().all(|v| v.is_finite())
        );
    }
    let nan = [1.0f32, f32::NAN];
    let l = unsafe {
        sparse_softmax_cross_entropy(1, 2, nan.as_ptr(), [0].as_ptr(), dx.as_mut_ptr(), 1.0)
    };
    assert!(l.is_nan() && dx[0].is_nan());
}

fn ref_bce(x: f64, y: f64) -> (f64, f64) {
    let l = x.max(0.0) - x * y + (-x.abs()).exp().ln_1p();
    (l, 1.0 / (1.0 + (-x).exp()) - y)
}

#[test]
fn elementwise_losses_match_f64() {
    type Ref = fn(f64, f64) -> (f64, f64);
    let refs: [(&str, Ref); 4] = [
        ("bce", ref_bce),
        ("mse", |a, b| ((a - b).powi(2), 2.0 * (a - b))),
        ("mae", |a, b| {
            (
                (a - b).abs(),
                if a > b {
                    1.0
                } else if a < b {
                    -1.0
                } else {
                    0.0
                },
            )
        }),
        ("huber", |a, b| {
            let e: f64 = a - b;
            let d = 0.7;
            if e.abs() <= d {
                (0.5 * e * e, e)
            } else {
                (d * (e.abs() - 0.5 * d), e.clamp(-d, d))
            }
        }),
    ];
    for &rows in &[1usize, 3] {
        for &cols in &[1usize, 2, 3, 4, 5, 7, 8, 9, 16, 17, 30] {
            let a: Vec<f32> = data(rows * cols, cols as u64).iter().map(|v| v * 20.0).collect();
            let mut b: Vec<f32> = data(rows * cols, 77).iter().map(|v| v * 0.5 + 0.5).collect();
            b[0] = a[0]; // an exact zero error (mae's sign(0) = 0)
            for (name, f) in refs {
                let mut da = vec![f32::NAN; rows * cols];
                let (pa, pb, pd) = (a.as_ptr(), b.as_ptr(), da.as_mut_ptr());
                let got = unsafe {
                    match name {
                        "bce" => sigmoid_cross_entropy(rows, cols, pa, pb, pd, 0.25),
                        "mse" => mse(rows, cols, pa, pb, pd, 0.25),
                        "mae" => mae(rows, cols, pa, pb, pd, 0.25),
                        _ => huber(rows, cols, pa, pb, pd, 0.25, 0.7),
                    }
                };
                let (mut total, mut wg) = (0.0, vec![]);
                for k in 0..rows * cols {
                    let (l, g) = f(a[k] as f64, b[k] as f64);
                    total += l / cols as f64;
                    wg.push(g * 0.25 / cols as f64);
                }
                let what = format!("{name} {rows}x{cols}");
                assert!(
                    close(got, total / rows as f64, 1e-6, 2e-5),
                    "{what}: {got} vs {}",
                    total / rows as f64
                );
                check(&da, &wg, 1e-7, 1e-5, &what);
            }
        }
    }
    // BCE stays exact at extreme and infinite logits with matching targets.
    let x = [1e4f32, -1e4, f32::INFINITY, f32::NEG_INFINITY, 30.0, -30.0];
    let y = [1.0f32, 0.0, 1.0, 0.0, 1.0, 0.0];
    let mut dx = [f32::NAN; 6];
    let l = unsafe { sigmoid_cross_entropy(1, 6, x.as_ptr(), y.as_ptr(), dx.as_mut_ptr(), 1.0) };
    let want = 2.0 * (-30f64).exp().ln_1p() / 6.0;
    assert!(close(l, want, 1e-20, 1e-5), "{l} vs {want}");
    assert!(dx.iter().all(|v| v.abs() < 1e-12), "{dx:?}");
}

#[test]
fn log1p_unit_is_accurate_on_0_1() {
    let mut worst = (0.0f64, 0.0f32);
    // From the smallest normal up: BCE feeds it 0 or e^d ≥ 1.6e-38 (exp_ftz flushes the rest).
    let mut bits = f32::MIN_POSITIVE.to_bits();
    while f32::from_bits(bits) <= 1.0 {
        let z = f32::from_bits(bits);
        let got = log1p_unit(F32x4::splat(z)).lanes()[0] as f64;
        let want = (z as f64).ln_1p();
        let rel = if want == 0.0 { got.abs() } else { (got - want).abs() / want };
        if rel > worst.0 {
            worst = (rel, z);
        }
        bits += 61;
    }
    assert!(worst.0 < 3e-7, "max relative error {:e} at {}", worst.0, worst.1);
    assert!(log1p_unit(F32x4::splat(f32::NAN)).lanes()[0].is_nan());
    assert_eq!(log1p_unit(F32x4::splat(0.0)).lanes()[0], 0.0);
}

#[test]
fn cross_entropy_on_probabilities_matches_keras() {
    let eps = 1e-7f32;
    for &cols in &[1usize, 3, 4, 5, 10, 17] {
        let rows = 3;
        let p: Vec<f32> =
            data(rows * cols, cols as u64).iter().map(|v| v.abs() * 0.3 + 1e-3).collect();
        let mut p = p;
        p[0] = 0.0; // clipped to ε: zero gradient through the clip
        let t: Vec<f32> = data(rows * cols, 11).iter().map(|v| v.abs()).collect();
        let mut dp = vec![f32::NAN; rows * cols];
        let l = unsafe {
            cross_entropy_probs(rows, cols, p.as_ptr(), t.as_ptr(), dp.as_mut_ptr(), 0.5, eps)
        };
        let (mut total, mut wg) = (0.0, vec![]);
        for i in 0..rows {
            let r: Vec<f64> = p[i * cols..(i + 1) * cols].iter().map(|&v| v as f64).collect();
            let s: f64 = r.iter().sum();
            let q: Vec<f64> = r.iter().map(|v| v / s).collect();
            let e = eps as f64;
            let g: Vec<f64> = (0..cols)
                .map(|j| {
                    let tj = t[i * cols + j] as f64;
                    total -= tj * q[j].clamp(e, 1.0 - e).ln();
                    if q[j] >= e && q[j] <= 1.0 - e {
                        -tj / q[j]
                    } else {
                        0.0
                    }
                })
                .collect();
            let gq: f64 = g.iter().zip(&q).map(|(g, q)| g * q).sum();
            wg.extend(g.iter().map(|g| 0.5 * (g - gq) / s));
        }
        assert!(
            close(l, total / rows as f64, 1e-6, 1e-5),
            "cols {cols}: {l} vs {}",
            total / rows as f64
        );
        check(&dp, &wg, 1e-6, 1e-4, &format!("probs grad cols {cols}"));
    }
}
