//! Seed 001, "Batch Back Propagation with PyTorch": Linear(2, 2) -> Linear(2, 2) with no
//! activation, loss `0.5 * MSELoss(reduction='sum')` over a batch of two samples, one SGD step
//! with lr 0.1 (`examples/nets/seed001_torch_batch.nn`, whose `batch sum` matches the
//! reduction).
//!
//! Prints the outputs [[15, 54], [5, 56]], the loss 2655, the parameter changes
//! ([[142.2, -215], [141.4, -210]] for the first layer, ...) and the updated parameters, each
//! checked against what PyTorch printed. The batch gradient comes from `gradient_batch`, fed
//! `ndarray` arrays with one sample per row.
//!
//! Run with `cargo run --release --example seed001_torch_batch`.

chainrule::derive!(file = "examples/nets/seed001_torch_batch.nn");

use chainrule::ndarray::{Array2, array};
use torch_batch::Params;

const LR: f64 = 0.1;

fn main() {
    let inputs: Array2<f64> = array![[-1.0, 2.0], [-3.0, 4.0]];
    let labels: Array2<f64> = array![[-6.0, 8.0], [-2.0, 4.0]];
    let p = Params::default();
    let mut mismatches = 0;

    // gradient_batch gives the loss and gradient only; the outputs come from the per-sample
    // forward pass, one row at a time, as PyTorch's batched matmul would give them.
    let outputs: Vec<[f64; 2]> = inputs
        .rows()
        .into_iter()
        .map(|row| torch_batch::forward(&p, &[row[0], row[1]]).y)
        .collect();
    println!("Forward pass (seed 001, batch of two)");
    println!("  The outputs are  {outputs:?}   seed: [[15., 54.], [5., 56.]]");
    for (got, want) in outputs.iter().flatten().zip([15.0, 54.0, 5.0, 56.0]) {
        check(*got, want, &mut mismatches);
    }

    let (loss, g) = match torch_batch::gradient_batch(&p, inputs.view(), labels.view()) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!("  The loss is      {loss}   seed: 2655.");
    check(loss, 2655.0, &mut mismatches);

    let mut q = p;
    let mut flat = q.flat();
    for (w, d) in flat.iter_mut().zip(g.flat()) {
        *w -= LR * d;
    }
    q.set_flat(&flat);

    println!();
    println!("One SGD step, lr = {LR}: change = -lr * (sum over the batch of dL/dw)");
    let rows = [
        Row::new(
            "input to hidden layer weights",
            &p.W1.concat(),
            &q.W1.concat(),
            &[142.2, -215.0, 141.4, -210.0],
        ),
        Row::new("input to hidden layer bias", &p.b1, &q.b1, &[-72.8, -68.6]),
        Row::new(
            "hidden to output layer weights",
            &p.W2.concat(),
            &q.W2.concat(),
            &[-7.0, -12.6, -19.0, -49.6],
        ),
        Row::new("hidden to output layer bias", &p.b2, &q.b2, &[-2.8, -9.8]),
    ];
    for row in &rows {
        println!(
            "  The changes b/w {:<31} {:<44} seed: {}",
            row.name,
            show(&row.change),
            show(row.seed)
        );
        for (got, want) in row.change.iter().zip(row.seed) {
            check(*got, *want, &mut mismatches);
        }
    }
    for row in &rows {
        println!("  The {:<43} {}", row.name, show(&row.updated));
    }
    // Only the first layer's updated weights survived in the notebook's output.
    println!("  (seed: input to hidden layer weights [[143.2, -215.0], [143.4, -207.0]])");
    for (got, want) in q.W1.iter().flatten().zip([143.2, -215.0, 143.4, -207.0]) {
        check(*got, want, &mut mismatches);
    }

    if mismatches > 0 {
        eprintln!("error: {mismatches} numbers differ from the seed's");
        std::process::exit(1);
    }
    println!();
    println!("every number the seed printed is reproduced");
}

/// One of PyTorch's printed parameters: its change, what the seed printed for the change,
/// and its updated value, flattened row-major.
struct Row {
    name: &'static str,
    change: Vec<f64>,
    seed: &'static [f64],
    updated: Vec<f64>,
}

impl Row {
    fn new(name: &'static str, before: &[f64], after: &[f64], seed: &'static [f64]) -> Row {
        Row {
            name,
            change: after.iter().zip(before).map(|(a, b)| a - b).collect(),
            seed,
            updated: after.to_vec(),
        }
    }
}

/// A 2-element vector, or a 2x2 matrix row by row, with PyTorch's 4 decimals.
fn show(values: &[f64]) -> String {
    let cells: Vec<String> = values.iter().map(|v| format!("{:.4}", v + 0.0)).collect();
    if cells.len() == 4 {
        format!("[[{}], [{}]]", cells[..2].join(", "), cells[2..].join(", "))
    } else {
        format!("[{}]", cells.join(", "))
    }
}

/// PyTorch printed 4 decimals: a value matches when it rounds to the printed one.
fn check(got: f64, printed: f64, mismatches: &mut usize) {
    if (got - printed).abs() > 0.5e-4 {
        eprintln!("mismatch: {got} does not round to the seed's {printed}");
        *mismatches += 1;
    }
}
