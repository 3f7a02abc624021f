//! The timer of both candle benchmarks, as `bench/python_bench.py` times JAX and PyTorch.

use std::time::Instant;

use candle_core::Result;

/// Seconds per call of `f` in 7 loops of about 0.3 s each, sorted (`[3]` is the median), and
/// the calls per loop.
pub fn per_call(mut f: impl FnMut() -> Result<()>) -> Result<(Vec<f64>, usize)> {
    let mut n = 1usize;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f()?;
        }
        let dt = t.elapsed().as_secs_f64();
        if dt > 0.05 {
            n = ((n as f64) * 0.3 / dt).max(1.0) as usize;
            break;
        }
        n *= 4;
    }
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..n {
            f()?;
        }
        times.push(t.elapsed().as_secs_f64() / n as f64);
    }
    times.sort_by(f64::total_cmp);
    Ok((times, n))
}
