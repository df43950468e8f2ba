//! Host tests of `rnn.rs`: every kernel against a plain f64 reference of the Keras equations, over
//! unit counts around the vector width (1..=9, 16, 17) and several batch sizes, outputs pre-filled
//! with NaN so that an unwritten cell fails; the backward steps also against central finite
//! differences of the f64 forward step.

use super::*;

/// Deterministic values in [lo, hi) (xorshift).
fn data(n: usize, seed: u32, lo: f64, hi: f64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (lo + (hi - lo) * (s as f64 / u32::MAX as f64)) as f32
        })
        .collect()
}

fn check(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= tol.max(tol * w.abs()),
            "{what} [{i}]: got {g:e}, want {w:e}"
        );
    }
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

const SIZES: [usize; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17];

/// f64 LSTM step: (gates i f g o, c, h).
fn lstm_ref(b: usize, u: usize, z: &[f32], cp: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut g = vec![0.0; b * 4 * u];
    let mut c = vec![0.0; b * u];
    let mut h = vec![0.0; b * u];
    for r in 0..b {
        for j in 0..u {
            let zz = |k: usize| z[r * 4 * u + k * u + j] as f64;
            let (i, f, gg, o) = (sig(zz(0)), sig(zz(1)), zz(2).tanh(), sig(zz(3)));
            let cn = f * cp[r * u + j] as f64 + i * gg;
            for (k, v) in [i, f, gg, o].iter().enumerate() {
                g[r * 4 * u + k * u + j] = *v;
            }
            c[r * u + j] = cn;
            h[r * u + j] = o * cn.tanh();
        }
    }
    (g, c, h)
}

#[test]
fn lstm_forward_matches_f64() {
    for &b in &[1usize, 3] {
        for &u in &SIZES {
            let z0 = data(b * 4 * u, (b * 100 + u) as u32, -3.0, 3.0);
            let cp = data(b * u, (b * 7 + u) as u32, -2.0, 2.0);
            let (g, c, h) = lstm_ref(b, u, &z0, &cp);
            let mut z = z0.clone();
            let mut cg = vec![f32::NAN; b * u];
            let mut hg = vec![f32::NAN; b * u];
            unsafe {
                lstm_forward_step(
                    b,
                    u,
                    z.as_mut_ptr(),
                    cp.as_ptr(),
                    cg.as_mut_ptr(),
                    hg.as_mut_ptr(),
                    GATE_SIGMOID,
                )
            };
            check(&z, &g, 1e-6, &format!("lstm gates b{b} u{u}"));
            check(&cg, &c, 1e-6, &format!("lstm c b{b} u{u}"));
            check(&hg, &h, 1e-6, &format!("lstm h b{b} u{u}"));
        }
    }
}

/// Central differences of an f64 objective: `f(i, e)` evaluates it with input i shifted by e.
fn fd(n: usize, mut f: impl FnMut(usize, f64) -> f64) -> Vec<f64> {
    let eps = 1e-3;
    (0..n).map(|i| (f(i, eps) - f(i, -eps)) / (2.0 * eps)).collect()
}

#[test]
fn lstm_backward_matches_finite_differences() {
    for &b in &[1usize, 2] {
        for &u in &SIZES {
            let z0 = data(b * 4 * u, (b * 31 + u) as u32, -2.0, 2.0);
            let cp = data(b * u, (b * 5 + u) as u32, -1.5, 1.5);
            let dh = data(b * u, (b * 11 + u) as u32, -1.0, 1.0);
            let dc0 = data(b * u, (b * 13 + u) as u32, -1.0, 1.0);
            // The objective in f64 with z perturbed: f32 inputs promoted, one entry shifted.
            let obj = |zp: &[f64], cpp: &[f64]| {
                let mut s = 0.0;
                for r in 0..b {
                    for j in 0..u {
                        let zz = |k: usize| zp[r * 4 * u + k * u + j];
                        let (i, f, g, o) = (sig(zz(0)), sig(zz(1)), zz(2).tanh(), sig(zz(3)));
                        let c = f * cpp[r * u + j] + i * g;
                        s += dh[r * u + j] as f64 * o * c.tanh() + dc0[r * u + j] as f64 * c;
                    }
                }
                s
            };
            let z64: Vec<f64> = z0.iter().map(|&v| v as f64).collect();
            let c64: Vec<f64> = cp.iter().map(|&v| v as f64).collect();
            let want_dz = fd(z64.len(), |i, e| {
                let mut zp = z64.clone();
                zp[i] += e;
                obj(&zp, &c64)
            });
            let want_dcp = fd(c64.len(), |i, e| {
                let mut cpp = c64.clone();
                cpp[i] += e;
                obj(&z64, &cpp)
            });
            let mut gates = z0.clone();
            let mut c = vec![0.0f32; b * u];
            let mut h = vec![0.0f32; b * u];
            let mut dc = dc0.clone();
            unsafe {
                lstm_forward_step(
                    b,
                    u,
                    gates.as_mut_ptr(),
                    cp.as_ptr(),
                    c.as_mut_ptr(),
                    h.as_mut_ptr(),
                    GATE_SIGMOID,
                );
                lstm_backward_step(
                    b,
                    u,
                    gates.as_mut_ptr(),
                    cp.as_ptr(),
                    c.as_ptr(),
                    dh.as_ptr(),
                    dc.as_mut_ptr(),
                    GATE_SIGMOID,
                );
            }
            check(&gates, &want_dz, 2e-5, &format!("lstm dz b{b} u{u}"));
            check(&dc, &want_dcp, 2e-5, &format!("lstm dc_prev b{b} u{u}"));
        }
    }
}

