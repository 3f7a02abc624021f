// Issue 11: one misspelt function is the only error. The stand-in module keeps every item
// the network still determines, with its real type, so this ordinary user code type-checks.
chainrule_macros::derive! {
    network two {
        input x[2]
        target t[2]
        z1[3] = W1 @ x + b1
        a1 = sigmod(z1)
        y[2] = W2 @ a1 + b2
        loss L = 0.5 * sum((y - t)^2)
    }
}

fn train(p: &mut two::Params, x: &[f64; 2], t: &[f64; 2]) -> f64 {
    let before = two::sgd_step(p, x, t, 0.1);
    let (loss, g): (f64, two::Params) = two::gradient(p, x, t);
    let step: [[f64; 3]; 2] = g.W2;
    before + loss + step[1][2]
}

fn main() -> Result<(), chainrule::runtime::ShapeError> {
    let mut p = two::Params::default();
    p.W1[2][1] = 0.5;
    p.b1 = [0.1, 0.2, 0.3];
    p.W2[1][2] = -0.25;
    let x = [1.0, 2.0];
    let t = [0.0, 1.0];
    let y: [f64; 2] = two::forward(&p, &x).y;
    let hidden: [f64; 3] = two::evaluate(&p, &x, &t).a1;
    let loss = train(&mut p, &x, &t) + two::loss(&p, &x, &t);
    let rows = chainrule::ndarray::Array2::<f64>::zeros((4, 2));
    let (_, batch) = two::gradient_batch(&p, rows.view(), rows.view())?;
    let flat: [f64; 17] = batch.flat();
    println!("{y:?} {hidden:?} {loss} {flat:?} {}", two::Params::ELEMENTS.len());
    // Issue 22's items keep their types too.
    let mut adam = two::Adam::with(0.01, 0.9, 0.999, 1e-8, 0.1);
    let mut momentum = two::Momentum::new(0.01, 0.9);
    let steps: f64 = two::adam_step(&mut p, &mut adam, &x, &t) + two::momentum_step(&mut p, &mut momentum, &x, &t);
    let batched: f64 = two::adam_step_batch(&mut p, &mut adam, rows.view(), rows.view())?;
    let back: Result<two::Params, two::ParamsError> = two::Params::from_json(&p.to_json());
    println!("{steps} {batched} {} {:?} {}", adam.t, back.is_ok(), momentum.buf.b1[0]);
    Ok(())
}
