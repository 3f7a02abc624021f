//! The batch functions (issue 13): `gradient_batch_into` per sample against the matrix form,
//! on 1 and 2 threads (`--features parallel`), for seed 004's network, `mlp16` and the two
//! largest networks today's emitter accepts with wide layers (64-48-10 and 784-5-10: the
//! per-sample `gradient` a module always holds is limited to 15,000 operations), at batch
//! sizes from 1 to 1,024; the crossover that `batch = auto` uses; and, as the floor, the
//! time of the same GEMMs alone (`ndarray::linalg::general_mat_mul`), to see what the
//! element-wise parts and the bookkeeping cost.
//!
//! Every configuration is checked against the per-sample result (1e-12 relative) before it
//! is timed. Prints one markdown table per network: median of 7 rounds, microseconds per call.
//!
//! `cargo bench --bench batch --features parallel` (or without the feature: 1 thread only).

mod per_sample {
    chainrule::derive!(batch = per_sample, file = "examples/nets/seed004.nn");
    chainrule::derive!(batch = per_sample, file = "benches/nets/mlp16.nn");
    chainrule::derive! {
        batch = per_sample,
        network w64 {
            input  x[64]
            target t[10]
            z1[48] = W1 @ x + b1
            a1     = tanh(z1)
            y[10]  = W2 @ a1 + b2
            loss L = 0.5 * sum((t - y)^2)
        }
        network w784 {
            input  x[784]
            target t[10]
            z1[5]  = W1 @ x + b1
            a1     = tanh(z1)
            y[10]  = W2 @ a1 + b2
            loss L = 0.5 * sum((t - y)^2)
        }
    }
}

mod matrix {
    chainrule::derive!(batch = matrix, file = "examples/nets/seed004.nn");
    chainrule::derive!(batch = matrix, file = "benches/nets/mlp16.nn");
    chainrule::derive! {
        batch = matrix,
        network w64 {
            input  x[64]
            target t[10]
            z1[48] = W1 @ x + b1
            a1     = tanh(z1)
            y[10]  = W2 @ a1 + b2
            loss L = 0.5 * sum((t - y)^2)
        }
        network w784 {
            input  x[784]
            target t[10]
            z1[5]  = W1 @ x + b1
            a1     = tanh(z1)
            y[10]  = W2 @ a1 + b2
            loss L = 0.5 * sum((t - y)^2)
        }
    }
}

#[path = "batch_support.rs"]
mod support;

fn main() {
    support::run(
        &[
            net!(seed004, &[(3, 2), (2, 3)]),
            net!(mlp16, &[(32, 16), (32, 32), (4, 32)]),
            net!(w64, &[(48, 64), (10, 48)]),
            net!(w784, &[(5, 784), (10, 5)]),
        ],
        &[1, 2, 8, 64, 256, 1024],
    );
}