/// The hard sigmoid gate (tfjs' default recurrentActivation) in the LSTM and GRU steps: forward
/// against f64, backward against finite differences (inputs kept off the kinks at ±2.5).
#[test]
fn hard_sigmoid_gates_match_f64_and_finite_differences() {
    let hs = |x: f64| (0.2 * x + 0.5).clamp(0.0, 1.0);
    for &u in &SIZES {
        let b = 2;
        let seed = (u * 17) as u32;
        // Values in ±4 cross the clipped regions; nudge any that lie within 1e-2 of a kink.
        let off = |v: Vec<f32>| {
            v.into_iter()
                .map(|x| if ((x.abs() - 2.5) as f64).abs() < 1e-2 { x + 0.05 } else { x })
                .collect::<Vec<f32>>()
        };
        let z0 = off(data(b * 4 * u, seed, -4.0, 4.0));
        let cp = data(b * u, seed + 1, -1.0, 1.0);
        let dh = data(b * u, seed + 2, -1.0, 1.0);
        let obj = |z: &[f64]| {
            let mut s = 0.0;
            for r in 0..b {
                for j in 0..u {
                    let zz = |k: usize| z[r * 4 * u + k * u + j];
                    let c = hs(zz(1)) * cp[r * u + j] as f64 + hs(zz(0)) * zz(2).tanh();
                    s += dh[r * u + j] as f64 * hs(zz(3)) * c.tanh();
                }
            }
            s
        };
        let z64: Vec<f64> = z0.iter().map(|&v| v as f64).collect();
        let want_dz = fd(z64.len(), |i, e| {
            let mut v = z64.clone();
            v[i] += e;
            obj(&v)
        });
        let mut z = z0.clone();
        let mut c = vec![f32::NAN; b * u];
        let mut h = vec![f32::NAN; b * u];
        let mut dc = vec![0.0f32; b * u];
        unsafe {
            lstm_forward_step(
                b,
                u,
                z.as_mut_ptr(),
                cp.as_ptr(),
                c.as_mut_ptr(),
                h.as_mut_ptr(),
                GATE_HARD_SIGMOID,
            );
        }
        let want_h: Vec<f64> = (0..b * u)
            .map(|i| {
                let (r, j) = (i / u, i % u);
                let zz = |k: usize| z64[r * 4 * u + k * u + j];
                let c = hs(zz(1)) * cp[i] as f64 + hs(zz(0)) * zz(2).tanh();
                hs(zz(3)) * c.tanh()
            })
            .collect();
        check(&h, &want_h, 1e-6, &format!("hard lstm h u{u}"));
        unsafe {
            lstm_backward_step(
                b,
                u,
                z.as_mut_ptr(),
                cp.as_ptr(),
                c.as_ptr(),
                dh.as_ptr(),
                dc.as_mut_ptr(),
                GATE_HARD_SIGMOID,
            );
        }
        check(&z, &want_dz, 2e-5, &format!("hard lstm dz u{u}"));
    }
}

#[test]
fn copy_rows_3d_transposes_and_reverses() {
    for &len in &[1usize, 3, 4, 5, 8, 9] {
        let (bt, tt) = (3usize, 5usize);
        let src: Vec<f32> = (0..bt * tt * len).map(|v| v as f32).collect();
        // [b, t, len] → [t, b, len]
        let mut dst = vec![f32::NAN; bt * tt * len];
        unsafe {
            copy_rows_3d(
                bt,
                tt,
                len,
                src.as_ptr(),
                (tt * len) as isize,
                len as isize,
                dst.as_mut_ptr(),
                len as isize,
                (bt * len) as isize,
            )
        };
        for b in 0..bt {
            for t in 0..tt {
                for k in 0..len {
                    assert_eq!(dst[(t * bt + b) * len + k], src[(b * tt + t) * len + k]);
                }
            }
        }
        // Reversed time: dst[t', b] = src[b, T−1−t'] through a negative source stride.
        let mut rev = vec![f32::NAN; bt * tt * len];
        unsafe {
            copy_rows_3d(
                bt,
                tt,
                len,
                src.as_ptr().add((tt - 1) * len),
                (tt * len) as isize,
                -(len as isize),
                rev.as_mut_ptr(),
                len as isize,
                (bt * len) as isize,
            )
        };
        for b in 0..bt {
            for t in 0..tt {
                for k in 0..len {
                    assert_eq!(rev[(t * bt + b) * len + k], src[(b * tt + tt - 1 - t) * len + k]);
                }
            }
        }
    }
}

#[test]
fn scatter_add_rows_sums_duplicates() {
    for &len in &[1usize, 3, 4, 5, 8, 13] {
        let idx = [2u32, 0, 2, 4, 2];
        let src = data(idx.len() * len, len as u32, -1.0, 1.0);
        let init = data(5 * len, 99, -1.0, 1.0);
        let mut dst = init.clone();
        unsafe { scatter_add_rows(idx.len(), idx.as_ptr(), len, src.as_ptr(), dst.as_mut_ptr()) };
        let mut want: Vec<f64> = init.iter().map(|&v| v as f64).collect();
        for (r, &i) in idx.iter().enumerate() {
            for k in 0..len {
                want[i as usize * len + k] += src[r * len + k] as f64;
            }
        }
        check(&dst, &want, 1e-6, &format!("scatter len {len}"));
    }
}

#[path = "rnn_gru_tests.rs"]
mod gru;
