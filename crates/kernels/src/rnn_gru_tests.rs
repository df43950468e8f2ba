//! Host tests of the GRU step kernels (reset gate after and before the recurrent product)
//! against f64 references and finite differences; helpers from [`super`].

use super::*;
use core::ptr::{null, null_mut};

/// f64 GRU (reset_after) objective Σ dh·h from x-projections, recurrent products, bias, h_prev.
fn gru_obj(
    b: usize,
    u: usize,
    x: &[f64],
    rec: &[f64],
    brec: &[f64],
    hp: &[f64],
    dh: &[f32],
) -> (f64, Vec<f64>) {
    let mut s = 0.0;
    let mut h = vec![0.0; b * u];
    for r in 0..b {
        for j in 0..u {
            let xx = |k: usize| x[r * 3 * u + k * u + j];
            let rr = |k: usize| rec[r * 3 * u + k * u + j] + brec[k * u + j];
            let z = sig(xx(0) + rr(0));
            let g = sig(xx(1) + rr(1));
            let hh = (xx(2) + g * rr(2)).tanh();
            let hn = z * hp[r * u + j] + (1.0 - z) * hh;
            h[r * u + j] = hn;
            s += dh[r * u + j] as f64 * hn;
        }
    }
    (s, h)
}

#[test]
fn gru_forward_and_backward_match_f64_and_finite_differences() {
    for &b in &[1usize, 3] {
        for &u in &SIZES {
            let seed = (b * 97 + u) as u32;
            let x0 = data(b * 3 * u, seed, -2.0, 2.0);
            let rec0 = data(b * 3 * u, seed + 1, -2.0, 2.0);
            let brec = data(3 * u, seed + 2, -0.5, 0.5);
            let hp = data(b * u, seed + 3, -1.0, 1.0);
            let dh = data(b * u, seed + 4, -1.0, 1.0);
            let dhp0 = data(b * u, seed + 5, -1.0, 1.0);
            let p = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
            let (x64, r64, b64, h64) = (p(&x0), p(&rec0), p(&brec), p(&hp));
            let (_, want_h) = gru_obj(b, u, &x64, &r64, &b64, &h64, &dh);
            let mut x = x0.clone();
            let mut rec = rec0.clone();
            let mut h = vec![f32::NAN; b * u];
            unsafe {
                gru_forward_step(
                    b,
                    u,
                    x.as_mut_ptr(),
                    rec.as_mut_ptr(),
                    brec.as_ptr(),
                    hp.as_ptr(),
                    h.as_mut_ptr(),
                    GATE_SIGMOID,
                )
            };
            check(&h, &want_h, 1e-6, &format!("gru h b{b} u{u}"));
            let want_dx = fd(x64.len(), |i, e| {
                let mut v = x64.clone();
                v[i] += e;
                gru_obj(b, u, &v, &r64, &b64, &h64, &dh).0
            });
            let want_drec = fd(r64.len(), |i, e| {
                let mut v = r64.clone();
                v[i] += e;
                gru_obj(b, u, &x64, &v, &b64, &h64, &dh).0
            });
            let want_dhp: Vec<f64> = fd(h64.len(), |i, e| {
                let mut v = h64.clone();
                v[i] += e;
                gru_obj(b, u, &x64, &r64, &b64, &v, &dh).0
            });
            let mut dhp = dhp0.clone();
            unsafe {
                gru_backward_step(
                    b,
                    u,
                    x.as_mut_ptr(),
                    rec.as_mut_ptr(),
                    hp.as_ptr(),
                    dh.as_ptr(),
                    dhp.as_mut_ptr(),
                    GATE_SIGMOID,
                )
            };
            check(&x, &want_dx, 2e-5, &format!("gru dx b{b} u{u}"));
            check(&rec, &want_drec, 2e-5, &format!("gru drec b{b} u{u}"));
            // The kernel adds only the direct part dh·z; the recurrent part drec·Uᵀ is a gemm, and
            // the FD above treats rec as independent of h_prev, so it is exactly the direct part.
            let want: Vec<f64> = (0..b * u).map(|i| dhp0[i] as f64 + want_dhp[i]).collect();
            check(&dhp, &want, 2e-5, &format!("gru dh_prev b{b} u{u}"));
            // Without a recurrent bias and without dh_prev.
            let mut x = x0.clone();
            let mut rec = rec0.clone();
            let zero = vec![0.0; 3 * u];
            let (_, want_h) = gru_obj(b, u, &x64, &r64, &zero, &h64, &dh);
            unsafe {
                gru_forward_step(
                    b,
                    u,
                    x.as_mut_ptr(),
                    rec.as_mut_ptr(),
                    null(),
                    hp.as_ptr(),
                    h.as_mut_ptr(),
                    GATE_SIGMOID,
                );
                gru_backward_step(
                    b,
                    u,
                    x.as_mut_ptr(),
                    rec.as_mut_ptr(),
                    hp.as_ptr(),
                    dh.as_ptr(),
                    null_mut(),
                    GATE_SIGMOID,
                );
            }
            check(&h, &want_h, 1e-6, &format!("gru h (no bias) b{b} u{u}"));
        }
    }
}

