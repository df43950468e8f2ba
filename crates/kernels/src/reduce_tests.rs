//! Host tests of `reduce.rs` (a child module of it, kept in its own file so each stays readable).

use super::*;

/// Deterministic values in [-1, 1) (xorshift), so failures reproduce.
pub(crate) fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn close(got: f32, want: f64, tol: f64, what: &str) {
    let ok = (got as f64 - want).abs() <= tol.max(tol * want.abs());
    assert!(ok, "{what}: got {got:e}, want {want:e}");
}

const SIZES: [usize; 14] = [0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 255, 256, 257, 1000];

#[test]
fn sums_over_rows_and_columns_match_f64() {
    for &rows in &[0usize, 1, 2, 31, 32, 33, 70] {
        for &cols in &[0usize, 1, 3, 4, 5, 15, 16, 17, 21, 32, 37, 52, 70] {
            let ldx = cols + 3;
            let x = data(rows * ldx + 1, (rows * 100 + cols) as u64);
            for &acc in &[false, true] {
                let mut out = vec![if acc { 0.5 } else { f32::NAN }; cols];
                unsafe { sum_rows(rows, cols, x.as_ptr(), ldx, out.as_mut_ptr(), 0.5, acc) };
                for j in 0..cols {
                    let s: f64 = (0..rows).map(|i| x[i * ldx + j] as f64).sum();
                    let want = 0.5 * s + if acc { 0.5 } else { 0.0 };
                    close(out[j], want, 1e-5, &format!("sum_rows {rows}x{cols} [{j}]"));
                }
                let mut out = vec![if acc { 0.5 } else { f32::NAN }; rows];
                unsafe { sum_cols(rows, cols, x.as_ptr(), ldx, out.as_mut_ptr(), 2.0, acc) };
                for i in 0..rows {
                    let s: f64 = (0..cols).map(|j| x[i * ldx + j] as f64).sum();
                    let want = 2.0 * s + if acc { 0.5 } else { 0.0 };
                    close(out[i], want, 1e-5, &format!("sum_cols {rows}x{cols} [{i}]"));
                }
            }
        }
    }
}

#[test]
fn total_sum_mean_squares_and_norm_match_f64() {
    for &n in &SIZES {
        let x = data(n, n as u64 + 7);
        let s: f64 = x.iter().map(|&v| v as f64).sum();
        let q: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
        unsafe {
            close(sum(n, x.as_ptr()), s, 1e-5, "sum");
            close(sum_squares(n, x.as_ptr()), q, 1e-5, "sum_squares");
            close(l2_norm(n, x.as_ptr()), q.sqrt(), 1e-6, "l2_norm");
            if n > 0 {
                close(mean(n, x.as_ptr()), s / n as f64, 1e-6, "mean");
            }
        }
    }
    unsafe {
        assert!(mean(0, [].as_ptr()).is_nan());
        let big = [3e30f32, -4e30, 0.0, 1.0, 2.0];
        close(l2_norm(5, big.as_ptr()), 5e30, 1e-6, "l2_norm without overflow");
        // Squares in the subnormal range: the scaled second pass keeps them.
        let sub = vec![1e-20f32; 1000];
        close(
            l2_norm(1000, sub.as_ptr()),
            1e-20f32 as f64 * 1000f64.sqrt(),
            1e-6,
            "l2_norm of subnormal squares",
        );
        let tiny = [3e-30f32, 4e-30];
        close(l2_norm(2, tiny.as_ptr()), 5e-30, 1e-6, "l2_norm without underflow");
        let bad = [1.0f32, f32::NAN, 2.0, 3.0, 4.0];
        assert!(l2_norm(5, bad.as_ptr()).is_nan() && sum(5, bad.as_ptr()).is_nan());
        let inf = [1.0f32, f32::NEG_INFINITY, 2.0];
        assert_eq!(l2_norm(3, inf.as_ptr()), f32::INFINITY);
    }
}

#[test]
fn pairwise_sum_of_a_million_values_stays_accurate() {
    // 0.1 is not exact in f32; a running f32 sum of 10⁶ copies is off by ~1%.
    let n = 1_000_000;
    let x = vec![0.1f32; n];
    let want = 0.1f32 as f64 * n as f64;
    close(unsafe { sum(n, x.as_ptr()) }, want, 1e-6, "sum 1e6");
    let mut col = [f32::NAN];
    unsafe { sum_rows(n, 1, x.as_ptr(), 1, col.as_mut_ptr(), 1.0, false) };
    close(col[0], want, 1e-6, "sum_rows 1e6");
    let naive: f32 = x.iter().sum();
    assert!((naive as f64 - want).abs() > 1e-4 * want, "the test must be able to fail");
}

#[test]
fn max_and_argmax_per_row() {
    for &cols in &[1usize, 3, 4, 7, 8, 9, 17, 40] {
        let rows = 5;
        let ldx = cols + 1;
        let mut x = data(rows * ldx, cols as u64);
        x[ldx + cols / 2] = f32::NAN; // row 1 has NaN
        x[2 * ldx + cols - 1] = 5.0; // row 2 has its maximum last
        x[3 * ldx] = 5.0; // row 3: tie at first and last
        x[3 * ldx + cols - 1] = 5.0;
        let mut mx = vec![0.0f32; rows];
        let mut am = vec![-7i32; rows];
        let labels: Vec<i32> = (0..rows as i32).map(|i| i % cols as i32).collect();
        unsafe {
            max_rows(rows, cols, x.as_ptr(), ldx, mx.as_mut_ptr());
            argmax_rows(rows, cols, x.as_ptr(), ldx, am.as_mut_ptr());
        }
        let mut correct = 0;
        for i in 0..rows {
            let row = &x[i * ldx..i * ldx + cols];
            let (mut best, mut arg) = (f32::NEG_INFINITY, 0usize);
            let mut has_nan = false;
            for (j, &v) in row.iter().enumerate() {
                if v.is_nan() {
                    if !has_nan {
                        arg = j;
                    }
                    has_nan = true;
                } else if !has_nan && v > best {
                    best = v;
                    arg = j;
                }
            }
            if has_nan {
                assert!(mx[i].is_nan(), "max row {i}");
            } else {
                assert_eq!(mx[i], best, "max row {i} cols {cols}");
            }
            assert_eq!(am[i], arg as i32, "argmax row {i} cols {cols}");
            if arg as i32 == labels[i] {
                correct += 1;
            }
        }
        let got = unsafe { count_argmax_equal(rows, cols, x.as_ptr(), ldx, labels.as_ptr()) };
        assert_eq!(got, correct);
        let same = unsafe { count_argmax_match(rows, cols, x.as_ptr(), ldx, x.as_ptr(), ldx) };
        assert_eq!(same, rows);
    }
    let mut out = [f32::NAN; 2];
    let mut am = [0i32; 2];
    unsafe {
        max_rows(2, 0, [].as_ptr(), 0, out.as_mut_ptr());
        argmax_rows(2, 0, [].as_ptr(), 0, am.as_mut_ptr());
    }
    assert_eq!(out, [f32::NEG_INFINITY; 2]);
    assert_eq!(am, [-1, -1]);
}
