//! Host tests of `random.rs` (a child module of it, kept in its own file so each stays readable).

use super::*;

#[test]
fn philox_matches_random123_known_answers() {
    // Random123 tests/kat_vectors, philox4x32 with 10 rounds.
    let cases = [
        ([0u32; 4], [0u32; 2], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([u32::MAX; 4], [u32::MAX; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];
    for (ctr, key, want) in cases {
        assert_eq!(philox4x32_10(ctr, key), want, "ctr {ctr:x?} key {key:x?}");
    }
}

fn stream() -> Stream {
    Stream::new(0x1234_5678, 0x9abc, 7)
}

fn fill(n: usize, offset: usize, f: &dyn Fn(usize, *mut f32, usize)) -> Vec<f32> {
    let mut out = vec![f32::NAN; n + 2];
    f(n, unsafe { out.as_mut_ptr().add(1) }, offset);
    assert!(out[0].is_nan() && out[n + 1].is_nan(), "wrote outside [0, {n})");
    out[1..=n].to_vec()
}

/// Filling [0, n) at once equals filling it in pieces at any split points, and no element is
/// left unwritten (outputs start as NaN).
fn split_independent(what: &str, f: &dyn Fn(usize, *mut f32, usize)) {
    let n = 203;
    let whole = fill(n, 0, f);
    assert!(whole.iter().all(|v| !v.is_nan()), "{what}: unwritten cells");
    for cuts in [[1, 2], [3, 9], [4, 8], [5, 100], [7, 202], [0, 203], [101, 101]] {
        let mut parts = fill(cuts[0], 0, f);
        parts.extend(fill(cuts[1] - cuts[0], cuts[0], f));
        parts.extend(fill(n - cuts[1], cuts[1], f));
        let same = whole.iter().zip(&parts).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{what}: split at {cuts:?} differs");
    }
    // A window far from zero equals the same elements of an overlapping, unaligned window.
    let far = fill(13, 1_000_003, f);
    let wider = fill(20, 999_996, f);
    assert_eq!(far, wider[7..].to_vec(), "{what}: far offset");
}

#[test]
fn every_kind_is_independent_of_how_the_range_is_split() {
    let s = stream();
    split_independent("uniform", &|n, o, off| unsafe { uniform(n, o, -2.0, 3.0, s, off) });
    split_independent("normal", &|n, o, off| unsafe { normal(n, o, 1.0, 2.0, s, off) });
    split_independent("truncated", &|n, o, off| unsafe {
        truncated_normal(n, o, 0.0, 1.0, s, off)
    });
    split_independent("mask", &|n, o, off| unsafe { dropout_mask(n, o, 0.3, s, off) });
    let x: Vec<f32> = (0..1_000_016).map(|i| i as f32 - 7.0).collect();
    split_independent("dropout", &|n, o, off| unsafe {
        dropout(n, x.as_ptr().add(off), o, 0.3, s, off)
    });
}

/// Mean and variance of a sample, in f64.
fn moments(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[test]
fn uniform_is_exact_in_bounds_and_flat() {
    let s = stream();
    let n = 1_000_000;
    let v = fill(n, 0, &|n, o, off| unsafe { uniform(n, o, -2.0, 3.0, s, off) });
    for (i, &x) in v.iter().enumerate().take(64) {
        let w = s.block(i as u64 / 4, KIND_UNIFORM)[i % 4];
        let want = -2.0 + 5.0 * ((w >> 8) as f64 / 16_777_216.0);
        assert!((x as f64 - want).abs() <= 5e-7, "[{i}] {x} vs {want}");
    }
    assert!(v.iter().all(|&x| (-2.0..3.0).contains(&x)));
    let (mean, var) = moments(&v);
    // Standard errors: σ/√n for the mean, ~σ²·√(0.8/n) for the variance of a uniform.
    let (m, sd) = (0.5, 5.0 / 12f64.sqrt());
    assert!((mean - m).abs() < 5.0 * sd / (n as f64).sqrt(), "mean {mean}");
    assert!((var - sd * sd).abs() < 5.0 * sd * sd * (0.8 / n as f64).sqrt(), "var {var}");
    // Ten equal bins: chi-square with 9 degrees of freedom below its 0.999 quantile (27.9).
    let mut bins = [0f64; 10];
    v.iter().for_each(|&x| bins[((x + 2.0) / 0.5) as usize] += 1.0);
    let chi2: f64 = bins.iter().map(|&b| (b - n as f64 / 10.0).powi(2) / (n as f64 / 10.0)).sum();
    assert!(chi2 < 27.9, "chi2 {chi2} bins {bins:?}");
    // A span of one ulp: rounding up to hi is clamped away.
    let v = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, 1.0, 1.000_000_1, s, off) });
    assert!(v.iter().all(|&x| x == 1.0), "{:?}", &v[..8]);
    let v = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, -1e-3, 0.0, s, off) });
    assert!(v.iter().all(|&x| (-1e-3..0.0).contains(&x)));
}

