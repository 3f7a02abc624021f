//! A Hamiltonian neural network (LANGUAGE.md's `hnn`) learns a pendulum from generated
//! trajectories, then rolls out its own dynamics far past the training data.
//!
//! The network learns a scalar energy H(q, p); its dynamics are H's input derivatives,
//! dq/dt = dH/dp and dp/dt = -dH/dq, written with `grad` inside the network. The loss
//! compares them with the observed velocities, so each training step needs the gradient of a
//! loss that holds derivatives: a second derivative, which `chainrule::derive!` writes as
//! straight-line code like any other gradient. Training is per-sample `sgd_step`.
//!
//! The true system is the pendulum H = p^2 / 2 + (1 - cos q). Because the learned vector field
//! is a Hamiltonian one, its rollouts keep the learned energy constant and the true energy
//! nearly so: the example prints both drifts over a long rollout (exit 1 if the true energy
//! drifts by more than 5%) and draws learned and true trajectories, in time and in the phase
//! plane, to `hamiltonian.png` (or the path given as the first argument).
//!
//! Run with `cargo run --release --example hamiltonian [OUT.png]`.

chainrule::derive! {
    network hnn {
        input  q[1]
        input  p[1]
        target dq[1]                    // observed dq/dt
        target dp[1]                    // observed dp/dt
        h[16] = tanh(Wq @ q + Wp @ p + b)
        H[1]  = V @ h
        dHdp[1] = grad(H[0], p)         // the learned dq/dt
        dHdq[1] = grad(H[0], q)         // minus the learned dp/dt
        loss L = sum((dHdp - dq)^2) + sum((dHdq + dp)^2)
    }
}

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const SEED: u64 = 15;
/// Training trajectories, their starting angles spread over this range (radians).
const TRAJECTORIES: usize = 24;
const MAX_ANGLE: f64 = 2.0;
const SAMPLES_PER_TRAJECTORY: usize = 40;
const DT: f64 = 0.1;
const EPOCHS: usize = 400;
const LR: f64 = 0.01;
/// The long rollout: about 30 periods of the test swing.
const ROLLOUT_STEPS: usize = 20_000;
const ROLLOUT_DT: f64 = 0.01;
const TEST_ANGLE: f64 = 1.2;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// The true pendulum: (dq/dt, dp/dt) and its energy.
fn true_field(q: f64, p: f64) -> (f64, f64) {
    (p, -q.sin())
}

fn true_energy(q: f64, p: f64) -> f64 {
    0.5 * p * p + (1.0 - q.cos())
}

/// The learned field, from the network's own `grad` vectors.
fn learned_field(params: &hnn::Params, q: f64, p: f64) -> (f64, f64) {
    let f = hnn::forward(params, &[q], &[p]);
    (f.dHdp[0], -f.dHdq[0])
}

/// One classical Runge-Kutta step of a vector field.
fn rk4(field: &impl Fn(f64, f64) -> (f64, f64), (q, p): (f64, f64), dt: f64) -> (f64, f64) {
    let k1 = field(q, p);
    let k2 = field(q + 0.5 * dt * k1.0, p + 0.5 * dt * k1.1);
    let k3 = field(q + 0.5 * dt * k2.0, p + 0.5 * dt * k2.1);
    let k4 = field(q + dt * k3.0, p + dt * k3.1);
    (
        q + dt / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0),
        p + dt / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1),
    )
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "hamiltonian.png".to_string());
    let mut rng = StdRng::seed_from_u64(SEED);

    // Training data: states along true trajectories with their observed velocities, and a
    // little observation noise.
    let mut data: Vec<[f64; 4]> = Vec::new();
    for i in 0..TRAJECTORIES {
        let angle = MAX_ANGLE * (i as f64 + 0.5) / TRAJECTORIES as f64;
        let mut state = (angle * if i % 2 == 0 { 1.0 } else { -1.0 }, 0.0);
        for _ in 0..SAMPLES_PER_TRAJECTORY {
            let (dq, dp) = true_field(state.0, state.1);
            let noise = |rng: &mut StdRng| 0.01 * (rng.random::<f64>() - 0.5);
            data.push([state.0, state.1, dq + noise(&mut rng), dp + noise(&mut rng)]);
            state = rk4(&true_field, state, DT);
        }
    }
    println!(
        "data: {} states from {TRAJECTORIES} pendulum trajectories (H = p^2/2 + 1 - cos q), starting angles up to {MAX_ANGLE} rad",
        data.len()
    );

    // Glorot-uniform starting weights for the tanh layer and the output.
    let mut params = hnn::Params::zeros();
    let limit = |fan_in: f64, fan_out: f64| (6.0 / (fan_in + fan_out)).sqrt();
    for k in 0..16 {
        params.Wq[k][0] = limit(2.0, 16.0) * (2.0 * rng.random::<f64>() - 1.0);
        params.Wp[k][0] = limit(2.0, 16.0) * (2.0 * rng.random::<f64>() - 1.0);
        params.V[0][k] = limit(16.0, 1.0) * (2.0 * rng.random::<f64>() - 1.0);
    }

    println!("training: per-sample sgd_step, lr = {LR}, {EPOCHS} epochs");
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut first = f64::NAN;
    let mut last = f64::NAN;
    for epoch in 0..EPOCHS {
        // Fisher-Yates with the example's own generator.
        for i in (1..order.len()).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let mut total = 0.0;
        for &i in &order {
            let [q, p, dq, dp] = data[i];
            total += hnn::sgd_step(&mut params, &[q], &[p], &[dq], &[dp], LR);
        }
        let mean = total / data.len() as f64;
        if epoch == 0 {
            first = mean;
        }
        last = mean;
        if epoch % 50 == 0 || epoch + 1 == EPOCHS {
            println!("  epoch {epoch:>4}  mean loss {mean:.3e}");
        }
    }
    // NaN (a diverged run) compares false, so it counts as not falling.
    let fell = last < first;
    if !fell {
        eprintln!("error: the loss did not fall: {first} -> {last}");
        std::process::exit(1);
    }

    // A long rollout from a state inside the training range, by the learned and the true
    // dynamics, with the same integrator.
    let start = (TEST_ANGLE, 0.0);
    let learned = |q: f64, p: f64| learned_field(&params, q, p);
    let mut truth = vec![start];
    let mut model = vec![start];
    for _ in 0..ROLLOUT_STEPS {
        let t = *truth.last().unwrap_or(&start);
        let m = *model.last().unwrap_or(&start);
        truth.push(rk4(&true_field, t, ROLLOUT_DT));
        model.push(rk4(&learned, m, ROLLOUT_DT));
    }
    let e0 = true_energy(start.0, start.1);
    let drift = |states: &[(f64, f64)], energy: &dyn Fn(f64, f64) -> f64| {
        let e = energy(states[0].0, states[0].1);
        states
            .iter()
            .map(|&(q, p)| (energy(q, p) - e).abs())
            .fold(0.0, f64::max)
            / e.abs().max(1e-12)
    };
    let learned_h = |q: f64, p: f64| hnn::forward(&params, &[q], &[p]).H[0];
    let true_drift = drift(&model, &true_energy);
    let learned_drift = drift(&model, &learned_h);
    println!(
        "rollout: {ROLLOUT_STEPS} RK4 steps of {ROLLOUT_DT} (t = 0..{}) from q = {TEST_ANGLE}, p = 0 (true energy {e0:.4})",
        ROLLOUT_STEPS as f64 * ROLLOUT_DT
    );
    println!(
        "  largest drift of the learned energy H along the learned rollout: {learned_drift:.2e} (relative)"
    );
    println!(
        "  largest drift of the true energy along the learned rollout:     {true_drift:.2e} (relative)"
    );
    println!(
        "  largest drift of the true energy along the true rollout:        {:.2e} (relative, the integrator's own)",
        drift(&truth, &true_energy)
    );
    match plot(&out, &truth, &model) {
        Ok(with_text) => {
            println!("saved {out}");
            if !with_text {
                println!("  without text: no font at {FONT}");
            }
        }
        Err(e) => {
            eprintln!("error: could not draw {out}: {e}");
            std::process::exit(1);
        }
    }
    let conserved = true_drift < 0.05;
    if !conserved {
        eprintln!("error: the learned dynamics do not conserve the true energy");
        std::process::exit(1);
    }
}

