//! Seed 003 ("Back-propagation by chain rule"): the 1 -> 1 -> 1 network with sin activations,
//! y_hat = sin(w2 * sin(w1 * x)), and MSE over the data set (`examples/nets/seed003_sine.nn`,
//! `batch mean`), trained by full-batch gradient descent with `gradient_batch`.
//!
//! Prints the gradient at the starting weights as the seed's last cell does ("The derivatives
//! of w1 w2 wrt L are ..."), computed both by the seed's scaffold functions (dldy, dyda, dadh,
//! dhda, dadw, written out by hand here) and by `chainrule::derive!`; then the loss every 100
//! steps (it must fall, or the example exits non-zero), the weights found, and saves the
//! seed's plot, 'True Function' against 'Neural Network Predictions', as `sine.png` (or the
//! path given as the first argument).
//!
//! Run with `cargo run --release --example seed003_sine [OUT.png]`.

chainrule::derive!(file = "examples/nets/seed003_sine.nn");

use std::f64::consts::PI;

use chainrule::ndarray::Array2;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sine::Params;

/// The seed reads x and y from backprop.csv, which the notebook does not include. The network
/// can only compute sin(w2 * sin(w1 * x)), and the exercise wants its gradient to train it, so
/// the data here is that function at chosen weights: a target the network can fit exactly, so
/// a loss falling to zero means the chain rule is right. w1 = 0.5 keeps the wave monotone on
/// [-pi, pi]; w2 = 1.5 bends it so the outer sin matters. With a target that turns back inside
/// the range (w1 = 1.3), gradient descent from seed 310's small w1 stalls on a plateau (loss
/// 0.331, w1 near -0.05). Without noise, because the seed draws its data with `ax.plot` as a
/// line, which only reads well for a clean function of sorted x.
const TRUE_W1: f64 = 0.5;
const TRUE_W2: f64 = 1.5;
const POINTS: usize = 200;
/// The seed's `np.random.seed(310)`; the draw itself is rand's, not numpy's.
const SEED: u64 = 310;
const LR: f64 = 0.3;
const STEPS: usize = 1_500;
const REPORT_EVERY: usize = 100;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sine.png".to_string());

    // Evenly spaced and sorted, for the same reason as the clean target: the plot is a line.
    let x = Array2::from_shape_fn((POINTS, 1), |(i, _)| {
        -PI + 2.0 * PI * i as f64 / (POINTS - 1) as f64
    });
    let y = x.mapv(|x| (TRUE_W2 * (TRUE_W1 * x).sin()).sin());

    // W = [np.random.randn(1, 1), np.random.randn(1, 1)]: two standard normal draws, here by
    // Box-Muller from rand's StdRng (rand itself has no normal distribution).
    let mut rng = StdRng::seed_from_u64(SEED);
    let (n1, n2) = standard_normal_pair(&mut rng);
    let start = Params {
        W1: [[n1]],
        W2: [[n2]],
    };
    println!("data: {POINTS} points, x in [-pi, pi], y = sin({TRUE_W2} * sin({TRUE_W1} * x))");
    println!(
        "starting weights (seed {SEED}): w1 = {:.6}, w2 = {:.6}",
        start.W1[0][0], start.W2[0][0]
    );

    let (loss, derived) = batch_gradient(&start, &x, &y);
    let hand = scaffold_dldw(&start, &x, &y);
    println!();
    println!("The seed's dldw(W, x) returns [mean(dldw2), mean(dldw1)], in that order:");
    println!(
        "  by its scaffold functions: The derivatives of w1 w2 wrt L are [{:.10}, {:.10}]",
        hand[0], hand[1]
    );
    println!(
        "  by chainrule::derive!:     The derivatives of w1 w2 wrt L are [{:.10}, {:.10}]",
        derived.W2[0][0], derived.W1[0][0]
    );
    println!("  (the list holds dL/dw2 first although the message names w1 first)");
    let agree = (hand[0] - derived.W2[0][0]).abs() <= 1e-12 * hand[0].abs().max(1.0)
        && (hand[1] - derived.W1[0][0]).abs() <= 1e-12 * hand[1].abs().max(1.0);
    if !agree {
        eprintln!("error: the scaffold's chain rule and the derived gradient disagree");
        std::process::exit(1);
    }

    println!();
    println!("Full-batch gradient descent, lr = {LR}: MSE over the {POINTS} points");
    let mut p = start;
    let first = loss;
    let mut last = loss;
    let mut rises = 0;
    for step in 0..=STEPS {
        let (loss, g) = batch_gradient(&p, &x, &y);
        if loss > last {
            rises += 1;
        }
        last = loss;
        if step % REPORT_EVERY == 0 {
            println!(
                "  step {step:>5}  loss {loss:.3e}  w1 {:>9.6}  w2 {:>9.6}",
                p.W1[0][0], p.W2[0][0]
            );
        }
        if step < STEPS {
            p.W1[0][0] -= LR * g.W1[0][0];
            p.W2[0][0] -= LR * g.W2[0][0];
        }
    }
    // NaN (a diverged run) compares false, so it counts as not falling.
    let fell = last < first;
    if !fell {
        eprintln!("error: the loss did not fall: {first} -> {last}");
        std::process::exit(1);
    }
    println!("  steps where the loss rose: {rises} of {STEPS}");
    // sin(-w2 * sin(-w1 * x)) = sin(w2 * sin(w1 * x)): both signs are the same network.
    println!(
        "  the loss fell from {first:.6} to {last:.3e}; weights (w1, w2) = ({:.6}, {:.6}),",
        p.W1[0][0], p.W2[0][0]
    );
    println!(
        "  the data's are ({TRUE_W1}, {TRUE_W2}) or, equivalently, ({}, {})",
        -TRUE_W1, -TRUE_W2
    );

    let predictions: Vec<(f64, f64)> = x
        .column(0)
        .iter()
        .map(|&x| (x, sine::forward(&p, &[x]).yhat[0]))
        .collect();
    let truth: Vec<(f64, f64)> = x
        .column(0)
        .iter()
        .copied()
        .zip(y.column(0).iter().copied())
        .collect();
    match plot(&out, &truth, &predictions) {
        Ok(with_text) => {
            println!();
            println!("saved {out}");
            if !with_text {
                println!("  without text: no font at {FONT}, so no axis labels or legend");
            }
        }
        Err(e) => {
            eprintln!("error: could not draw {out}: {e}");
            std::process::exit(1);
        }
    }
}

