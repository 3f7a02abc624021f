//! What generated batch functions call to split a batch into parts (on every core with the
//! `parallel` feature, on the calling thread without it) and to multiply matrices (`ndarray`'s
//! `general_mat_mul`, which runs `matrixmultiply`'s GEMM kernels for `f32` and `f64`; with the
//! `gemm` feature, the `gemm` crate's, which have AVX-512 kernels and were 1.1x to 2.9x faster
//! at the benchmark networks' shapes, BENCHMARKS.md).
//!
//! The split depends only on the number of rows and the machine's number of cores, never on
//! the number of threads, and parts are always combined in the same order: results are
//! identical run to run, on any rayon pool and with or without the feature (as the GEMM
//! kernels chosen at run time, they may differ between machines).

use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar, s};

/// Most parts a batch is split into: enough for the cores of ordinary machines, few enough
/// that each part's gradient accumulator stays a small multiple of the parameters' size.
pub const MAX_PARTS: usize = 8;

/// Fewest multiply-adds a part is given: handing a part to another thread costs a wake-up
/// and a context switch (about 10 us), which a smaller part does not pay back (mlp16's 64
/// rows, 106,000 multiply-adds: 16.6 us in one part, 23.5 us in two on two threads).
pub const MIN_PART_WORK: usize = 512 * 1024;

/// How many parts a batch of `rows` rows is split into, each of at least `min_rows` rows
/// (unless the batch is smaller) and `MIN_PART_WORK` multiply-adds at `work_per_row`, and no
/// more than the machine has cores: fixed by the batch, the network and the machine, whatever
/// the thread count. Every part zeroes, fills and adds a gradient accumulator of the
/// parameters' size, so parts beyond the cores that can run them cost without paying
/// (784-256-256-10 at 1,024 rows on one thread of two cores: 16.7 ms in 8 parts, 12.9 ms in
/// 2; BENCHMARKS.md).
pub fn parts(rows: usize, min_rows: usize, work_per_row: usize) -> usize {
    let by_work = rows.saturating_mul(work_per_row) / MIN_PART_WORK;
    (rows / min_rows.max(1))
        .min(by_work)
        .clamp(1, MAX_PARTS.min(cores()))
}

/// The machine's cores (what the operating system lets this process use), found once.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The rows of part `i` of `parts`: contiguous, in order, sizes differing by at most one.
pub fn part_range(rows: usize, parts: usize, i: usize) -> Range<usize> {
    let parts = parts.max(1);
    let bound = |i: usize| (rows as u128 * i as u128 / parts as u128) as usize;
    bound(i)..bound(i + 1)
}

/// Runs `f(i, &mut parts[i])` for every part: across rayon's threads with the `parallel`
/// feature, in order on this thread without it.
pub fn for_each_part<T: Send>(parts: &mut [T], f: impl Fn(usize, &mut T) + Sync + Send) {
    // On a pool of one thread the parts run here: handing them to the pool's worker cost two
    // context switches per call (40% of mlp16's 64-row gradient in `perf`).
    #[cfg(feature = "parallel")]
    if parts.len() > 1 && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        parts
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, part)| f(i, part));
        return;
    }
    parts
        .iter_mut()
        .enumerate()
        .for_each(|(i, part)| f(i, part));
}

/// How many threads [`for_each_part`] may use.
pub fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Rows `start..end` of a batch.
pub fn rows<'a, F>(a: ArrayView2<'a, F>, start: usize, end: usize) -> ArrayView2<'a, F> {
    a.slice_move(s![start..end, ..])
}

/// Columns `start..end` of a batch.
pub fn columns<'a, F>(a: ArrayView2<'a, F>, start: usize, end: usize) -> ArrayView2<'a, F> {
    a.slice_move(s![.., start..end])
}

/// The first `rows * cols` elements of a buffer as a row-major matrix.
pub fn view<F>(buffer: &[F], rows: usize, cols: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &buffer[..rows * cols])
        .expect("a slice of rows * cols elements") // ok: the slice has exactly rows * cols elements (generated code sizes its buffers)
}

/// A parameter's elements as a `rows x cols` matrix with the given strides, from `offset`
/// (a weight matrix read by a contraction, either way round).
pub fn strided<F>(
    buffer: &[F],
    offset: usize,
    (rows, cols): (usize, usize),
    (row_stride, col_stride): (usize, usize),
) -> ArrayView2<'_, F> {
    use ndarray::ShapeBuilder;
    ArrayView2::from_shape(
        (rows, cols).strides((row_stride, col_stride)),
        &buffer[offset..],
    )
    .expect("strides inside the parameter") // ok: the generated code derives the strides from the parameter's own shape
}

/// The first `rows * cols` elements of a buffer as a mutable row-major matrix.
pub fn view_mut<F>(buffer: &mut [F], rows: usize, cols: usize) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut buffer[..rows * cols])
        .expect("a slice of rows * cols elements") // ok: the slice has exactly rows * cols elements (generated code sizes its buffers)
}

