//! Host tests of the activation kernels against f64 references (forward and derivative), with the
//! derivative references themselves checked by central finite differences.
use super::*;

const KINDS: [Activation; 14] = [
    Activation::Linear,
    Activation::Relu,
    Activation::Relu6,
    Activation::LeakyRelu,
    Activation::Elu,
    Activation::Selu,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Softplus,
    Activation::Silu,
    Activation::Gelu,
    Activation::GeluSigmoid,
    Activation::GeluTanh,
    Activation::Mish,
];

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn erf64(x: f64) -> f64 {
    crate::math::tests::erf_ref(x)
}

/// f64 reference of f(x).
fn f_ref(k: Activation, x: f64, a: f64) -> f64 {
    let (sa, sl) = (SELU_ALPHA as f64, SELU_LAMBDA as f64);
    let c = (2.0 / std::f64::consts::PI).sqrt();
    match k {
        Activation::Linear => x,
        Activation::Relu => x.max(0.0),
        Activation::Relu6 => x.clamp(0.0, 6.0),
        Activation::LeakyRelu => {
            if x > 0.0 {
                x
            } else {
                a * x
            }
        }
        Activation::Elu => {
            if x > 0.0 {
                x
            } else {
                a * x.exp_m1()
            }
        }
        Activation::Selu => sl * if x > 0.0 { x } else { sa * x.exp_m1() },
        Activation::Sigmoid => sig(x),
        Activation::Tanh => x.tanh(),
        Activation::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        Activation::Silu => x * sig(x),
        Activation::Gelu => 0.5 * x * (1.0 + erf64(x / 2f64.sqrt())),
        Activation::GeluSigmoid => x * sig(1.702 * x),
        Activation::GeluTanh => 0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh()),
        Activation::Mish => x * (x.max(0.0) + (-x.abs()).exp().ln_1p()).tanh(),
    }
}

/// f64 reference of f'(x) (checked against finite differences below).
fn df_ref(k: Activation, x: f64, a: f64) -> f64 {
    let (sa, sl) = (SELU_ALPHA as f64, SELU_LAMBDA as f64);
    let c = (2.0 / std::f64::consts::PI).sqrt();
    match k {
        Activation::Linear => 1.0,
        Activation::Relu => (x > 0.0) as i32 as f64,
        Activation::Relu6 => (x > 0.0 && x < 6.0) as i32 as f64,
        Activation::LeakyRelu => {
            if x > 0.0 {
                1.0
            } else {
                a
            }
        }
        Activation::Elu => {
            if x > 0.0 {
                1.0
            } else {
                a * x.exp()
            }
        }
        Activation::Selu => sl * if x > 0.0 { 1.0 } else { sa * x.exp() },
        Activation::Sigmoid => sig(x) * (1.0 - sig(x)),
        Activation::Tanh => 1.0 - x.tanh().powi(2),
        Activation::Softplus => sig(x),
        Activation::Silu => sig(x) * (1.0 + x * (1.0 - sig(x))),
        Activation::Gelu => {
            0.5 * (1.0 + erf64(x / 2f64.sqrt()))
                + x * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
        }
        Activation::GeluSigmoid => {
            let s = sig(1.702 * x);
            s + 1.702 * x * s * (1.0 - s)
        }
        Activation::GeluTanh => {
            let t = (c * (x + 0.044715 * x * x * x)).tanh();
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * x * x)
        }
        Activation::Mish => {
            let g = (x.max(0.0) + (-x.abs()).exp().ln_1p()).tanh();
            g + x * (1.0 - g * g) * sig(x)
        }
    }
}

fn inputs() -> Vec<f32> {
    let mut v: Vec<f32> = (-3000..=3000).map(|i| i as f32 * 0.01).collect();
    v.extend([-90.0, -60.0, -25.0, -1e-30, 1e-30, 25.0, 60.0, 90.0, 1e-7, -1e-7, 6.0, 5.999]);
    v
}

fn close(got: f64, want: f64, atol: f64, rtol: f64) -> bool {
    (got - want).abs() <= atol.max(rtol * got.abs().max(want.abs()))
}

fn forward(k: Activation, x: &[f32], alpha: f32) -> Vec<f32> {
    let mut y = vec![f32::NAN; x.len()];
    assert_eq!(
        unsafe { activation_forward(k as i32, x.len(), x.as_ptr(), y.as_mut_ptr(), alpha) },
        0
    );
    y
}

fn backward(k: Activation, x: &[f32], dy: &[f32], alpha: f32, dx0: Option<&[f32]>) -> Vec<f32> {
    let y = forward(k, x, alpha);
    let mut dx = dx0.map(|d| d.to_vec()).unwrap_or_else(|| vec![f32::NAN; x.len()]);
    let acc = dx0.is_some() as i32;
    let r = unsafe {
        activation_backward(
            k as i32,
            x.len(),
            x.as_ptr(),
            y.as_ptr(),
            dy.as_ptr(),
            dx.as_mut_ptr(),
            alpha,
            acc,
        )
    };
    assert_eq!(r, 0);
    dx
}

