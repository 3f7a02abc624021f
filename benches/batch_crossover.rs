//! Where the matrix form of the batch functions starts to beat the per-sample code (the
//! thresholds of `derive!(batch = auto)`, `core/src/rust/batch/mod.rs`): small networks
//! whose products do 12 to 1,664 multiply-adds per sample, batches of 1 to 64 rows. Same
//! harness and checks as `benches/batch.rs`.
//!
//! `cargo bench --bench batch_crossover`

#[path = "batch_support.rs"]
mod support;

macro_rules! both {
    ($($body:tt)*) => {
        mod per_sample {
            chainrule::derive!(batch = per_sample, file = "examples/nets/seed004.nn");
            chainrule::derive!(batch = per_sample, file = "benches/nets/mlp16.nn");
            chainrule::derive! { batch = per_sample, $($body)* }
        }
        mod matrix {
            chainrule::derive!(batch = matrix, file = "examples/nets/seed004.nn");
            chainrule::derive!(batch = matrix, file = "benches/nets/mlp16.nn");
            chainrule::derive! { batch = matrix, $($body)* }
        }
    };
}

both! {
    network w4 {
        input  x[4]
        target t[2]
        z1[4]  = W1 @ x + b1
        a1     = tanh(z1)
        y[2]   = W2 @ a1 + b2
        loss L = 0.5 * sum((t - y)^2)
    }
    network w8 {
        input  x[8]
        target t[4]
        z1[8]  = W1 @ x + b1
        a1     = tanh(z1)
        y[4]   = W2 @ a1 + b2
        loss L = 0.5 * sum((t - y)^2)
    }
    network w16 {
        input  x[16]
        target t[4]
        z1[16] = W1 @ x + b1
        a1     = tanh(z1)
        y[4]   = W2 @ a1 + b2
        loss L = 0.5 * sum((t - y)^2)
    }
}

fn main() {
    support::run(
        &[
            net!(seed004, &[(3, 2), (2, 3)]),
            net!(w4, &[(4, 4), (2, 4)]),
            net!(w8, &[(8, 8), (4, 8)]),
            net!(w16, &[(16, 16), (4, 16)]),
            net!(mlp16, &[(32, 16), (32, 32), (4, 32)]),
        ],
        &[1, 2, 4, 8, 16, 64],
    );
}