/// `c = alpha * a b + beta * c`.
#[inline]
pub fn gemm<F: LinalgScalar>(
    alpha: F,
    a: &ArrayView2<'_, F>,
    b: &ArrayView2<'_, F>,
    beta: F,
    c: &mut ArrayViewMut2<'_, F>,
) {
    #[cfg(feature = "gemm")]
    if gemm_crate(alpha, a, b, beta, c) {
        return;
    }
    ndarray::linalg::general_mat_mul(alpha, a, b, beta, c);
}

/// [`gemm`] through the `gemm` crate for `f32` and `f64` with shapes that agree; `false`
/// (nothing done) otherwise, and `ndarray` takes it, panicking on a shape mismatch as before.
#[cfg(feature = "gemm")]
fn gemm_crate<F: LinalgScalar>(
    alpha: F,
    a: &ArrayView2<'_, F>,
    b: &ArrayView2<'_, F>,
    beta: F,
    c: &mut ArrayViewMut2<'_, F>,
) -> bool {
    use std::any::TypeId;
    let float =
        TypeId::of::<F>() == TypeId::of::<f64>() || TypeId::of::<F>() == TypeId::of::<f32>();
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    if !float || k != k2 || c.dim() != (m, n) || m == 0 || n == 0 || k == 0 {
        return false;
    }
    let (a_s, b_s) = (a.strides(), b.strides());
    let (c_rows, c_cols) = (c.strides()[0], c.strides()[1]);
    // SAFETY: each pointer and its strides describe the view's own elements; `c` is a unique
    // borrow, so it overlaps neither `a` nor `b`; `F` is `f32` or `f64` (checked above), the
    // types the `gemm` crate implements. It computes dst = alpha dst + beta lhs rhs, reading
    // dst only when asked to.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cols,
            c_rows,
            !beta.is_zero(),
            a.as_ptr(),
            a_s[1],
            a_s[0],
            b.as_ptr(),
            b_s[1],
            b_s[0],
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_row_once_in_order() {
        for rows in [1, 2, 7, 63, 64, 65, 1000, 1023, 60_000] {
            for (min, work) in [(1, 1 << 20), (16, 1 << 20), (256, 1 << 20), (16, 100)] {
                let n = parts(rows, min, work);
                assert!((1..=MAX_PARTS.min(cores())).contains(&n));
                let mut next = 0;
                for i in 0..n {
                    let r = part_range(rows, n, i);
                    assert_eq!(r.start, next);
                    assert!(r.len() + 1 >= rows / n);
                    next = r.end;
                }
                assert_eq!(next, rows);
            }
        }
    }

    /// A batch is not cut below the work that pays for a part (mlp16's 64 rows: one part),
    /// nor into more parts than cores, and a large batch of a large network uses them all.
    #[test]
    fn parts_follow_the_work_and_the_cores() {
        assert_eq!(parts(64, 32, 1_664), 1);
        assert_eq!(parts(1, 32, 1 << 30), 1);
        let large = parts(1024, 32, 101_632);
        assert_eq!(large, MAX_PARTS.min(cores()));
        assert!(parts(1024, 32, 1_664) <= 1024 * 1_664 / MIN_PART_WORK);
    }

    /// With the `gemm` feature, the `gemm` crate agrees with matrixmultiply on the
    /// transposes the generated code uses, with and without accumulating into `c`.
    #[cfg(feature = "gemm")]
    #[test]
    fn the_gemm_crate_agrees_with_matrixmultiply() {
        use ndarray::Array2;
        let filled = |r: usize, c: usize, seed: f64| {
            Array2::from_shape_fn((r, c), |(i, j)| ((i * 31 + j * 17) as f64 * seed).sin())
        };
        for (m, k, n) in [(1, 1, 1), (7, 16, 32), (64, 32, 4), (33, 784, 10)] {
            let a = filled(m, k, 0.37);
            let b = filled(k, n, 0.11);
            let bt = filled(n, k, 0.23);
            for beta in [0.0, 1.0] {
                for transposed in [false, true] {
                    let b_view = if transposed { bt.t() } else { b.view() };
                    let mut want = filled(m, n, 0.5);
                    let mut got = want.clone();
                    ndarray::linalg::general_mat_mul(
                        0.5,
                        &a.view(),
                        &b_view,
                        beta,
                        &mut want.view_mut(),
                    );
                    gemm(0.5, &a.view(), &b_view, beta, &mut got.view_mut());
                    for (x, y) in want.iter().zip(got.iter()) {
                        assert!(
                            (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                            "{m}x{k}x{n}: {x} {y}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_part_runs_once() {
        let mut seen = vec![0usize; 5];
        for_each_part(&mut seen, |i, slot| *slot += i + 1);
        assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    }
}
