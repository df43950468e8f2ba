//! Host tests of the Winograd forward: against the f64 definition over image sizes that leave
//! partial tiles on either side, every padding, batches whose tile count is not a multiple of
//! the group, and channel counts around the 4- and 8-wide vector edges. Inputs are small
//! integers, so every intermediate (quarters, after the filter transform's halvings) is exact
//! and results compare bit for bit.

use super::*;
use crate::conv::tests::{assert_exact, geometry, ints, reference_forward};
use crate::gemm::{ACT_LINEAR, ACT_RELU, ACT_RELU6};

fn run(g: &Conv2dGeometry, with_bias: bool, act: i32) {
    assert!(applies(g));
    let what = format!("{g:?} bias {with_bias} act {act}");
    let x = ints(g.batch * g.in_h * g.in_w * g.in_c, 11);
    let w = ints(9 * g.in_c * g.out_c, 12);
    let b = ints(g.out_c, 13);
    let bias = if with_bias { Some(&b[..]) } else { None };
    let bias_ptr = bias.map_or(core::ptr::null(), |b| b.as_ptr());
    // A workspace that starts NaN catches reads of cells the kernel did not write first.
    let mut work = vec![f32::NAN; workspace_len(g)];
    let mut y = vec![f32::NAN; g.rows() * g.out_c];
    unsafe {
        conv2d_forward_winograd(
            g,
            x.as_ptr(),
            w.as_ptr(),
            bias_ptr,
            y.as_mut_ptr(),
            act,
            work.as_mut_ptr(),
        )
    };
    let want: Vec<f64> = reference_forward(g, &x, &w, bias)
        .into_iter()
        .map(|v| match act {
            ACT_RELU => v.max(0.0),
            ACT_RELU6 => v.max(0.0).min(6.0),
            _ => v,
        })
        .collect();
    assert_exact(&y, &want, &what);
}

#[test]
fn matches_reference_across_sizes_paddings_and_channels() {
    let mut cases = 0;
    for &(h, w) in &[(3, 3), (4, 4), (5, 6), (6, 5), (7, 7), (9, 4), (13, 13)] {
        for &pad in &["valid", "same", "asym"] {
            for &c in &[1, 3, 4, 5, 8, 16] {
                for &oc in &[1, 4, 7, 8, 9, 16, 33] {
                    let batch = 1 + cases % 3;
                    let g = geometry(batch, (h, w, c), (3, 3, oc), (1, 1), (1, 1), pad);
                    cases += 1;
                    if g.is_valid() {
                        run(&g, cases % 2 == 0, [ACT_LINEAR, ACT_RELU, ACT_RELU6][cases % 3]);
                    }
                }
            }
        }
    }
    assert!(cases > 800, "only {cases} geometries ran");
}

#[test]
fn the_issue_cnn_second_layer() {
    // 13×13×16 → 11×11×32 (valid) and 14×14×16 → 14×14×32 (same), batch 3: 108 and 147 tiles.
    run(&geometry(3, (13, 13, 16), (3, 3, 32), (1, 1), (1, 1), "valid"), true, ACT_RELU);
    run(&geometry(3, (14, 14, 16), (3, 3, 32), (1, 1), (1, 1), "same"), true, ACT_RELU);
}

#[test]
fn applies_only_to_3x3_stride_1_undilated() {
    assert!(applies(&geometry(1, (5, 5, 4), (3, 3, 4), (1, 1), (1, 1), "valid")));
    assert!(!applies(&geometry(1, (5, 5, 4), (3, 3, 4), (2, 2), (1, 1), "valid")));
    assert!(!applies(&geometry(1, (5, 5, 4), (3, 3, 4), (1, 1), (2, 1), "valid")));
    assert!(!applies(&geometry(1, (5, 5, 4), (3, 2, 4), (1, 1), (1, 1), "valid")));
    let g = geometry(1, (5, 5, 4), (3, 3, 4), (1, 1), (1, 1), "valid");
    assert!(g.is_winograd());
    assert!(g.workspace_len() >= workspace_len(&g));
    assert!(!geometry(1, (5, 5, 3), (3, 3, 4), (1, 1), (1, 1), "valid").is_winograd());
}
