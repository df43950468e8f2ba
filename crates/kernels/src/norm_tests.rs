//! Host tests of `norm.rs` (a child module of it, kept in its own file so each stays readable).

use super::*;
use crate::reduce::tests::data;
use core::ptr::{null, null_mut};

fn check(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= tol.max(tol * w.abs()),
            "{what} [{i}]: got {g:e}, want {w:e}"
        );
    }
}

/// f64 batch-norm statistics of channel j: (mean, biased variance).
fn stats(x: &[f32], n: usize, c: usize, j: usize) -> (f64, f64) {
    let m = (0..n).map(|i| x[i * c + j] as f64).sum::<f64>() / n as f64;
    let v = (0..n).map(|i| (x[i * c + j] as f64 - m).powi(2)).sum::<f64>() / n as f64;
    (m, v)
}

#[test]
fn batch_norm_forward_backward_match_f64() {
    let eps = 1e-3f32;
    for &n in &[1usize, 2, 7, 33, 65] {
        for &c in &[1usize, 3, 4, 5, 16, 17, 23, 36] {
            // A large common offset checks that the two-pass variance does not cancel.
            let x: Vec<f32> =
                data(n * c, (n * 31 + c) as u64).iter().map(|v| v * 3.0 + 100.0).collect();
            let gamma = data(c, 5);
            let beta = data(c, 6);
            let dy = data(n * c, 9);
            let (mut y, mut mean, mut invstd) =
                (vec![f32::NAN; n * c], vec![f32::NAN; c], vec![f32::NAN; c]);
            let (mut mm, mut mv) = (vec![0.5f32; c], vec![2.0f32; c]);
            unsafe {
                batch_norm_train(
                    n,
                    c,
                    x.as_ptr(),
                    gamma.as_ptr(),
                    beta.as_ptr(),
                    eps,
                    0.9,
                    y.as_mut_ptr(),
                    mean.as_mut_ptr(),
                    invstd.as_mut_ptr(),
                    mm.as_mut_ptr(),
                    mv.as_mut_ptr(),
                )
            };
            let mut want_y = vec![0.0; n * c];
            let (mut wm, mut wi, mut wmm, mut wmv) = (vec![], vec![], vec![], vec![]);
            let (mut wdx, mut wdg, mut wdb) = (vec![0.0; n * c], vec![0.0; c], vec![0.0; c]);
            for j in 0..c {
                let (m, v) = stats(&x, n, c, j);
                let is = 1.0 / (v + eps as f64).sqrt();
                wm.push(m);
                wi.push(is);
                wmm.push(0.9 * 0.5 + 0.1 * m);
                let unbiased = if n > 1 { v * n as f64 / (n - 1) as f64 } else { v };
                wmv.push(0.9 * 2.0 + 0.1 * unbiased);
                let xh: Vec<f64> = (0..n).map(|i| (x[i * c + j] as f64 - m) * is).collect();
                for i in 0..n {
                    want_y[i * c + j] = xh[i] * gamma[j] as f64 + beta[j] as f64;
                }
                wdb[j] = (0..n).map(|i| dy[i * c + j] as f64).sum();
                wdg[j] = (0..n).map(|i| dy[i * c + j] as f64 * xh[i]).sum();
                for i in 0..n {
                    let d = dy[i * c + j] as f64 - wdb[j] / n as f64 - xh[i] * wdg[j] / n as f64;
                    wdx[i * c + j] = gamma[j] as f64 * is * d;
                }
            }
            let what = format!("bn n={n} c={c}");
            check(&y, &want_y, 2e-3, &format!("{what} y"));
            check(&mean, &wm, 1e-6, &format!("{what} mean"));
            check(&invstd, &wi, 2e-3, &format!("{what} invstd"));
            check(&mm, &wmm, 1e-6, &format!("{what} moving mean"));
            check(&mv, &wmv, 1e-3, &format!("{what} moving var"));
            let (mut dx, mut dg, mut db) =
                (vec![f32::NAN; n * c], vec![f32::NAN; c], vec![f32::NAN; c]);
            unsafe {
                batch_norm_backward(
                    n,
                    c,
                    x.as_ptr(),
                    dy.as_ptr(),
                    gamma.as_ptr(),
                    mean.as_ptr(),
                    invstd.as_ptr(),
                    dx.as_mut_ptr(),
                    dg.as_mut_ptr(),
                    db.as_mut_ptr(),
                )
            };
            // dx sums to zero per channel, so its absolute error is relative to |gamma·invstd·dy|.
            check(&dx, &wdx, 3e-3, &format!("{what} dx"));
            check(&dg, &wdg, 3e-3, &format!("{what} dgamma"));
            check(&db, &wdb, 1e-5, &format!("{what} dbeta"));
            // Inference with the batch statistics reproduces the training output.
            let var: Vec<f32> = invstd.iter().map(|&s| 1.0 / (s * s) - eps).collect();
            let mut yi = vec![f32::NAN; n * c];
            unsafe {
                batch_norm_inference(
                    n,
                    c,
                    x.as_ptr(),
                    gamma.as_ptr(),
                    beta.as_ptr(),
                    mean.as_ptr(),
                    var.as_ptr(),
                    eps,
                    yi.as_mut_ptr(),
                )
            };
            check(&yi, &want_y, 5e-3, &format!("{what} inference"));
        }
    }
}

