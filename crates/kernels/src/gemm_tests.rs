//! Host tests of `gemm.rs` (a child module of it, kept in its own file so each stays readable).

use super::*;

/// A matrix stored in a buffer with arbitrary strides; cells of the buffer that belong to no
/// element hold a sentinel, so a write outside the matrix is caught.
struct Mat {
    buf: Vec<f32>,
    origin: isize,
    rs: isize,
    cs: isize,
    rows: usize,
    cols: usize,
}

const SENTINEL: f32 = 12345.0;

thread_local! {
    // One packing workspace per test thread, NaN-filled once: packing must overwrite
    // everything the micro-kernel reads.
    static WORK: std::cell::RefCell<Vec<f32>> = std::cell::RefCell::new(vec![f32::NAN; GEMM_WORKSPACE_F32]);
}

#[derive(Copy, Clone, Debug)]
enum Layout {
    RowMajor,
    ColMajor,
    /// Row-major with a row stride of cols + 3.
    Padded,
    /// Every other column, row stride 2·cols + 1.
    Strided,
    /// Row-major with the rows in reverse order (negative row stride).
    Reversed,
}

const LAYOUTS: [Layout; 5] =
    [Layout::RowMajor, Layout::ColMajor, Layout::Padded, Layout::Strided, Layout::Reversed];

impl Mat {
    fn new(rows: usize, cols: usize, layout: Layout, fill: impl Fn(usize, usize) -> f32) -> Mat {
        let (r, c) = (rows as isize, cols as isize);
        let (origin, rs, cs, len) = match layout {
            Layout::RowMajor => (0, c, 1, rows * cols),
            Layout::ColMajor => (0, 1, r, rows * cols),
            Layout::Padded => (0, c + 3, 1, rows * (cols + 3)),
            Layout::Strided => (0, 2 * c + 1, 2, rows * (2 * cols + 1)),
            Layout::Reversed => ((r - 1).max(0) * c, -c, 1, rows * cols),
        };
        let mut m = Mat { buf: vec![SENTINEL; len.max(1)], origin, rs, cs, rows, cols };
        for i in 0..rows {
            for j in 0..cols {
                let at = m.at(i, j);
                m.buf[at] = fill(i, j);
            }
        }
        m
    }
    fn at(&self, i: usize, j: usize) -> usize {
        (self.origin + i as isize * self.rs + j as isize * self.cs) as usize
    }
    fn get(&self, i: usize, j: usize) -> f32 {
        self.buf[self.at(i, j)]
    }
    fn ptr(&self) -> *const f32 {
        unsafe { self.buf.as_ptr().offset(self.origin) }
    }
    fn ptr_mut(&mut self) -> *mut f32 {
        unsafe { self.buf.as_mut_ptr().offset(self.origin) }
    }
    /// Every buffer cell outside the matrix still holds the sentinel.
    fn untouched_outside(&self) -> bool {
        let mut inside = vec![false; self.buf.len()];
        for i in 0..self.rows {
            for j in 0..self.cols {
                inside[self.at(i, j)] = true;
            }
        }
        self.buf.iter().zip(&inside).all(|(x, &ins)| ins || *x == SENTINEL)
    }
}

// Small integers keep every product and sum exact in f32, so results compare bit for bit.
fn small_int(i: usize, j: usize, seed: u32) -> f32 {
    let h = (i as u32).wrapping_mul(2654435761) ^ (j as u32).wrapping_mul(40503) ^ seed;
    ((h.wrapping_mul(2246822519) >> 13) % 7) as f32 - 3.0
}

/// Plain triple loop in f64 with the same epilogue: the reference.
#[allow(clippy::too_many_arguments)]
fn reference(
    a: &Mat,
    b: &Mat,
    c_old: &Mat,
    alpha: f32,
    beta: f32,
    bias: Option<&[f32]>,
    act: i32,
) -> Vec<f64> {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                s += a.get(i, p) as f64 * b.get(p, j) as f64;
            }
            let mut v = alpha as f64 * s;
            if beta != 0.0 {
                v += beta as f64 * c_old.get(i, j) as f64;
            }
            if let Some(bias) = bias {
                v += bias[j] as f64;
            }
            v = match act {
                ACT_RELU => v.max(0.0),
                ACT_RELU6 => v.max(0.0).min(6.0),
                _ => v,
            };
            out[i * n + j] = v;
        }
    }
    out
}

struct Case {
    m: usize,
    n: usize,
    k: usize,
    la: Layout,
    lb: Layout,
    lc: Layout,
    alpha: f32,
    beta: f32,
    bias: bool,
    act: i32,
}

