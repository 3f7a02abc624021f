//! candle (`candle-core` on the CPU, its autograd `backward()`) on the digits CNN of
//! `benches/digits_cnn.rs` (`examples/digits_cnn.nn`: sixteen 3x3 filters over a 1x8x8 image,
//! a bias per filter, relu, 2x2 max pooling, a dense layer 144 -> 10, cross-entropy with a
//! label, weight decay 0.0005 on both weight tensors, the batch mean): the gradient of one
//! sample and of 256 rows, on the same numbers (`benches/batch_support.rs`'s `numbers`, the
//! parameters in the order of the generated `Params::flat`). The loss printed must equal the
//! Rust benchmark's and JAX's (2.562641071652).
//!
//! candle's gradient is not the network's: `K1` and `b1` come out 4 times too small (norms
//! 0.0855 and 0.0923 where chainrule and JAX give 0.3394 and 0.3691; `W2` and `b2` agree).
//! candle-core 0.11.1's max-pool backward (`backprop.rs`, `Op::MaxPool2D`) multiplies the
//! upstream gradient by `avg_pool(mask)`, the fraction of each window's elements that are
//! maximal (1/4 for a 2x2 window with one maximum), where it means to divide by their count.
//! Its work per call is what the right gradient would cost, so the times stand.
//!
//! Threads: candle's CPU kernels run on `RAYON_NUM_THREADS` threads. Writes
//! `bench/results/digits_cnn_candle_{N}t.json`.
//!
//! `RAYON_NUM_THREADS=1 cargo run --release --manifest-path bench/candle/Cargo.toml --bin digits_cnn`

#[path = "../../../../benches/baselines/point.rs"]
#[allow(dead_code)]
mod point;
#[path = "../timing.rs"]
mod timing;

use point::SplitMix;

use candle_core::{Device, Result, Tensor, Var};

const BATCH: usize = 256;
const FILTERS: usize = 16;
const CLASSES: usize = 10;
const DECAY: f64 = 0.0005;

/// `benches/batch_support.rs`'s `numbers`: the benchmarks' SplitMix64, uniform in
/// [-scale, scale), rounded as there (`(2u - 1) * scale`) so that the numbers are the same bits.
fn numbers(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut bits = SplitMix(seed);
    (0..n)
        .map(|_| ((bits.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale)
        .collect()
}

struct Net {
    k1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
}

impl Net {
    fn new(dev: &Device) -> Result<Net> {
        let sizes = [FILTERS * 9, FILTERS, CLASSES * FILTERS * 9, CLASSES];
        let flat = numbers(7, sizes.iter().sum(), 0.3);
        let mut at = 0;
        let mut take = |n: usize| {
            let v = flat[at..at + n].to_vec();
            at += n;
            v
        };
        Ok(Net {
            k1: Var::from_tensor(&Tensor::from_vec(take(sizes[0]), (FILTERS, 1, 3, 3), dev)?)?,
            b1: Var::from_tensor(&Tensor::from_vec(take(sizes[1]), FILTERS, dev)?)?,
            w2: Var::from_tensor(&Tensor::from_vec(
                take(sizes[2]),
                (CLASSES, FILTERS * 9),
                dev,
            )?)?,
            b2: Var::from_tensor(&Tensor::from_vec(take(sizes[3]), CLASSES, dev)?)?,
        })
    }

    /// The batch mean of the per-sample loss; `x` [B][1][8][8], `onehot` [B][10].
    fn loss(&self, x: &Tensor, onehot: &Tensor) -> Result<Tensor> {
        let z = x
            .conv2d(self.k1.as_tensor(), 0, 1, 1, 1)?
            .broadcast_add(&self.b1.as_tensor().reshape((1, FILTERS, 1, 1))?)?;
        let pooled = z.relu()?.max_pool2d(2)?.flatten_from(1)?;
        let h = pooled
            .matmul(&self.w2.as_tensor().t()?)?
            .broadcast_add(self.b2.as_tensor())?;
        let max = h.max_keepdim(1)?;
        let lse = h
            .broadcast_sub(&max)?
            .exp()?
            .sum_keepdim(1)?
            .log()?
            .add(&max)?;
        let logp = h.broadcast_sub(&lse)?;
        let nll = (logp * onehot)?.sum_keepdim(1)?.neg()?.mean_all()?;
        let decay = ((self.k1.as_tensor().sqr()?.sum_all()?
            + self.w2.as_tensor().sqr()?.sum_all()?)?
            * DECAY)?;
        nll + decay
    }

    /// The loss and the gradient's norm; with `report`, each parameter's gradient norm printed.
    fn gradient(&self, x: &Tensor, onehot: &Tensor, report: bool) -> Result<(f64, f64)> {
        let loss = self.loss(x, onehot)?;
        let grads = loss.backward()?;
        let mut norm = 0.0;
        for (name, v) in [
            ("K1", &self.k1),
            ("b1", &self.b1),
            ("W2", &self.w2),
            ("b2", &self.b2),
        ] {
            if let Some(g) = grads.get(v.as_tensor()) {
                let part = g.sqr()?.sum_all()?.to_scalar::<f64>()?;
                if report {
                    println!("  gradient of {name}: norm {:.12}", part.sqrt());
                }
                norm += part;
            }
        }
        Ok((loss.to_scalar::<f64>()?, norm.sqrt()))
    }
}

/// Seconds per call, the median of 7 loops of about 0.3 s each.
fn timed(f: impl FnMut() -> Result<()>) -> Result<f64> {
    Ok(timing::per_call(f)?.0[3])
}

fn main() -> Result<()> {
    let dev = Device::Cpu;
    let net = Net::new(&dev)?;
    let x = Tensor::from_vec(numbers(8, BATCH * 64, 1.0), (BATCH, 1, 8, 8), &dev)?;
    let labels: Vec<usize> = numbers(9, BATCH, 1.0)
        .iter()
        .map(|v| (((v + 1.0) * 5.0) as usize).min(9))
        .collect();
    let mut hot = vec![0.0; BATCH * CLASSES];
    for (r, &c) in labels.iter().enumerate() {
        hot[r * CLASSES + c] = 1.0;
    }
    let onehot = Tensor::from_vec(hot, (BATCH, CLASSES), &dev)?;
    let (loss, norm) = net.gradient(&x, &onehot, true)?;
    let (x1, hot1) = (x.narrow(0, 0, 1)?, onehot.narrow(0, 0, 1)?);
    let one = timed(|| net.gradient(&x1, &hot1, false).map(drop))?;
    let batch = timed(|| net.gradient(&x, &onehot, false).map(drop))?;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "candle-core 0.11 (CPU, {threads} thread(s)): loss {loss:.12}, gradient norm {norm:.12}"
    );
    println!("  gradient, one sample: {:.1} us", one * 1e6);
    println!("  gradient, {BATCH} rows: {:.1} us", batch * 1e6);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../results");
    std::fs::create_dir_all(dir).map_err(candle_core::Error::wrap)?;
    let out = format!(
        "{{\"loss\": {loss}, \"per_sample_us\": {}, \"batch_us\": {}, \"threads\": \"{threads}\"}}",
        one * 1e6,
        batch * 1e6
    );
    std::fs::write(format!("{dir}/digits_cnn_candle_{threads}t.json"), out)
        .map_err(candle_core::Error::wrap)?;
    Ok(())
}
