//! Row gathers for batching: copy the rows a shuffled index list names into a contiguous batch.
//!
//! Rows are arrays of 4-byte elements (f32 features, or i32 labels reinterpreted: a gather only
//! moves bits).

use crate::simd::F32x4;

/// dst[r, :] ← src[indices[r], :] for r in 0..count, rows of `row_len` elements.
///
/// # Safety
/// `indices` holds `count` values, each a valid row of `src`; `dst` has `count·row_len` writable
/// elements that do not overlap `src`.
pub unsafe fn gather_rows(
    count: usize,
    indices: *const u32,
    row_len: usize,
    src: *const f32,
    dst: *mut f32,
) {
    let vec_len = row_len - row_len % 4;
    for r in 0..count {
        let from = src.add(*indices.add(r) as usize * row_len);
        let to = dst.add(r * row_len);
        let mut j = 0;
        while j < vec_len {
            F32x4::load(from.add(j)).store(to.add(j));
            j += 4;
        }
        while j < row_len {
            *to.add(j) = *from.add(j);
            j += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gather_rows;

    #[test]
    fn copies_the_named_rows_for_every_row_length() {
        for row_len in [1usize, 3, 4, 5, 8, 13] {
            let rows = 7;
            let src: Vec<f32> = (0..rows * row_len).map(|x| x as f32).collect();
            let idx = [6u32, 0, 3, 3, 1];
            let mut dst = vec![f32::NAN; idx.len() * row_len];
            unsafe {
                gather_rows(idx.len(), idx.as_ptr(), row_len, src.as_ptr(), dst.as_mut_ptr())
            };
            for (r, &i) in idx.iter().enumerate() {
                assert_eq!(
                    &dst[r * row_len..(r + 1) * row_len],
                    &src[i as usize * row_len..(i as usize + 1) * row_len],
                    "row_len {row_len}"
                );
            }
        }
    }
}