/// f64 GRU (reset_after = false) step objective Σ dh·h from x-projections, h_prev·U_{z,r} (`rzr`,
/// [b, 2u]), h_prev and U_h.
fn gru_rb_obj(
    b: usize,
    u: usize,
    x: &[f64],
    rzr: &[f64],
    hp: &[f64],
    uh: &[f64],
    dh: &[f32],
) -> (f64, Vec<f64>) {
    let mut s = 0.0;
    let mut h = vec![0.0; b * u];
    for r in 0..b {
        let rs: Vec<f64> =
            (0..u).map(|j| sig(x[r * 3 * u + u + j] + rzr[r * 2 * u + u + j])).collect();
        for j in 0..u {
            let z = sig(x[r * 3 * u + j] + rzr[r * 2 * u + j]);
            let a = x[r * 3 * u + 2 * u + j]
                + (0..u).map(|q| rs[q] * hp[r * u + q] * uh[q * u + j]).sum::<f64>();
            let hn = z * hp[r * u + j] + (1.0 - z) * a.tanh();
            h[r * u + j] = hn;
            s += dh[r * u + j] as f64 * hn;
        }
    }
    (s, h)
}

#[test]
fn gru_reset_before_steps_match_f64_and_finite_differences() {
    for &b in &[1usize, 2] {
        for &u in &SIZES {
            let seed = (b * 53 + u) as u32;
            let x0 = data(b * 3 * u, seed, -2.0, 2.0);
            let rzr = data(b * 2 * u, seed + 1, -2.0, 2.0);
            let hp = data(b * u, seed + 2, -1.0, 1.0);
            let uh = data(u * u, seed + 3, -0.7, 0.7);
            let dh = data(b * u, seed + 4, -1.0, 1.0);
            let dhp0 = data(b * u, seed + 5, -1.0, 1.0);
            let p = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
            let (x64, r64, h64, u64_) = (p(&x0), p(&rzr), p(&hp), p(&uh));
            // Forward: gates, the (r·h_prev)·U_h gemm done here, output.
            let mut x = x0.clone();
            let mut rec = vec![f32::NAN; b * 3 * u];
            for r in 0..b {
                rec[r * 3 * u..r * 3 * u + 2 * u].copy_from_slice(&rzr[r * 2 * u..(r + 1) * 2 * u]);
            }
            let mut h = vec![f32::NAN; b * u];
            unsafe {
                gru_reset_before_gates(
                    b,
                    u,
                    x.as_mut_ptr(),
                    rec.as_mut_ptr(),
                    hp.as_ptr(),
                    GATE_SIGMOID,
                )
            };
            for r in 0..b {
                for j in 0..u {
                    let add: f32 = (0..u).map(|q| rec[r * 3 * u + 2 * u + q] * uh[q * u + j]).sum();
                    x[r * 3 * u + 2 * u + j] += add;
                }
            }
            unsafe { gru_reset_before_output(b, u, x.as_mut_ptr(), hp.as_ptr(), h.as_mut_ptr()) };
            let (_, want_h) = gru_rb_obj(b, u, &x64, &r64, &h64, &u64_, &dh);
            check(&h, &want_h, 2e-6, &format!("gru rb h b{b} u{u}"));
            // Backward: output half, drh = da_h·U_hᵀ here, gates half.
            let mut dhp = dhp0.clone();
            unsafe {
                gru_reset_before_backward_output(
                    b,
                    u,
                    x.as_mut_ptr(),
                    hp.as_ptr(),
                    dh.as_ptr(),
                    dhp.as_mut_ptr(),
                    GATE_SIGMOID,
                )
            };
            let mut drh = vec![0.0f32; b * u];
            for r in 0..b {
                for q in 0..u {
                    drh[r * u + q] = (0..u).map(|j| x[r * 3 * u + 2 * u + j] * uh[q * u + j]).sum();
                }
            }
            unsafe {
                gru_reset_before_backward_gates(
                    b,
                    u,
                    x.as_mut_ptr(),
                    hp.as_ptr(),
                    drh.as_ptr(),
                    dhp.as_mut_ptr(),
                    GATE_SIGMOID,
                )
            };
            let want_dx = fd(x64.len(), |i, e| {
                let mut v = x64.clone();
                v[i] += e;
                gru_rb_obj(b, u, &v, &r64, &h64, &u64_, &dh).0
            });
            check(&x, &want_dx, 2e-5, &format!("gru rb dx b{b} u{u}"));
            let want_dhp = fd(h64.len(), |i, e| {
                let mut v = h64.clone();
                v[i] += e;
                gru_rb_obj(b, u, &x64, &r64, &v, &u64_, &dh).0
            });
            let want: Vec<f64> = (0..b * u).map(|i| dhp0[i] as f64 + want_dhp[i]).collect();
            check(&dhp, &want, 2e-5, &format!("gru rb dh_prev b{b} u{u}"));
            // Null dh_prev is skipped.
            unsafe {
                gru_reset_before_backward_output(
                    b,
                    u,
                    x.as_mut_ptr(),
                    hp.as_ptr(),
                    dh.as_ptr(),
                    null_mut(),
                    GATE_SIGMOID,
                );
                gru_reset_before_backward_gates(
                    b,
                    u,
                    x.as_mut_ptr(),
                    hp.as_ptr(),
                    drh.as_ptr(),
                    null_mut(),
                    GATE_SIGMOID,
                );
            }
        }
    }
}
