// A number f32 cannot hold in a `float = f32` module: an error at the number, never a panic
// of the macro; the stand-in module keeps the code below free of follow-on errors.
chainrule_macros::derive! {
    float = f32,
    network big {
        input x[2]
        target t[1]
        y[1] = W @ x
        loss L = 1e39 * sum((y - t)^2)
    }
}

fn main() {
    let p = big::Params::zeros();
    let _ = big::loss(&p, &[1.0, 2.0], &[0.5]);
}
