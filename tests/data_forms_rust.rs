//! The generated Rust of scalar and label data, used as a user would (RUST_API.md, third
//! round): a scalar target is `F` by value, a label `usize` by value, and the batch functions
//! take them as `ArrayView1<F>` and `ArrayView1<usize>`, one per row. Gradients are checked
//! against central differences of the generated `loss`, and the label network against its
//! one-hot twin.

use chainrule::ndarray::{Array1, Array2};

chainrule::derive!(file = "tests/corpus/ok/named_scalar.nn", network = centered);
chainrule::derive!(
    file = "examples/nets/label_classifier.nn",
    network = label_classifier
);
chainrule::derive!(
    file = "tests/corpus/ok/label_onehot_twin.nn",
    network = onehot_classifier
);

mod single {
    chainrule::derive!(
        float = f32,
        file = "examples/nets/label_classifier.nn",
        network = label_classifier
    );
}

/// Central differences of `loss` over every element of a flat parameter vector.
fn differences(flat: &[f64], loss: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-6;
    (0..flat.len())
        .map(|i| {
            let (mut up, mut down) = (flat.to_vec(), flat.to_vec());
            up[i] += h;
            down[i] -= h;
            (loss(&up) - loss(&down)) / (2.0 * h)
        })
        .collect()
}

fn close(a: &[f64], b: &[f64], tolerance: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * y.abs().max(1.0),
            "element {i}: {x} vs {y}"
        );
    }
}

#[test]
fn scalar_target_and_named_scalars() {
    let mut p = centered::Params::zeros();
    p.w = [0.1, 0.2, -0.3];
    let x = [1.0, 2.0, 4.0];
    let forward = centered::evaluate(&p, &x, 1.5);
    // A named scalar is a number in `Forward`: mu = 7/3, y = -0.7.
    let mu: f64 = forward.mu;
    assert!((mu - 7.0 / 3.0).abs() < 1e-15);
    assert!((forward.y - -0.7).abs() < 1e-12);
    let (loss, g) = centered::gradient(&p, &x, 1.5);
    assert!((loss - 4.84).abs() < 1e-12);
    let fd = differences(&p.flat(), |w| {
        let mut q = centered::Params::zeros();
        q.w = [w[0], w[1], w[2]];
        centered::loss(&q, &x, 1.5)
    });
    close(&g.flat(), &fd, 1e-6);
    // A batch: the scalar target is an `ArrayView1`, one number per row.
    let xs = Array2::from_shape_vec((2, 3), vec![1.0, 2.0, 4.0, 0.0, 1.0, 0.0]).expect("shape");
    let ts = Array1::from(vec![1.5, 0.5]);
    let (batch_loss, batch) = centered::gradient_batch(&p, xs.view(), ts.view()).expect("batch");
    let (l0, g0) = centered::gradient(&p, &[1.0, 2.0, 4.0], 1.5);
    let (l1, g1) = centered::gradient(&p, &[0.0, 1.0, 0.0], 0.5);
    assert!((batch_loss - (l0 + l1) / 2.0).abs() < 1e-12);
    let mean: Vec<f64> = g0
        .flat()
        .iter()
        .zip(g1.flat())
        .map(|(a, b)| (a + b) / 2.0)
        .collect();
    close(&batch.flat(), &mean, 1e-12);
    // Row counts that disagree are an error, not a panic.
    let short = Array1::from(vec![1.5]);
    assert!(centered::gradient_batch(&p, xs.view(), short.view()).is_err());
}

fn classifier() -> label_classifier::Params {
    label_classifier::Params {
        b1: [0.1, -0.2, 0.05, 0.0, 0.3],
        b2: [0.2, -0.1, 0.05],
        ..Default::default()
    }
}

#[test]
fn label_target_is_a_class_index() {
    let p = classifier();
    let x = [0.5, -1.0, 2.0, 0.25];
    let mut twin = onehot_classifier::Params::zeros();
    twin.set_flat(&p.flat());
    for class in 0..3 {
        let (loss, g) = label_classifier::gradient(&p, &x, class);
        let mut t = [0.0; 3];
        t[class] = 1.0;
        let (twin_loss, twin_g) = onehot_classifier::gradient(&twin, &x, &t);
        assert!(
            (loss - twin_loss).abs() <= 1e-12,
            "class {class}: {loss} vs {twin_loss}"
        );
        close(&g.flat(), &twin_g.flat(), 1e-12);
        let fd = differences(&p.flat(), |w| {
            let mut q = label_classifier::Params::zeros();
            q.set_flat(w.try_into().expect("size"));
            label_classifier::loss(&q, &x, class)
        });
        close(&g.flat(), &fd, 1e-6);
        let p32 = single::label_classifier::Params::default();
        let _ = single::label_classifier::loss(&p32, &[0.5, -1.0, 2.0, 0.25], class);
    }
    // A class outside 0..3 makes the loss NaN rather than a quiet number.
    assert!(label_classifier::loss(&p, &x, 3).is_nan());
    // `forward` has no target: every element of the label reads NaN.
    assert!(label_classifier::forward(&p, &x).L.is_nan());
}

#[test]
fn label_batches_take_class_indices() {
    let p = classifier();
    let rows = [
        [0.5, -1.0, 2.0, 0.25],
        [1.5, 0.5, -0.5, -2.0],
        [-0.25, 0.75, 1.0, 0.5],
    ];
    let xs = Array2::from_shape_vec((3, 4), rows.concat()).expect("shape");
    let ys = Array1::from(vec![2usize, 0, 1]);
    let (loss, g) = label_classifier::gradient_batch(&p, xs.view(), ys.view()).expect("batch");
    let mut want_loss = 0.0;
    let mut want = vec![0.0; label_classifier::PARAMS];
    for (x, &y) in rows.iter().zip(ys.iter()) {
        let (l, gi) = label_classifier::gradient(&p, x, y);
        want_loss += l / 3.0;
        for (w, v) in want.iter_mut().zip(gi.flat()) {
            *w += v / 3.0;
        }
    }
    assert!((loss - want_loss).abs() < 1e-12);
    close(&g.flat(), &want, 1e-12);
    let bad = Array1::from(vec![2usize, 3, 1]);
    let error = label_classifier::gradient_batch(&p, xs.view(), bad.view()).expect_err("class 3");
    assert!(error.to_string().contains("below 3"), "{error}");
}