#[test]
fn batch_norm_without_gamma_beta_or_outputs() {
    let (n, c) = (6, 5);
    let x = data(n * c, 3);
    let mut y = vec![f32::NAN; n * c];
    unsafe {
        batch_norm_train(
            n,
            c,
            x.as_ptr(),
            null(),
            null(),
            0.0,
            0.9,
            y.as_mut_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
        )
    };
    for j in 0..c {
        let (m, v) = stats(&x, n, c, j);
        for i in 0..n {
            let w = (x[i * c + j] as f64 - m) / v.sqrt();
            assert!((y[i * c + j] as f64 - w).abs() < 1e-4, "[{i},{j}]");
        }
    }
    let mut nan = x;
    nan[2] = f32::NAN; // channel 2 of row 0
    unsafe {
        batch_norm_train(
            n,
            c,
            nan.as_ptr(),
            null(),
            null(),
            0.0,
            0.9,
            y.as_mut_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
        )
    };
    assert!((0..n).all(|i| y[i * c + 2].is_nan()) && (0..n).all(|i| y[i * c + 1].is_finite()));
}

#[test]
fn layer_norm_forward_backward_match_f64() {
    let eps = 1e-5f32;
    for &rows in &[1usize, 3, 40] {
        for &cols in &[1usize, 2, 3, 4, 5, 16, 17, 33, 300] {
            let x: Vec<f32> = data(rows * cols, (rows + 7 * cols) as u64)
                .iter()
                .map(|v| v * 2.0 + 10.0)
                .collect();
            let gamma = data(cols, 1);
            let beta = data(cols, 2);
            let dy = data(rows * cols, 4);
            let (mut y, mut mean, mut rstd) =
                (vec![f32::NAN; rows * cols], vec![f32::NAN; rows], vec![f32::NAN; rows]);
            unsafe {
                layer_norm(
                    rows,
                    cols,
                    x.as_ptr(),
                    gamma.as_ptr(),
                    beta.as_ptr(),
                    eps,
                    y.as_mut_ptr(),
                    mean.as_mut_ptr(),
                    rstd.as_mut_ptr(),
                )
            };
            let mut dx = vec![f32::NAN; rows * cols];
            let (mut dg, mut db) = (vec![f32::NAN; cols], vec![f32::NAN; cols]);
            unsafe {
                layer_norm_backward(
                    rows,
                    cols,
                    x.as_ptr(),
                    dy.as_ptr(),
                    gamma.as_ptr(),
                    mean.as_ptr(),
                    rstd.as_ptr(),
                    dx.as_mut_ptr(),
                    dg.as_mut_ptr(),
                    db.as_mut_ptr(),
                )
            };
            let (mut wy, mut wm, mut wr) = (vec![0.0; rows * cols], vec![], vec![]);
            let (mut wdx, mut wdg, mut wdb) =
                (vec![0.0; rows * cols], vec![0.0; cols], vec![0.0; cols]);
            for i in 0..rows {
                let row: Vec<f64> = x[i * cols..(i + 1) * cols].iter().map(|&v| v as f64).collect();
                let m = row.iter().sum::<f64>() / cols as f64;
                let v = row.iter().map(|a| (a - m).powi(2)).sum::<f64>() / cols as f64;
                let r = 1.0 / (v + eps as f64).sqrt();
                wm.push(m);
                wr.push(r);
                let xh: Vec<f64> = row.iter().map(|a| (a - m) * r).collect();
                let g: Vec<f64> =
                    (0..cols).map(|j| dy[i * cols + j] as f64 * gamma[j] as f64).collect();
                let a = g.iter().sum::<f64>() / cols as f64;
                let b = g.iter().zip(&xh).map(|(g, h)| g * h).sum::<f64>() / cols as f64;
                for j in 0..cols {
                    wy[i * cols + j] = xh[j] * gamma[j] as f64 + beta[j] as f64;
                    wdx[i * cols + j] = r * (g[j] - a - xh[j] * b);
                    wdg[j] += dy[i * cols + j] as f64 * xh[j];
                    wdb[j] += dy[i * cols + j] as f64;
                }
            }
            let what = format!("ln {rows}x{cols}");
            check(&y, &wy, 2e-3, &format!("{what} y"));
            check(&mean, &wm, 1e-6, &format!("{what} mean"));
            check(&rstd, &wr, 2e-3, &format!("{what} rstd"));
            check(&dx, &wdx, 3e-3, &format!("{what} dx"));
            check(&dg, &wdg, 3e-3, &format!("{what} dgamma"));
            check(&db, &wdb, 1e-5, &format!("{what} dbeta"));
        }
    }
}