/// Box–Muller in f64 from the same counter words: the reference of the normal kernel.
fn normal_reference(s: &Stream, i: usize, attempt: u32) -> f64 {
    let g = (i / 8) as u64;
    let (a, b) = (s.block(2 * g, KIND_NORMAL | attempt), s.block(2 * g + 1, KIND_NORMAL | attempt));
    let l = i % 4;
    let u1 = ((a[l] >> 8) + 1) as f64 / 16_777_216.0;
    let theta = 2.0 * std::f64::consts::PI * (b[l] >> 8) as f64 / 16_777_216.0;
    let r = (-2.0 * u1.ln()).sqrt();
    if i % 8 < 4 {
        r * theta.cos()
    } else {
        r * theta.sin()
    }
}

#[test]
fn normal_matches_box_muller_and_has_unit_moments() {
    let s = stream();
    let n = 1_000_000;
    let v = fill(n, 0, &|n, o, off| unsafe { normal(n, o, 0.0, 1.0, s, off) });
    let mut worst = 0f64;
    for (i, &x) in v.iter().enumerate().step_by(7) {
        worst = worst.max((x as f64 - normal_reference(&s, i, 0)).abs());
    }
    assert!(worst < 2e-6, "largest error against f64 Box–Muller: {worst}");
    let (mean, var) = moments(&v);
    let nf = n as f64;
    assert!(mean.abs() < 5.0 / nf.sqrt(), "mean {mean}");
    assert!((var - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "var {var}");
    // Mass within 1σ and 2σ (0.682689, 0.954500), within 5 binomial standard errors.
    for (k, p) in [(1.0f32, 0.682_689f64), (2.0, 0.954_500)] {
        let frac = v.iter().filter(|x| x.abs() < k).count() as f64 / nf;
        assert!((frac - p).abs() < 5.0 * (p * (1.0 - p) / nf).sqrt(), "P(|z|<{k}) = {frac}");
    }
    let scaled = fill(64, 0, &|n, o, off| unsafe { normal(n, o, 3.0, 0.5, s, off) });
    for (i, x) in scaled.iter().enumerate() {
        assert!((*x as f64 - (3.0 + 0.5 * v[i] as f64)).abs() < 1e-6);
    }
}

#[test]
fn truncated_normal_redraws_beyond_two_sigma() {
    let s = stream();
    let n = 1_000_000;
    let z = fill(n, 0, &|n, o, off| unsafe { normal(n, o, 0.0, 1.0, s, off) });
    let t = fill(n, 0, &|n, o, off| unsafe { truncated_normal(n, o, 0.0, 1.0, s, off) });
    let mut redrawn = 0;
    for i in 0..n {
        assert!(t[i].abs() <= 2.0, "[{i}] {}", t[i]);
        if z[i].abs() <= 2.0 {
            assert_eq!(t[i], z[i], "[{i}] kept values are the normal stream's");
        } else {
            redrawn += 1;
            if redrawn < 50 {
                // The first redraw is the attempt-1 stream unless that one is outside too.
                let r1 = normal_reference(&s, i, 1);
                if r1.abs() < 1.999 {
                    assert!((t[i] as f64 - r1).abs() < 2e-6, "[{i}] redraw");
                }
            }
        }
    }
    let p = 0.0455;
    let frac = redrawn as f64 / n as f64;
    assert!((frac - p).abs() < 5.0 * (p * (1.0 - p) / n as f64).sqrt(), "redrawn {frac}");
    // Variance of a standard normal truncated to [−2, 2]: 1 − 4φ(2)/(Φ(2) − Φ(−2)) = 0.773741.
    let (mean, var) = moments(&t);
    assert!(mean.abs() < 5.0 * (0.7737 / n as f64).sqrt(), "mean {mean}");
    assert!((var - 0.773_741).abs() < 0.004, "var {var}");
    let scaled = fill(1000, 0, &|n, o, off| unsafe { truncated_normal(n, o, -1.0, 0.1, s, off) });
    assert!(scaled.iter().all(|x| (-1.2..=-0.8).contains(x)));
}

#[test]
fn dropout_keeps_one_minus_rate_with_exact_scaling() {
    let s = stream();
    let n = 300_007; // large enough for a 5σ bound of ±0.5% on the kept fraction
    let x: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.37 - 11.0).collect();
    for rate in [0.0f32, 0.1, 0.5, 0.9] {
        let y = fill(n, 0, &|n, o, off| unsafe { dropout(n, x.as_ptr(), o, rate, s, off) });
        let mask = fill(n, 0, &|n, o, off| unsafe { dropout_mask(n, o, rate, s, off) });
        let keep = 1.0 - rate;
        let mut kept = 0usize;
        for i in 0..n {
            let w = s.block(i as u64 / 4, KIND_DROPOUT)[i % 4];
            let expect_keep = ((w >> 8) as f64 / 16_777_216.0) >= rate as f64;
            assert_eq!(mask[i] == 1.0, expect_keep, "rate {rate} [{i}] mask");
            if expect_keep {
                kept += 1;
                assert_eq!(y[i], x[i] / keep, "rate {rate} [{i}] scaling");
            } else {
                assert!(y[i] == 0.0 && mask[i] == 0.0, "rate {rate} [{i}] dropped");
            }
        }
        let p = keep as f64;
        let frac = kept as f64 / n as f64;
        assert!((frac - p).abs() <= 5.0 * (p * (1.0 - p) / n as f64).sqrt(), "kept {frac}");
        // Backward: the same call on dy applies the same mask and scale.
        let dy: Vec<f32> = (0..n).map(|i| (i % 13) as f32 - 6.0).collect();
        let dx = fill(n, 0, &|n, o, off| unsafe { dropout(n, dy.as_ptr(), o, rate, s, off) });
        for i in (0..n).step_by(101) {
            assert_eq!(dx[i], if mask[i] == 1.0 { dy[i] / keep } else { 0.0 });
        }
    }
    // Dropped infinities and NaNs give 0; kept ones propagate; in place works.
    let mut v = vec![f32::INFINITY; 64];
    v[1] = f32::NAN;
    let mask = fill(64, 0, &|n, o, off| unsafe { dropout_mask(n, o, 0.5, s, off) });
    unsafe { dropout(64, v.as_ptr(), v.as_mut_ptr(), 0.5, s, 0) };
    for i in 0..64 {
        if mask[i] == 0.0 {
            assert_eq!(v[i], 0.0);
        } else {
            assert!(if i == 1 { v[i].is_nan() } else { v[i] == f32::INFINITY });
        }
    }
}

#[test]
fn streams_and_seeds_and_kinds_are_unrelated() {
    let a = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, 0.0, 1.0, stream(), off) });
    for other in [Stream::new(0x1234_5678, 0x9abc, 8), Stream::new(0x1234_5679, 0x9abc, 7)] {
        let b = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, 0.0, 1.0, other, off) });
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert!(same < 3, "{same} equal values between streams");
        // Correlation near 0 (|r| < 5/√n).
        let r: f64 =
            a.iter().zip(&b).map(|(x, y)| (*x as f64 - 0.5) * (*y as f64 - 0.5)).sum::<f64>()
                / (1000.0 / 12.0);
        assert!(r.abs() < 5.0 / 1000f64.sqrt(), "correlation {r}");
    }
    let m = fill(1000, 0, &|n, o, off| unsafe { dropout_mask(n, o, 0.5, stream(), off) });
    let agree = a.iter().zip(&m).filter(|(u, k)| (**u >= 0.5) == (**k == 1.0)).count();
    assert!((agree as f64 - 500.0).abs() < 5.0 * 250f64.sqrt(), "dropout mirrors uniform");
}
