// Issue 11: what a network with an error cannot determine (here `h` has no size, so neither
// has `W`) stays usable; everything else keeps its type. The error is the only one.
chainrule_macros::derive! {
    float = f32,
    network open {
        input x[2]
        target t[1]
        h = W @ x + x[5]
        y[1] = V @ h
        loss L = sum((y - t)^2)
        param V[1][4]
    }
}

fn main() {
    let mut p = open::Params::zeros();
    p.W[0][1] = 0.5;
    p.V[0][3] = 1.0;
    let w: f32 = p.W[1][0];
    let f = open::forward(&p, &[1.0, 2.0]);
    let h: f32 = f.h[0];
    let y: [f32; 1] = f.y;
    let loss: f32 = open::sgd_step(&mut p, &[1.0, 2.0], &[0.5], 0.01);
    println!("{w} {h} {y:?} {loss}");
}