/// q(t) over the first part of the rollout on the left, the phase plane of the whole rollout
/// on the right; true dynamics in dark blue, learned ones in green.
fn plot(
    path: &str,
    truth: &[(f64, f64)],
    model: &[(f64, f64)],
) -> Result<bool, Box<dyn std::error::Error>> {
    let with_text = match std::fs::read(FONT) {
        Ok(bytes) => register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into()))
            .map(|()| true)
            .map_err(|_| format!("{FONT} is not a usable font"))?,
        Err(_) => false,
    };
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(700);
    let dark_blue = RGBColor(0x00, 0x00, 0x8b);
    let green = RGBColor(0x9f, 0xc1, 0x31);
    let shown = 3_000.min(truth.len());
    let t_max = shown as f64 * ROLLOUT_DT;
    let bound = truth
        .iter()
        .chain(model)
        .fold(0.0f64, |b, &(q, p)| b.max(q.abs()).max(p.abs()))
        * 1.1;

    let mut builder = ChartBuilder::on(&left);
    builder.margin(20);
    if with_text {
        builder
            .caption("angle q(t): true and learned", ("sans-serif", 20))
            .x_label_area_size(40)
            .y_label_area_size(50);
    }
    let mut chart = builder.build_cartesian_2d(0.0..t_max, -bound..bound)?;
    if with_text {
        chart.configure_mesh().x_desc("t").y_desc("q").draw()?;
    } else {
        chart.configure_mesh().x_labels(0).y_labels(0).draw()?;
    }
    let series = |states: &[(f64, f64)]| -> Vec<(f64, f64)> {
        states[..shown]
            .iter()
            .enumerate()
            .map(|(i, &(q, _))| (i as f64 * ROLLOUT_DT, q))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(series(truth), dark_blue.stroke_width(5)))?
        .label("true pendulum")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], dark_blue.stroke_width(5)));
    chart
        .draw_series(LineSeries::new(series(model), green.stroke_width(2)))?
        .label("Hamiltonian network")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], green.stroke_width(2)));
    if with_text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .draw()?;
    }

    let mut builder = ChartBuilder::on(&right);
    builder.margin(20);
    if with_text {
        builder
            .caption("phase plane, whole rollout", ("sans-serif", 20))
            .x_label_area_size(40)
            .y_label_area_size(50);
    }
    let mut phase = builder.build_cartesian_2d(-bound..bound, -bound..bound)?;
    if with_text {
        phase.configure_mesh().x_desc("q").y_desc("p").draw()?;
    } else {
        phase.configure_mesh().x_labels(0).y_labels(0).draw()?;
    }
    phase.draw_series(LineSeries::new(
        truth.iter().copied(),
        dark_blue.stroke_width(5),
    ))?;
    phase.draw_series(LineSeries::new(
        model.iter().copied(),
        green.stroke_width(2),
    ))?;
    root.present()?;
    Ok(with_text)
}