/// Runs one case through `gemm` (or `gemm_bias_act` when a bias or activation is asked for)
/// and compares every cell exactly; on failure names (i, j), the values and the case.
fn check(case: &Case) {
    let &Case { m, n, k, la, lb, lc, alpha, beta, bias, act } = case;
    let a = Mat::new(m, k, la, |i, j| small_int(i, j, 1));
    let b = Mat::new(k, n, lb, |i, j| small_int(i, j, 2));
    // With β = 0, C starts as NaN: an unwritten cell or a read of C shows up.
    let c_old = Mat::new(m, n, lc, |i, j| if beta == 0.0 { f32::NAN } else { small_int(i, j, 3) });
    let mut c = Mat::new(m, n, lc, |i, j| c_old.get(i, j));
    let bias_v: Vec<f32> = (0..n).map(|j| small_int(j, 0, 4)).collect();
    let fused = bias || act != ACT_LINEAR;
    WORK.with(|w| unsafe {
        let work = w.borrow_mut().as_mut_ptr();
        if fused {
            gemm_bias_act(
                m,
                n,
                k,
                a.ptr(),
                a.rs,
                a.cs,
                b.ptr(),
                b.rs,
                b.cs,
                if bias { bias_v.as_ptr() } else { core::ptr::null() },
                c.ptr_mut(),
                c.rs,
                c.cs,
                act,
                work,
            );
        } else {
            gemm(
                m,
                n,
                k,
                alpha,
                a.ptr(),
                a.rs,
                a.cs,
                b.ptr(),
                b.rs,
                b.cs,
                beta,
                c.ptr_mut(),
                c.rs,
                c.cs,
                work,
            );
        }
    });
    let (alpha, beta) = if fused { (1.0, 0.0) } else { (alpha, beta) };
    let want = reference(&a, &b, &c_old, alpha, beta, if bias { Some(&bias_v) } else { None }, act);
    let what = format!(
        "{m}x{n}x{k} A {la:?} B {lb:?} C {lc:?} alpha {alpha} beta {beta} bias {bias} act {act}"
    );
    for i in 0..m {
        for j in 0..n {
            let got = c.get(i, j);
            assert_eq!(got as f64, want[i * n + j], "C({i}, {j}) of {what}");
        }
    }
    assert!(c.untouched_outside(), "write outside C in {what}");
}

fn plain(m: usize, n: usize, k: usize) -> Case {
    let rm = Layout::RowMajor;
    Case { m, n, k, la: rm, lb: rm, lc: rm, alpha: 1.0, beta: 0.0, bias: false, act: ACT_LINEAR }
}

#[test]
fn every_small_size_and_layout() {
    // Sizes 0..=12 cross every partial-tile shape (MR = 4, NR = 8) and the small path.
    for m in 0..=12 {
        for n in 0..=12 {
            for &k in &[0, 1, 2, 5, 8, 9] {
                for &(la, lb) in &[
                    (Layout::RowMajor, Layout::RowMajor),
                    (Layout::ColMajor, Layout::RowMajor),
                    (Layout::RowMajor, Layout::ColMajor),
                    (Layout::ColMajor, Layout::ColMajor),
                ] {
                    check(&Case { la, lb, ..plain(m, n, k) });
                }
            }
        }
    }
}

#[test]
fn strides_alpha_and_beta_on_every_operand() {
    for &(m, n, k) in &[(3, 5, 7), (17, 13, 9), (9, 17, 33), (2, 257, 17), (17, 257, 17)] {
        for &la in &LAYOUTS {
            for &lb in &LAYOUTS {
                for &lc in &LAYOUTS {
                    for &(alpha, beta) in &[(1.0f32, 0.0f32), (2.0, 1.0), (-1.0, 0.5), (0.5, -2.0)]
                    {
                        check(&Case { la, lb, lc, alpha, beta, ..plain(m, n, k) });
                    }
                }
            }
        }
    }
}

#[test]
fn k_below_at_and_above_the_block_depth() {
    for &k in &[KC - 1, KC, KC + 1, 2 * KC + 3] {
        for &(m, n) in &[(5, 9), (4, 8), (13, 19)] {
            for &(alpha, beta) in &[(1.0f32, 0.0f32), (-0.5, 2.0)] {
                check(&Case { alpha, beta, ..plain(m, n, k) });
                check(&Case {
                    alpha,
                    beta,
                    la: Layout::ColMajor,
                    lb: Layout::ColMajor,
                    ..plain(m, n, k)
                });
            }
        }
    }
}

