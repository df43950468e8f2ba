//! Host tests of `optim.rs` (a child module of it, kept in its own file so each stays readable).

use super::*;

// Sizes around the vector width, a block edge of the sums, and a large odd size.
const SIZES: [usize; 14] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 17, 1023, 1025, 2053];
const STEPS: usize = 5;

/// Deterministic values in [lo, hi), different for every (seed, index).
fn data(len: usize, seed: u32, lo: f32, hi: f32) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let h = (i as u32 ^ seed.wrapping_mul(0x9e37_79b9)).wrapping_mul(0x85eb_ca6b);
            let h = (h ^ (h >> 13)).wrapping_mul(0xc2b2_ae35);
            lo + (hi - lo) * ((h ^ (h >> 16)) >> 8) as f32 / 16_777_216.0
        })
        .collect()
}

fn close(got: &[f32], want: &[f64], atol: f64, rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= atol.max(rtol * w.abs().max(g.abs() as f64)),
            "{what}: [{i}] of {}: expected {w}, got {g}",
            got.len()
        );
    }
}

fn f64s(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// Buffers with one guard value on each side, so a kernel writing past its range is caught.
struct Guarded(Vec<f32>);
const GUARD: f32 = -12345.5;
impl Guarded {
    fn new(v: &[f32]) -> Self {
        let mut b = vec![GUARD];
        b.extend_from_slice(v);
        b.push(GUARD);
        Guarded(b)
    }
    fn ptr(&mut self) -> *mut f32 {
        unsafe { self.0.as_mut_ptr().add(1) }
    }
    fn get(&self) -> &[f32] {
        assert!(self.0[0] == GUARD && self.0[self.0.len() - 1] == GUARD, "guard overwritten");
        &self.0[1..self.0.len() - 1]
    }
}

/// A kernel under test: (step t, n, p, g, state pointers).
type Kernel<'a> = dyn Fn(usize, usize, *mut f32, *const f32, &[*mut f32]) + 'a;
/// Its f64 reference for one element: (step t, p, g, states), updated in place.
type Reference<'a> = dyn Fn(usize, &mut f64, f64, &mut [f64]) + 'a;

/// Runs `STEPS` steps of a kernel (`run`) and of its f64 reference (`reference`, which maps
/// (step t, p, g, states) in place) on fresh gradients every step, comparing every buffer.
fn check(
    name: &str,
    states: usize,
    init: f32,
    tol: (f64, f64),
    run: &Kernel<'_>,
    reference: &Reference<'_>,
) {
    for &n in SIZES.iter() {
        let mut p = Guarded::new(&data(n, 1, -1.0, 1.0));
        let mut st: Vec<Guarded> = (0..states).map(|_| Guarded::new(&vec![init; n])).collect();
        let mut rp = f64s(p.get());
        let mut rs = vec![vec![init as f64; n]; states];
        for t in 1..=STEPS {
            let g = data(n, 100 + t as u32, -2.0, 2.0);
            let ptrs: Vec<*mut f32> = st.iter_mut().map(|s| s.ptr()).collect();
            run(t, n, p.ptr(), g.as_ptr(), &ptrs);
            for i in 0..n {
                let mut s: Vec<f64> = rs.iter().map(|b| b[i]).collect();
                reference(t, &mut rp[i], g[i] as f64, &mut s);
                for (b, v) in rs.iter_mut().zip(s) {
                    b[i] = v;
                }
            }
            close(p.get(), &rp, tol.0, tol.1, &format!("{name} p, n={n}, step {t}"));
            for (k, s) in st.iter().enumerate() {
                close(s.get(), &rs[k], tol.0, tol.1, &format!("{name} state {k}, n={n}, t={t}"));
            }
        }
    }
}

const TOL: (f64, f64) = (1e-6, 2e-6);

#[test]
fn sgd_variants_match_keras_formulas() {
    let lr = 0.1f32;
    check("sgd", 0, 0.0, TOL, &|_, n, p, g, _| unsafe { sgd(n, p, g, lr) }, &|_, p, g, _| {
        *p -= lr as f64 * g
    });
    let (lr, mo) = (0.05f32, 0.9f32);
    check(
        "sgd_momentum",
        1,
        0.0,
        TOL,
        &|_, n, p, g, s| unsafe { sgd_momentum(n, p, g, s[0], lr, mo) },
        &|_, p, g, s| {
            s[0] = mo as f64 * s[0] - lr as f64 * g;
            *p += s[0];
        },
    );
    check(
        "sgd_nesterov",
        1,
        0.0,
        TOL,
        &|_, n, p, g, s| unsafe { sgd_nesterov(n, p, g, s[0], lr, mo) },
        &|_, p, g, s| {
            s[0] = mo as f64 * s[0] - lr as f64 * g;
            *p += mo as f64 * s[0] - lr as f64 * g;
        },
    );
}

/// Keras Adam in f64 for step t, as published (Kingma & Ba, with Keras's epsilon-hat).
fn adam_ref(t: usize, p: &mut f64, g: f64, s: &mut [f64], h: (f64, f64, f64, f64, f64)) {
    let (lr, b1, b2, eps, wd) = h;
    *p -= lr * wd * *p;
    s[0] = b1 * s[0] + (1.0 - b1) * g;
    s[1] = b2 * s[1] + (1.0 - b2) * g * g;
    let denom = if s.len() > 2 {
        s[2] = s[2].max(s[1]);
        s[2]
    } else {
        s[1]
    };
    let lr_t = lr * (1.0 - b2.powi(t as i32)).sqrt() / (1.0 - b1.powi(t as i32));
    *p -= lr_t * s[0] / (denom.sqrt() + eps);
}

#[test]
fn adam_adamw_amsgrad_match_keras_formulas() {
    let (lr, b1, b2, eps) = (0.01f32, 0.9f32, 0.999f32, 1e-7f32);
    for (wd, ams) in [(0.0f32, false), (0.0, true), (0.04, false), (0.04, true)] {
        let h = (lr as f64, b1 as f64, b2 as f64, eps as f64, wd as f64);
        check(
            &format!("adam wd={wd} amsgrad={ams}"),
            if ams { 3 } else { 2 },
            0.0,
            (1e-6, 1e-5),
            &|t, n, p, g, s| unsafe {
                let (b1t, b2t) =
                    (1.0 - (b1 as f64).powi(t as i32), 1.0 - (b2 as f64).powi(t as i32));
                let lr_t = (lr as f64 * b2t.sqrt() / b1t) as f32;
                let vhat = if ams { s[2] } else { core::ptr::null_mut() };
                adam(n, p, g, s[0], s[1], vhat, lr_t, b1, b2, eps, lr * wd)
            },
            &|t, p, g, s| adam_ref(t, p, g, s, h),
        );
    }
}

#[test]
fn adamax_and_nadam_match_keras_formulas() {
    let (lr, b1, b2, eps) = (0.01f32, 0.9f32, 0.999f32, 1e-7f32);
    let (lrd, b1d, b2d, epsd) = (lr as f64, b1 as f64, b2 as f64, eps as f64);
    check(
        "adamax",
        2,
        0.0,
        (1e-6, 1e-5),
        &|t, n, p, g, s| unsafe {
            let lr_t = (lrd / (1.0 - b1d.powi(t as i32))) as f32;
            adamax(n, p, g, s[0], s[1], lr_t, b1, b2, eps)
        },
        &|t, p, g, s| {
            s[0] = b1d * s[0] + (1.0 - b1d) * g;
            s[1] = (b2d * s[1]).max(g.abs());
            *p -= lrd * s[0] / ((1.0 - b1d.powi(t as i32)) * (s[1] + epsd));
        },
    );
    // Keras: u_t = β1(1 − ½·0.96ᵗ); Π_t = u_1⋯u_t.
    let u = |t: usize| b1d * (1.0 - 0.5 * 0.96f64.powi(t as i32));
    let prod = move |t: usize| (1..=t).map(u).product::<f64>();
    check(
        "nadam",
        2,
        0.0,
        (1e-6, 1e-5),
        &|t, n, p, g, s| unsafe {
            let c_m = lrd * u(t + 1) / (1.0 - prod(t) * u(t + 1));
            let c_g = lrd * (1.0 - u(t)) / (1.0 - prod(t));
            let vs = 1.0 / (1.0 - b2d.powi(t as i32));
            nadam(n, p, g, s[0], s[1], c_m as f32, c_g as f32, b1, b2, vs as f32, eps)
        },
        &|t, p, g, s| {
            s[0] = b1d * s[0] + (1.0 - b1d) * g;
            s[1] = b2d * s[1] + (1.0 - b2d) * g * g;
            let m_hat = u(t + 1) * s[0] / (1.0 - prod(t + 1)) + (1.0 - u(t)) * g / (1.0 - prod(t));
            let v_hat = s[1] / (1.0 - b2d.powi(t as i32));
            *p -= m_hat * lrd / (v_hat.sqrt() + epsd);
        },
    );
}

#[test]
fn rmsprop_all_four_variants_match_keras_formula() {
    let (lr, rho, eps) = (0.01f32, 0.9f32, 1e-7f32);
    for (centered, momentum) in [(false, 0.0f32), (false, 0.8), (true, 0.0), (true, 0.8)] {
        let (lrd, r, mu, e) = (lr as f64, rho as f64, momentum as f64, eps as f64);
        check(
            &format!("rmsprop centered={centered} momentum={momentum}"),
            3,
            0.0,
            (1e-6, 1e-5),
            &|_, n, p, g, s| unsafe {
                let mg = if centered { s[1] } else { core::ptr::null_mut() };
                let mom = if momentum > 0.0 { s[2] } else { core::ptr::null_mut() };
                rmsprop(n, p, g, s[0], mg, mom, lr, rho, momentum, eps)
            },
            &|_, p, g, s| {
                s[0] = r * s[0] + (1.0 - r) * g * g;
                let d = if centered {
                    s[1] = r * s[1] + (1.0 - r) * g;
                    s[0] - s[1] * s[1] + e
                } else {
                    s[0] + e
                };
                let inc = lrd * g / d.sqrt();
                if momentum > 0.0 {
                    s[2] = mu * s[2] + inc;
                    *p -= s[2];
                } else {
                    *p -= inc;
                }
            },
        );
    }
}

#[test]
fn adagrad_and_adadelta_match_keras_formulas() {
    let (lr, eps) = (0.05f32, 1e-7f32);
    check(
        "adagrad",
        1,
        0.1,
        TOL,
        &|_, n, p, g, s| unsafe { adagrad(n, p, g, s[0], lr, eps) },
        &|_, p, g, s| {
            s[0] += g * g;
            *p -= lr as f64 * g / (s[0] + eps as f64).sqrt();
        },
    );
    let (lr, rho, eps) = (1.0f32, 0.95f32, 1e-6f32);
    let (lrd, r, e) = (lr as f64, rho as f64, eps as f64);
    check(
        "adadelta",
        2,
        0.0,
        (1e-6, 1e-5),
        &|_, n, p, g, s| unsafe { adadelta(n, p, g, s[0], s[1], lr, rho, eps) },
        &|_, p, g, s| {
            s[0] = r * s[0] + (1.0 - r) * g * g;
            let delta = -(s[1] + e).sqrt() * g / (s[0] + e).sqrt();
            s[1] = r * s[1] + (1.0 - r) * delta * delta;
            *p += lrd * delta;
        },
    );
    check(
        "weight_decay",
        0,
        0.0,
        TOL,
        &|_, n, p, _, _| unsafe { weight_decay(n, p, 0.01) },
        &|_, p, _, _| *p -= 0.01f32 as f64 * *p,
    );
}

#[test]
fn penalty_value_and_gradient_match_l1l2() {
    let (l1, l2) = (0.01f32, 0.003f32);
    for &n in SIZES.iter() {
        let mut p = data(n, 7, -3.0, 3.0);
        if n > 2 {
            p[1] = 0.0;
            p[2] = -0.0;
        }
        let g0 = data(n, 8, -1.0, 1.0);
        let mut g = Guarded::new(&g0);
        unsafe { add_penalty_grad(n, p.as_ptr(), g.ptr(), l1, l2) };
        let want: Vec<f64> = (0..n)
            .map(|i| {
                let x = p[i] as f64;
                let sign = if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                g0[i] as f64 + l1 as f64 * sign + 2.0 * l2 as f64 * x
            })
            .collect();
        close(g.get(), &want, 1e-7, 1e-6, &format!("penalty grad n={n}"));
        let value = unsafe { penalty(n, p.as_ptr(), l1, l2) };
        let want: f64 =
            p.iter().map(|&x| l1 as f64 * (x as f64).abs() + l2 as f64 * (x as f64).powi(2)).sum();
        close(&[value], &[want], 1e-7, 1e-6, &format!("penalty value n={n}"));
    }
    // A million elements: the blocked f64 accumulation keeps the sum accurate.
    let p = data(1_000_003, 9, -1.0, 1.0);
    let want: f64 = p.iter().map(|&x| (x as f64).abs() + 0.5 * (x as f64).powi(2)).sum();
    close(&[unsafe { penalty(p.len(), p.as_ptr(), 1.0, 0.5) }], &[want], 0.0, 1e-6, "1e6");
    // Tiny and special values: sign of the smallest subnormal is 1; NaN propagates.
    let p = [1e-45f32, -1e-45, f32::INFINITY, f32::NAN, 5.0];
    let mut g = [0.0f32; 5];
    unsafe { add_penalty_grad(5, p.as_ptr(), g.as_mut_ptr(), 1.0, 0.0) };
    assert_eq!(&g[..3], &[1.0, -1.0, 1.0]);
    assert!(g[3].is_nan() && g[4] == 1.0);
}

#[test]
fn clipping_by_value_norm_and_global_norm() {
    for &n in SIZES.iter() {
        let g0 = data(n, 11, -3.0, 3.0);
        let mut g = Guarded::new(&g0);
        unsafe { clip_by_value(n, g.ptr(), -0.5, 1.0) };
        let want: Vec<f64> = g0.iter().map(|&x| (x as f64).clamp(-0.5, 1.0)).collect();
        close(g.get(), &want, 0.0, 0.0, &format!("clip_by_value n={n}"));

        let norm: f64 = g0.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        for clip in [0.5f32, 1e6] {
            let mut g = Guarded::new(&g0);
            let got = unsafe { clip_by_norm(n, g.ptr(), clip) };
            close(&[got], &[norm], 1e-6, 1e-6, &format!("norm n={n}"));
            let s = clip as f64 / norm.max(clip as f64);
            let want: Vec<f64> = g0.iter().map(|&x| x as f64 * s).collect();
            close(g.get(), &want, 1e-7, 2e-6, &format!("clip_by_norm n={n} clip={clip}"));
            if clip > 1e5 {
                assert_eq!(g.get(), &g0[..], "no clipping below the threshold leaves g as is");
            }
        }
        // Global norm over two ranges: norms combined, then each range rescaled.
        let h = n / 2;
        let mut g = Guarded::new(&g0);
        let total = unsafe {
            let s1 = penalty(h, g.ptr(), 0.0, 1.0) as f64;
            let s2 = penalty(n - h, g.ptr().add(h), 0.0, 1.0) as f64;
            (s1 + s2).sqrt() as f32
        };
        unsafe {
            clip_scale(h, g.ptr(), total, 1.0);
            clip_scale(n - h, g.ptr().add(h), total, 1.0);
        }
        let s = 1.0 / norm.max(1.0);
        let want: Vec<f64> = g0.iter().map(|&x| x as f64 * s).collect();
        close(g.get(), &want, 1e-7, 2e-6, &format!("global norm n={n}"));
    }
    // Huge gradients: Σg² overflows f32 but the norm stays finite.
    let mut g = [1e18f32, 1e18, 1e18, 1e18, 1e18];
    let norm = unsafe { clip_by_norm(5, g.as_mut_ptr(), 1.0) };
    close(&[norm], &[5f64.sqrt() * 1e18], 0.0, 1e-6, "huge norm");
    close(&g, &[1.0 / 5f64.sqrt(); 5], 0.0, 1e-6, "huge clipped");
    // A NaN gradient poisons the whole clipped buffer, as tf.clip_by_global_norm does.
    let mut g = [1.0f32, f32::NAN, 2.0];
    assert!(unsafe { clip_by_norm(3, g.as_mut_ptr(), 1.0) }.is_nan());
    assert!(g.iter().all(|x| x.is_nan()));
    // An infinite norm zeroes finite gradients; the infinite one becomes NaN (∞·0).
    let mut g = [f32::INFINITY, 1.0, -2.0];
    assert_eq!(unsafe { clip_by_norm(3, g.as_mut_ptr(), 1.0) }, f32::INFINITY);
    assert!(g[0].is_nan() && g[1] == 0.0 && g[2] == 0.0);
}

#[test]
fn unaligned_subranges_update_only_their_elements() {
    // Updating [3, 3 + 10) of a 16-element buffer leaves the rest as it was.
    let p0 = data(16, 21, -1.0, 1.0);
    let g = data(16, 22, -1.0, 1.0);
    let mut p = p0.clone();
    let (mut m, mut v) = (vec![0.0f32; 16], vec![0.0f32; 16]);
    unsafe {
        let (pp, mp, vp) = (p.as_mut_ptr().add(3), m.as_mut_ptr().add(3), v.as_mut_ptr().add(3));
        adam(10, pp, g.as_ptr().add(3), mp, vp, core::ptr::null_mut(), 0.1, 0.9, 0.999, 1e-7, 0.0);
    }
    for i in 0..16 {
        let inside = (3..13).contains(&i);
        assert_eq!(p[i] != p0[i], inside, "p[{i}]");
        assert_eq!(m[i] != 0.0, inside, "m[{i}]");
    }
}
