//! C ABI, part of [`super`]: convolution (plain, depthwise, fused with 2×2 max pooling) and
//! pooling.
#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

// ---- conv ----
// Geometry arguments, in this order everywhere: batch, in_h, in_w, in_c, k_h, k_w, then out_c
// (conv2d) or the channel multiplier (depthwise), stride_h, stride_w, dil_h, dil_w, pad_top,
// pad_left, pad_bottom, pad_right; pooling has no out_c and no dilation.

fn conv_geometry(d: [usize; 15]) -> crate::conv::Conv2dGeometry {
    let [batch, in_h, in_w, in_c, k_h, k_w, out_c, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, pad_bottom, pad_right] =
        d;
    crate::conv::Conv2dGeometry {
        batch,
        in_h,
        in_w,
        in_c,
        k_h,
        k_w,
        out_c,
        stride_h,
        stride_w,
        dil_h,
        dil_w,
        pad_top,
        pad_left,
        pad_bottom,
        pad_right,
    }
}

#[no_mangle]
pub extern "C" fn f32_conv2d_workspace_len(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
) -> usize {
    conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]).workspace_len()
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv::conv2d_forward(&g, x, filter, bias, y, act, work)
}

/// Workspace (f32 values) of [`f32_conv2d_forward_maxpool2`].
#[no_mangle]
pub extern "C" fn f32_conv2d_maxpool2_workspace_len(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
) -> usize {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_maxpool::workspace_len(&g)
}

/// y ← 2×2/2 max pooling of act(conv2d(x, filter) + bias), for inference.
#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_forward_maxpool2(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_maxpool::conv2d_forward_maxpool2(&g, x, filter, bias, y, act, work)
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_backward_input(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv::conv2d_backward_input(&g, dy, filter, dx, work)
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_backward_filter(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    dy: *const f32,
    dfilter: *mut f32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv::conv2d_backward_filter(&g, x, dy, dfilter, work)
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_backward_bias(
    dy: *const f32,
    rows: usize,
    oc: usize,
    dbias: *mut f32,
) {
    crate::conv::conv2d_backward_bias(dy, rows, oc, dbias)
}

#[no_mangle]
pub unsafe extern "C" fn f32_depthwise_conv2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    mult: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
) {
    let oc = c.saturating_mul(mult);
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_depthwise::depthwise_conv2d_forward(&g, x, filter, bias, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_depthwise_conv2d_backward_input(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    mult: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
) {
    let oc = c.saturating_mul(mult);
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_depthwise::depthwise_conv2d_backward_input(&g, dy, filter, dx)
}

#[no_mangle]
pub unsafe extern "C" fn f32_depthwise_conv2d_backward_filter(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    mult: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    dy: *const f32,
    dfilter: *mut f32,
) {
    let oc = c.saturating_mul(mult);
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_depthwise::depthwise_conv2d_backward_filter(&g, x, dy, dfilter)
}

// ---- pool ----

#[no_mangle]
pub unsafe extern "C" fn f32_max_pool2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    y: *mut f32,
    argmax: *mut i32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, c, sh, sw, 1, 1, pt, pl, pb, pr]);
    crate::pool::max_pool2d_forward(&g, x, y, argmax)
}

#[no_mangle]
pub unsafe extern "C" fn f32_max_pool2d_backward(
    dy: *const f32,
    argmax: *const i32,
    y_len: usize,
    dx: *mut f32,
    x_len: usize,
) {
    crate::pool::max_pool2d_backward(dy, argmax, y_len, dx, x_len)
}

#[no_mangle]
pub unsafe extern "C" fn f32_avg_pool2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    y: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, c, sh, sw, 1, 1, pt, pl, pb, pr]);
    crate::pool::avg_pool2d_forward(&g, x, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_avg_pool2d_backward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    dy: *const f32,
    dx: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, c, sh, sw, 1, 1, pt, pl, pb, pr]);
    crate::pool::avg_pool2d_backward(&g, dy, dx)
}

#[no_mangle]
pub unsafe extern "C" fn f32_global_avg_pool2d_forward(
    x: *const f32,
    batch: usize,
    pixels: usize,
    c: usize,
    y: *mut f32,
) {
    crate::pool::global_avg_pool2d_forward(x, batch, pixels, c, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_global_avg_pool2d_backward(
    dy: *const f32,
    batch: usize,
    pixels: usize,
    c: usize,
    dx: *mut f32,
) {
    crate::pool::global_avg_pool2d_backward(dy, batch, pixels, c, dx)
}