#[test]
fn derivative_references_match_finite_differences() {
    for k in KINDS {
        for &x in &inputs() {
            let x = x as f64;
            // Skip the kinks of relu-like functions, where the one-sided derivatives differ.
            if [0.0, 6.0].iter().any(|&c| (x - c).abs() < 1e-3) {
                continue;
            }
            let h = 1e-6 * x.abs().max(1.0);
            let fd = (f_ref(k, x + h, 0.2) - f_ref(k, x - h, 0.2)) / (2.0 * h);
            assert!(
                close(df_ref(k, x, 0.2), fd, 1e-6, 1e-5),
                "{k:?}'({x}) = {} vs fd {fd}",
                df_ref(k, x, 0.2)
            );
        }
    }
}

#[test]
fn forward_and_backward_match_f64_references() {
    let xs = inputs();
    let dy: Vec<f32> = (0..xs.len()).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
    for k in KINDS {
        let alpha = 0.2f32;
        let y = forward(k, &xs, alpha);
        let dx = backward(k, &xs, &dy, alpha, None);
        let (mut worst_f, mut worst_b) = (0.0f64, 0.0f64);
        for i in 0..xs.len() {
            let x = xs[i] as f64;
            let want = f_ref(k, x, alpha as f64);
            // Cancellation in 1 + erf and in the derivatives' sums is absolute, not relative.
            assert!(close(y[i] as f64, want, 4e-7, 1e-6), "{k:?}({x}) = {}, want {want}", y[i]);
            worst_f = worst_f.max((y[i] as f64 - want).abs() / want.abs().max(1e-3));
            let wd = dy[i] as f64 * df_ref(k, x, alpha as f64);
            assert!(close(dx[i] as f64, wd, 2e-6, 2e-6), "{k:?}'({x}): dx {}, want {wd}", dx[i]);
            worst_b = worst_b.max((dx[i] as f64 - wd).abs() / wd.abs().max(1e-3));
        }
        println!(
            "{k:?}: forward max err {worst_f:.2e}, backward {worst_b:.2e} (rel, abs below 1e-3)"
        );
    }
}

#[test]
fn every_length_and_tail_is_written_and_accumulates() {
    for k in KINDS {
        for n in 0..13usize {
            let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.7 - 3.0).collect();
            let y = forward(k, &x, 0.1);
            let full = forward(k, &[x.clone(), vec![0.0; 4]].concat(), 0.1);
            for i in 0..n {
                assert_eq!(y[i].to_bits(), full[i].to_bits(), "{k:?} n={n} i={i}");
            }
            let dy = vec![1.5f32; n];
            let dx = backward(k, &x, &dy, 0.1, None);
            assert!(dx.iter().all(|v| !v.is_nan()), "{k:?} n={n}: unwritten dx");
            let base: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let acc = backward(k, &x, &dy, 0.1, Some(&base));
            for i in 0..n {
                assert_eq!(acc[i], base[i] + dx[i], "{k:?} accumulate n={n} i={i}");
            }
        }
    }
}

#[test]
fn nan_and_infinity_follow_ieee_limits() {
    let x = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0];
    let dy = [1.0f32; 5];
    for k in KINDS {
        let y = forward(k, &x, 0.1);
        let dx = backward(k, &x, &dy, 0.1, None);
        assert!(y[0].is_nan() && dx[0].is_nan(), "{k:?}(NaN)");
        for i in 1..3 {
            let want = f_ref(k, x[i] as f64, 0.1);
            let ok = if want.is_nan() { y[i].is_nan() } else { y[i] == want as f32 };
            // x·g(x) at −Inf: the limit 0 (f64 gives NaN for −Inf·0).
            let gated = matches!(
                k,
                Activation::Silu
                    | Activation::Gelu
                    | Activation::GeluSigmoid
                    | Activation::GeluTanh
                    | Activation::Mish
            );
            assert!(ok || (gated && y[i] == 0.0), "{k:?}({}) = {}, want {want}", x[i], y[i]);
            assert!(!dx[i].is_nan(), "{k:?}'({}) is NaN", x[i]);
        }
        let dnan = backward(k, &[1.0, -1.0], &[f32::NAN, f32::NAN], 0.1, None);
        assert!(dnan.iter().all(|v| v.is_nan()), "{k:?}: NaN in dy must reach dx");
    }
    assert_eq!(forward(Activation::Relu, &[f32::NEG_INFINITY], 0.0)[0], 0.0);
    assert_eq!(
        forward(Activation::Silu, &[f32::NEG_INFINITY], 0.0)[0].to_bits(),
        (-0.0f32).to_bits()
    );
}

#[test]
fn unknown_codes_write_nothing() {
    let x = [1.0f32; 4];
    let mut y = [7.0f32; 4];
    for code in [-1, 14, i32::MAX] {
        assert_eq!(unsafe { activation_forward(code, 4, x.as_ptr(), y.as_mut_ptr(), 0.0) }, -1);
        let r = unsafe {
            activation_backward(code, 4, x.as_ptr(), x.as_ptr(), x.as_ptr(), y.as_mut_ptr(), 0.0, 0)
        };
        assert_eq!(r, -1);
        assert_eq!(y, [7.0; 4]);
    }
    assert_eq!(Activation::from_code(0), Some(Activation::Linear));
    assert_eq!(Activation::from_code(1), Some(Activation::Relu));
}
