//! Seed 001, "Stochastic Back Propagation with PyTorch": one sample x = [0.1, 0.9], t = [0.5],
//! loss `0.5 * MSELoss(reduction='sum')`, one SGD step (`examples/nets/seed001_torch_single.nn`).
//!
//! The file holds two networks and this example runs both:
//! - `torch_single`, the model in the cell's code (Linear -> Sigmoid -> Linear, lr 0.1): its
//!   output, loss, parameter changes and updated parameters. The seed printed no numbers for it.
//! - `torch_single_printed`, the model whose numbers the cell printed (its output carries
//!   `grad_fn=<TanhBackward0>`: Linear -> Tanh -> Linear -> Tanh): output -0.7869, loss 0.8281,
//!   and changes that are -0.25 times the gradient (not the -0.1 of the cell's optimizer).
//!   Each printed number is checked against the seed's to the 4 decimals PyTorch showed.
//!
//! Run with `cargo run --release --example seed001_torch_single`.

chainrule::derive!(file = "examples/nets/seed001_torch_single.nn");

const X: [f64; 2] = [0.1, 0.9];
const T: [f64; 1] = [0.5];

fn main() {
    let mut mismatches = 0;

    println!("torch_single: the cell's code, Linear(2, 2) -> Sigmoid -> Linear(2, 1), lr 0.1");
    {
        use torch_single::{Params, evaluate, sgd_step};
        let p = Params::default();
        let f = evaluate(&p, &X, &T);
        let mut q = p;
        sgd_step(&mut q, &X, &T, 0.1);
        println!("  The outputs are (z)  {}", tensor(&f.y));
        println!("  The loss is          {:.4}", f.L);
        print_step(
            [&p.W1, &p.b1, &p.W2, &p.b2],
            [&q.W1, &q.b1, &q.W2, &q.b2],
            None,
            &mut mismatches,
        );
    }

    println!();
    println!("torch_single_printed: the model behind the printed numbers, Linear -> Tanh ->");
    println!("Linear -> Tanh, changes = -0.25 x gradient");
    {
        use torch_single_printed::{Params, evaluate, sgd_step};
        let p = Params::default();
        let f = evaluate(&p, &X, &T);
        let mut q = p;
        sgd_step(&mut q, &X, &T, 0.25);
        println!("  The outputs are (z)  {}   seed: [-0.7869]", tensor(&f.y));
        check(f.y[0], -0.7869, &mut mismatches);
        println!("  The loss is          {:.4}      seed: 0.8281", f.L);
        check(f.L, 0.8281, &mut mismatches);
        // What the cell printed; its last two "updated" tensors were cut off in the notebook.
        let seed: [&[f64]; 4] = [
            &[0.0092, 0.0829, 0.0139, 0.1255],
            &[0.0921, 0.1395],
            &[0.0300, -0.0658],
            &[0.1225],
        ];
        print_step(
            [&p.W1, &p.b1, &p.W2, &p.b2],
            [&q.W1, &q.b1, &q.W2, &q.b2],
            Some(seed),
            &mut mismatches,
        );
        let seed_w1 = [0.5092, 0.0829, 0.3139, -0.5745];
        for (got, want) in q.W1.iter().flatten().zip(seed_w1) {
            check(*got, want, &mut mismatches);
        }
        for (got, want) in q.b1.iter().zip([0.2921, 0.1395]) {
            check(*got, want, &mut mismatches);
        }
        println!(
            "  (seed: [[0.5092, 0.0829], [0.3139, -0.5745]] and [0.2921, 0.1395]; the rest was cut off)"
        );
    }

    if mismatches > 0 {
        eprintln!("error: {mismatches} printed numbers differ from the seed's");
        std::process::exit(1);
    }
    println!();
    println!("every number the seed printed is reproduced to its 4 decimals");
}

/// The four parameters of either network, before and after the step, as PyTorch printed
/// them: the changes first, then the updated values.
fn print_step(
    before: [&dyn Flat; 4],
    after: [&dyn Flat; 4],
    seed_changes: Option<[&[f64]; 4]>,
    mismatches: &mut usize,
) {
    const NAMES: [&str; 4] = [
        "input to hidden layer weights",
        "input to hidden layer bias",
        "hidden to output layer weights",
        "hidden to output layer bias",
    ];
    for (i, name) in NAMES.iter().enumerate() {
        let change: Vec<f64> = after[i]
            .values()
            .iter()
            .zip(before[i].values())
            .map(|(a, b)| a - b)
            .collect();
        let mut line = format!("  The changes b/w {name:<31} {}", after[i].show(&change));
        if let Some(seed) = seed_changes {
            line += &format!("   seed: {}", after[i].show(seed[i]));
            for (got, want) in change.iter().zip(seed[i]) {
                check(*got, *want, mismatches);
            }
        }
        println!("{line}");
    }
    for (i, name) in NAMES.iter().enumerate() {
        let values = after[i].values();
        println!("  The {name:<39} {}", after[i].show(&values));
    }
}

/// A parameter of either shape, flattened row-major, printed back in its own shape.
trait Flat {
    fn values(&self) -> Vec<f64>;
    fn show(&self, values: &[f64]) -> String;
}

impl<const N: usize> Flat for [f64; N] {
    fn values(&self) -> Vec<f64> {
        self.to_vec()
    }
    fn show(&self, values: &[f64]) -> String {
        tensor(values)
    }
}

impl<const R: usize, const C: usize> Flat for [[f64; C]; R] {
    fn values(&self) -> Vec<f64> {
        self.iter().flatten().copied().collect()
    }
    fn show(&self, values: &[f64]) -> String {
        let rows: Vec<String> = values.chunks(C).map(tensor).collect();
        format!("[{}]", rows.join(", "))
    }
}

fn tensor(values: &[f64]) -> String {
    let cells: Vec<String> = values.iter().map(|v| format!("{:.4}", v + 0.0)).collect();
    format!("[{}]", cells.join(", "))
}

/// PyTorch printed 4 decimals: a value matches when it rounds to the printed one.
fn check(got: f64, printed: f64, mismatches: &mut usize) {
    if (got - printed).abs() > 0.5e-4 + 1e-12 {
        eprintln!("mismatch: {got} does not round to the seed's {printed}");
        *mismatches += 1;
    }
}
