chainrule_macros::derive! {
    network n {
        input x[2]
        z[3] = W @ x
        a = sigmod(z)
        loss L = sum(a)
    }
}

fn main() {
    // No follow-on error: the stub module keeps these names.
    let _ = n::Params::zeros();
    let (_loss, _g): (f64, n::Params) = n::gradient(&n::Params::zeros(), &[0.0, 1.0]);
}