/// `gradient_batch` over the whole data set; the shapes are built above, so an error here
/// is a bug in this example.
fn batch_gradient(p: &Params, x: &Array2<f64>, y: &Array2<f64>) -> (f64, Params) {
    sine::gradient_batch(p, x.view(), y.view()).expect("x and y are n x 1")
}

/// The seed's scaffold, filled in: `dldw` combines its per-factor functions by the hints'
/// chain rule and averages over the points.
fn scaffold_dldw(p: &Params, x: &Array2<f64>, y: &Array2<f64>) -> [f64; 2] {
    let (w1, w2) = (p.W1[0][0], p.W2[0][0]);
    let der_a = f64::cos;
    // da/dw is the previous activation, or x for the first weight.
    let dadw = |h: f64| h;
    let dhda = der_a;
    let dyda = der_a;
    let dadh = |w: f64| w;
    let dldy = |y_pred: f64, y: f64| 2.0 * (y_pred - y);
    let (mut sum2, mut sum1) = (0.0, 0.0);
    for (&x, &y) in x.column(0).iter().zip(y.column(0)) {
        let a1 = x * w1;
        let h1 = a1.sin();
        let a2 = h1 * w2;
        let y_pred = a2.sin();
        sum2 += dldy(y_pred, y) * dyda(a2) * dadw(h1);
        sum1 += dldy(y_pred, y) * dyda(a2) * dadh(w2) * dhda(a1) * dadw(x);
    }
    let n = x.nrows() as f64;
    [sum2 / n, sum1 / n]
}

/// Two independent standard normal numbers from two uniform ones (Box-Muller).
fn standard_normal_pair(rng: &mut StdRng) -> (f64, f64) {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    (r * (2.0 * PI * u2).cos(), r * (2.0 * PI * u2).sin())
}

/// The seed's figure: 8 x 6 inches at 100 dpi, the data in dark blue, the network in
/// #9FC131, axes x and y, legend placed where the lines leave room. Returns
/// whether text could be drawn: plotters loads no system fonts, so without the DejaVu file the
/// figure still gets its lines, and no labels.
fn plot(
    path: &str,
    truth: &[(f64, f64)],
    predictions: &[(f64, f64)],
) -> Result<bool, Box<dyn std::error::Error>> {
    let with_text = match std::fs::read(FONT) {
        // register_font keeps the bytes for the rest of the run.
        Ok(bytes) => register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into()))
            .map(|()| true)
            .map_err(|_| format!("{FONT} is not a usable font"))?,
        Err(_) => false,
    };
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let (y_min, y_max) = truth
        .iter()
        .chain(predictions)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, y)| {
            (lo.min(y), hi.max(y))
        });
    let pad = 0.05 * (y_max - y_min).max(1e-9);
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if with_text {
        builder.x_label_area_size(50).y_label_area_size(60);
    }
    let mut chart = builder.build_cartesian_2d(-PI..PI, (y_min - pad)..(y_max + pad))?;

    let dark_blue = RGBColor(0x00, 0x00, 0x8b);
    let green = RGBColor(0x9f, 0xc1, 0x31);
    if with_text {
        chart
            .configure_mesh()
            .x_desc("x")
            .y_desc("y")
            .axis_desc_style(("sans-serif", 22))
            .label_style(("sans-serif", 16))
            .x_label_formatter(&|v| format!("{:.1}", v + 0.0))
            .y_label_formatter(&|v| format!("{:.1}", v + 0.0))
            .draw()?;
    } else {
        chart.configure_mesh().x_labels(0).y_labels(0).draw()?;
    }
    // Labels are only text once the legend is drawn, so they can be attached either way.
    chart
        .draw_series(LineSeries::new(
            truth.iter().copied(),
            // The seed draws both lines 2 wide; a trained network covers the data exactly, so
            // the data is drawn wider to stay visible around the predictions.
            dark_blue.stroke_width(6),
        ))?
        .label("True Function")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], dark_blue.stroke_width(6)));
    chart
        .draw_series(LineSeries::new(
            predictions.iter().copied(),
            green.stroke_width(2),
        ))?
        .label("Neural Network Predictions")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], green.stroke_width(2)));
    if with_text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 20))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
    }
    root.present()?;
    Ok(with_text)
}
