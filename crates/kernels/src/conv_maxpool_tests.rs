//! Host tests of the fused conv + 2×2 max pooling: bit-equal to `conv2d_forward` followed by
//! `max_pool2d_forward` on every path (Winograd, the grey/RGB 3×3 block kernel, image by
//! image), over odd and even output sizes, paddings, strides, dilations, channel counts around
//! the vector widths, every activation, with and without bias, on inputs that are not exact in
//! f32 and hold a NaN.

use super::*;
use crate::conv::tests::geometry;
use crate::gemm::{ACT_LINEAR, ACT_RELU, ACT_RELU6};

/// Values in (−1, 1) from a hash (rounding happens in every sum).
fn noise(len: usize, seed: u32) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let h = (i as u32 ^ seed.wrapping_mul(0x9e37_79b9)).wrapping_mul(0x85eb_ca6b);
            let h = (h ^ (h >> 13)).wrapping_mul(0xc2b2_ae35);
            ((h >> 8) as f32 / (1u32 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn check(g: &Conv2dGeometry, with_bias: bool, act: i32, nan_at: Option<usize>) {
    let what = format!("{g:?} bias {with_bias} act {act} nan {nan_at:?}");
    let mut x = noise(g.batch * g.in_h * g.in_w * g.in_c, 1);
    if let Some(i) = nan_at {
        let i = i % x.len();
        x[i] = f32::NAN;
    }
    let w = noise(g.patch_len() * g.out_c, 2);
    let b = noise(g.out_c, 3);
    let bias = if with_bias { b.as_ptr() } else { core::ptr::null() };
    let (oh, ow, oc) = (g.out_h(), g.out_w(), g.out_c);
    // Unfused: the whole conv output, then the pooling kernel.
    let mut full = vec![0.0f32; g.batch * oh * ow * oc];
    let mut work = vec![0.0f32; g.workspace_len().max(1)];
    let pool = pool_geometry(g, g.batch);
    let pooled_len = g.batch * (oh / 2) * (ow / 2) * oc;
    let mut want = vec![0.0f32; pooled_len];
    // The fused kernel, with a workspace that starts NaN (reads of unwritten cells show).
    let mut got = vec![f32::NAN; pooled_len + 1];
    let mut fused_work = vec![f32::NAN; workspace_len(g).max(1)];
    unsafe {
        crate::conv::conv2d_forward(
            g,
            x.as_ptr(),
            w.as_ptr(),
            bias,
            full.as_mut_ptr(),
            act,
            work.as_mut_ptr(),
        );
        max_pool2d_forward(&pool, full.as_ptr(), want.as_mut_ptr(), core::ptr::null_mut());
        conv2d_forward_maxpool2(
            g,
            x.as_ptr(),
            w.as_ptr(),
            bias,
            got.as_mut_ptr(),
            act,
            fused_work.as_mut_ptr(),
        );
    }
    assert!(got[pooled_len].is_nan(), "{what}: wrote past y");
    for (i, (a, e)) in got.iter().zip(&want).enumerate() {
        assert!(a.to_bits() == e.to_bits(), "{what}: y[{i}] = {a}, unfused {e}");
    }
}

#[test]
fn winograd_path_is_bit_equal_to_conv_then_pool() {
    let mut cases = 0;
    for &(h, w) in &[(2, 2), (4, 4), (5, 6), (7, 7), (14, 14), (9, 4)] {
        for &pad in &["valid", "same", "asym"] {
            for &(c, oc) in &[(4, 8), (5, 7), (16, 32), (8, 33), (4, 1)] {
                let g = geometry(1 + cases % 3, (h, w, c), (3, 3, oc), (1, 1), (1, 1), pad);
                cases += 1;
                if g.is_valid() && g.out_h() >= 2 && g.out_w() >= 2 {
                    assert!(g.is_winograd());
                    let act = [ACT_LINEAR, ACT_RELU, ACT_RELU6][cases % 3];
                    check(
                        &g,
                        cases % 2 == 0,
                        act,
                        if cases % 4 == 0 { Some(cases * 7) } else { None },
                    );
                }
            }
        }
    }
    assert!(cases >= 80, "only {cases} geometries ran");
}

#[test]
fn few_channel_geometries_are_bit_equal_to_conv_then_pool() {
    // Grey and RGB 3×3 stride-1 convs take the block kernel, the rest go image by image.
    let (mut cases, mut blocks) = (0, 0);
    for &(h, w) in &[(3, 3), (6, 6), (7, 9), (28, 28)] {
        for &pad in &["valid", "same", "asym"] {
            for &c in &[1, 2, 3] {
                for &(k, stride, dil) in &[(3, 1, 1), (3, 2, 1), (2, 1, 2), (5, 1, 1)] {
                    for &oc in &[16, 20, 5] {
                        let g = geometry(
                            1 + cases % 2,
                            (h, w, c),
                            (k, k, oc),
                            (stride, stride),
                            (dil, dil),
                            pad,
                        );
                        cases += 1;
                        if g.is_valid() && g.out_h() >= 2 && g.out_w() >= 2 {
                            let act = [ACT_LINEAR, ACT_RELU, ACT_RELU6][cases % 3];
                            let nan = if cases % 5 == 0 { Some(cases * 13) } else { None };
                            check(&g, cases % 2 == 1, act, nan);
                            blocks += usize::from(block3x3::applies(&g));
                        }
                    }
                }
            }
        }
    }
    assert!(cases >= 400, "only {cases} geometries ran");
    assert!(blocks >= 50, "only {blocks} geometries took the block kernel");
}

#[test]
fn other_geometries_go_image_by_image() {
    let shapes = [
        ((9, 9, 8), (5, 5, 6), (2, 2), (1, 1), "same"),
        ((8, 8, 4), (1, 1, 12), (1, 1), (1, 1), "valid"),
        ((7, 6, 6), (3, 3, 9), (1, 1), (2, 2), "valid"),
        ((10, 10, 4), (3, 3, 8), (2, 1), (1, 1), "asym"),
    ];
    for (i, &(input, filter, strides, dil, pad)) in shapes.iter().enumerate() {
        let g = geometry(3, input, filter, strides, dil, pad);
        assert!(!g.is_winograd() && !block3x3::applies(&g), "{g:?}");
        check(&g, i % 2 == 0, [ACT_RELU, ACT_LINEAR, ACT_RELU6, ACT_RELU][i], Some(5 + i));
        check(&g, true, ACT_RELU, None);
    }
}

#[test]
fn outputs_under_one_window_write_nothing() {
    // A 1-wide conv output has no whole 2×2 window: y stays untouched.
    let g = geometry(2, (3, 5, 4), (3, 3, 4), (1, 1), (1, 1), "valid");
    assert_eq!(g.out_h(), 1);
    let mut y = [7.0f32; 4];
    let x = noise(2 * 3 * 5 * 4, 4);
    let w = noise(9 * 16, 5);
    let mut work = vec![0.0f32; workspace_len(&g)];
    unsafe {
        conv2d_forward_maxpool2(
            &g,
            x.as_ptr(),
            w.as_ptr(),
            core::ptr::null(),
            y.as_mut_ptr(),
            ACT_RELU,
            work.as_mut_ptr(),
        )
    };
    assert_eq!(y, [7.0; 4]);
}
