//! The deterministic points and data of the large-network benchmarks (issues 12 and 13), drawn
//! from SplitMix64 so that `bench/python_bench.py`, `bench/batch_bench.py` and `bench/candle`
//! draw bit for bit the same weights and samples without sharing a file: every value is
//! `lo + (hi - lo) * (u >> 11) / 2^53`, exact in NumPy's uint64 and float64 arithmetic too.

/// SplitMix64 (Steele, Lea and Flood), the generator `tests/support` uses as well.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// A dense layer's shape: rows (outputs), columns (inputs).
pub type Shape = (usize, usize);

/// Parameters in the generated code's flat order (each layer's W row-major, then its b):
/// W uniform in +-sqrt(6 / (rows + cols)) (Glorot), b uniform in +-0.1 (not zero, so that the
/// bias gradients are checked at a point where they matter).
pub fn params(shapes: &[Shape], seed: u64) -> Vec<f64> {
    let mut rng = SplitMix(seed);
    let mut v = Vec::new();
    for &(r, c) in shapes {
        let s = (6.0 / (r + c) as f64).sqrt();
        v.extend((0..r * c).map(|_| rng.uniform(-s, s)));
        v.extend((0..r).map(|_| rng.uniform(-0.1, 0.1)));
    }
    v
}

/// The generated data set: sample `i` of `n` takes `1 + inputs` draws of one SplitMix stream:
/// its class `u % outputs`, then `x_j = 0.5 u_j + 0.5 [j % outputs == class]` (learnable, and
/// exact in every framework); its target is the class's one-hot vector.
pub fn data(seed: u64, n: usize, inputs: usize, outputs: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = SplitMix(seed);
    let mut x = Vec::with_capacity(n * inputs);
    let mut t = vec![0.0; n * outputs];
    for i in 0..n {
        let class = (rng.next_u64() % outputs as u64) as usize;
        t[i * outputs + class] = 1.0;
        for j in 0..inputs {
            let bump = if j % outputs == class { 0.5 } else { 0.0 };
            x.push(rng.uniform(0.0, 0.5) + bump);
        }
    }
    (x, t)
}

/// The seeds every language uses: the weights of the per-sample and batch benchmarks, and the
/// data set (its first rows are the benchmarks' samples).
pub const PARAM_SEED: u64 = 12;
pub const DATA_SEED: u64 = 13;