#[test]
fn m_and_n_around_the_block_sizes() {
    for &m in &[MC - 1, MC, MC + 1, MC + MR + 3] {
        check(&Case { beta: 1.0, ..plain(m, 11, 6) });
        check(&Case { la: Layout::ColMajor, lc: Layout::Padded, ..plain(m, 9, 20) });
    }
    for &n in &[NC - 1, NC, NC + 1, NC + NR + 3] {
        check(&Case { beta: -1.0, ..plain(6, n, 5) });
        check(&Case { lb: Layout::ColMajor, lc: Layout::ColMajor, ..plain(5, n, 7) });
    }
    // All three blockings at once.
    check(&Case { alpha: 2.0, beta: 0.5, ..plain(MC + 5, NC + 9, KC + 7) });
}

#[test]
fn fused_bias_and_activation() {
    for &act in &[ACT_LINEAR, ACT_RELU, ACT_RELU6, 99] {
        for &bias in &[false, true] {
            // k > KC: the activation must act on the full sum, not on each block's partial.
            for &(m, n, k) in
                &[(1, 1, 1), (7, 13, 5), (4, 8, 16), (17, 257, 17), (9, 21, KC + 9), (6, 10, 0)]
            {
                for &lc in &[Layout::RowMajor, Layout::Strided] {
                    check(&Case { bias, act, lc, ..plain(m, n, k) });
                }
            }
        }
    }
}

#[test]
fn relu_keeps_nan() {
    let a = [f32::NAN, 1.0];
    let b = [1.0f32, 1.0];
    let mut c = [0.0f32; 2];
    unsafe {
        gemm_bias_act(
            2,
            1,
            1,
            a.as_ptr(),
            1,
            1,
            b.as_ptr(),
            1,
            1,
            core::ptr::null(),
            c.as_mut_ptr(),
            1,
            1,
            ACT_RELU,
            core::ptr::null_mut(),
        );
    }
    assert!(c[0].is_nan());
    assert_eq!(c[1], 1.0);
}

#[test]
fn batched_matches_one_gemm_per_item() {
    let (batch, m, n, k) = (3usize, 6usize, 10usize, 7usize);
    let a: Vec<f32> = (0..batch * m * k).map(|x| small_int(x, 0, 5)).collect();
    // B shared by every item (batch stride 0), C items padded apart by 2 cells.
    let b: Vec<f32> = (0..k * n).map(|x| small_int(x, 0, 6)).collect();
    let sc = m * n + 2;
    let c0: Vec<f32> = (0..batch * sc).map(|x| small_int(x, 0, 7)).collect();
    let mut c = c0.clone();
    let mut work = vec![0.0f32; GEMM_WORKSPACE_F32];
    unsafe {
        gemm_batched(
            batch,
            m,
            n,
            k,
            2.0,
            a.as_ptr(),
            k as isize,
            1,
            (m * k) as isize,
            b.as_ptr(),
            n as isize,
            1,
            0,
            -1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
            sc as isize,
            work.as_mut_ptr(),
        );
    }
    for t in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let s: f32 = (0..k).map(|p| a[t * m * k + i * k + p] * b[p * n + j]).sum();
                let at = t * sc + i * n + j;
                assert_eq!(c[at], 2.0 * s - c0[at], "item {t} C({i}, {j})");
            }
        }
        assert_eq!(&c[t * sc + m * n..(t + 1) * sc], &c0[t * sc + m * n..(t + 1) * sc]);
    }
}

#[test]
fn random_data_close_to_f64() {
    // Non-integer data: the f32 result is within a few ulps of the f64 sum per term.
    let (m, n, k) = (37, 45, 600);
    let mut s = 7u32;
    let mut rnd = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s as f32 / u32::MAX as f32) * 2.0 - 1.0
    };
    let a: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rnd()).collect();
    let mut c = vec![f32::NAN; m * n];
    let mut work = vec![0.0f32; GEMM_WORKSPACE_F32];
    unsafe {
        gemm(
            m,
            n,
            k,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
            work.as_mut_ptr(),
        );
    }
    for i in 0..m {
        for j in 0..n {
            let want: f64 = (0..k).map(|p| a[i * k + p] as f64 * b[p * n + j] as f64).sum();
            let abs: f64 = (0..k).map(|p| (a[i * k + p] as f64 * b[p * n + j] as f64).abs()).sum();
            let err = (c[i * n + j] as f64 - want).abs();
            assert!(
                err <= 1e-6 * abs * k as f64 / 16.0 + 1e-6,
                "C({i}, {j}) = {} want {want}",
                c[i * n + j]
            );
        }
    }
}
