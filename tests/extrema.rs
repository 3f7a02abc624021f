//! `max(...)` and `min(...)` reductions (max pooling): gradients against central finite
//! differences of the reference interpreter away from ties, and at ties the first-maximum
//! routing the language specifies, with the expected gradient worked out by hand.

mod support;

use chainrule::core::check_source;
use chainrule::core::derive::derive;
use chainrule::core::eval::{Sample, evaluate_batch};
use chainrule::core::latex::indexed::IndexPrinter;
use chainrule::core::tensor;
use chainrule::ndarray::Array2;

chainrule::derive!(file = "tests/corpus/ok/index_maxpool_ties.nn");

mod single {
    chainrule::derive!(float = f32, file = "tests/corpus/ok/index_maxpool_ties.nn");
}

/// The same network with every statement a loop: the verified formulas, brackets included.
mod looped {
    chainrule::derive!(
        unroll = never,
        file = "tests/corpus/ok/index_maxpool_ties.nn"
    );
    chainrule::derive!(
        unroll = never,
        file = "tests/corpus/ok/index_maxpool_overlap.nn"
    );
    pub mod single {
        chainrule::derive!(
            unroll = never,
            float = f32,
            file = "tests/corpus/ok/index_maxpool_ties.nn"
        );
    }
}

const OVERLAP: &str = "network overlap {
    input  x[6]
    target t[4]
    param  W[6][6]
    h[k] = tanh(sum(j, W[k][j] * x[j]))
    p[i] = max(q < 3, h[i + q])
    loss L = 0.5 * sum((p - t)^2) - 0.1 * min(h)
}
";

const STRIDED: &str = "network strided {
    input  x[8]
    target t[2]
    param  U[8][8]
    param  b[8]
    h[k] = sigmoid(sum(j, U[k][j] * x[j]) + b[k])
    m[i] = min(p < 2, q < 2, h[4*i + 2*p + q])
    loss L = 0.5 * sum((m - t)^2) + 0.01 * max(k, h[k]) + 0.01 * max(b)
}
";

/// Away from ties the derived gradient is the reference's finite differences.
#[test]
fn gradients_match_finite_differences_of_the_reference() {
    for source in [OVERLAP, STRIDED] {
        let model = check_source(source).unwrap_or_else(|e| panic!("{e:?}"));
        let network = &model.networks[0];
        let mut checked = 0;
        for seed in 0..4 {
            checked += support::check_gradients(&model, network, source, 0xE7 + seed)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(
            checked >= 8,
            "{}: only {checked} points away from ties",
            network.name
        );
    }
}

/// A window with tied elements sends its delta to the first of them only, and so does a
/// whole-vector `max`; `min` over two names picks the first minimum in row-major order.
const TIES: &str = include_str!("corpus/ok/index_maxpool_ties.nn");

fn ties_point() -> (Vec<Vec<f64>>, Sample) {
    let params = vec![vec![1.0, 3.0, 3.0, 2.0, 3.0, 0.0], vec![5.0, 2.0, 2.0, 7.0]];
    let sample = Sample {
        inputs: vec![vec![0.0]],
        targets: vec![vec![1.0, 10.0, 100.0, 1000.0]],
    };
    (params, sample)
}

#[test]
fn ties_route_the_delta_to_the_first_extremum() {
    let model = check_source(TIES).unwrap_or_else(|e| panic!("{e:?}"));
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let (params, sample) = ties_point();
    let result = evaluate_batch(&derivation, network, &params, std::slice::from_ref(&sample));
    // Windows of w = [1, 3, 3, 2, 3, 0]: [1, 3, 3] and [3, 3, 2] pick w1, [3, 2, 3] picks
    // w2, [2, 3, 0] picks w4; each p is 3. max(w) = 3 first at w1. min of v = [5, 2, 2, 7]
    // in the order (0,0), (0,1), (1,0), (1,1) is 2, first at v1.
    let loss = 3.0 * (1.0 + 10.0 + 100.0 + 1000.0) + 0.5 * 3.0 + 1000.0 * 2.0;
    assert_eq!(result.loss, loss);
    assert_eq!(result.gradient[0], vec![0.0, 11.5, 100.0, 0.0, 1000.0, 0.0]);
    assert_eq!(result.gradient[1], vec![0.0, 1000.0, 0.0, 0.0]);
    // The reference interpreter agrees on the loss (and flags the tie as a kink).
    let mut reference = support::Reference::new(&model, network, &params, &sample);
    assert_eq!(reference.loss(), loss);
    assert!(reference.near_kink);

    // The plainest case: d max(w) / dw is 1 on the first of the tied maxima, 0 elsewhere;
    // d min(w) / dw likewise on the first of the tied minima.
    for (reduction, want) in [
        ("max", [0.0, 1.0, 0.0, 0.0, 0.0]),
        ("min", [0.0, 0.0, 1.0, 0.0, 0.0]),
    ] {
        let source = format!(
            "network plain {{\n    input x[1]\n    param w[5]\n    loss L = {reduction}(w) + x[0]\n}}\n"
        );
        let model = check_source(&source).unwrap_or_else(|e| panic!("{e:?}"));
        let network = &model.networks[0];
        let derivation = derive(network, &model.functions);
        let params = vec![vec![2.0, 3.0, -1.0, 3.0, -1.0]];
        let sample = Sample {
            inputs: vec![vec![0.0]],
            targets: vec![],
        };
        let result = evaluate_batch(&derivation, network, &params, std::slice::from_ref(&sample));
        assert_eq!(result.gradient[0], want, "{reduction}");
    }
}

/// The tensor level's first-maximum brackets pick the same element as the scalar graph's
/// folds at a tie, and the general form says which element the delta goes to.
#[test]
fn tensor_statements_agree_at_ties() {
    for source in [TIES, OVERLAP] {
        let model = check_source(source).unwrap_or_else(|e| panic!("{e:?}"));
        let network = &model.networks[0];
        let derivation = derive(network, &model.functions);
        let program = tensor::program(network, &model.functions, &derivation).expect("covered");
        let printer = IndexPrinter::new(&program, network, "L".into());
        let text: Vec<String> = program.statements().map(|s| printer.line(s)).collect();
        let text = text.join("\n");
        assert!(program.statements().all(|s| s.verified), "{text}");
        assert!(text.contains(r"\operatorname*{arg\,max}"), "{text}");
        let (params, sample) = if source == TIES {
            ties_point()
        } else {
            // h = tanh(W x) with W's rows equal in pairs: h0 = h1, h2 = h3 = h4.
            let rows = [0.3, 0.3, -0.2, -0.2, -0.2, 0.1];
            let w: Vec<f64> = rows.iter().flat_map(|&r| [r; 6]).collect();
            let sample = Sample {
                inputs: vec![vec![1.0; 6]],
                targets: vec![vec![0.5, -0.5, 0.25, 0.0]],
            };
            (vec![w], sample)
        };
        assert!(
            tensor::verify::agrees_at(&program, network, &derivation, &params, &sample),
            "{}: a statement disagrees at a tie:\n{text}",
            network.name
        );
    }
}

/// Max pooling's delta, as the textbook writes it: each window's delta goes to the window's
/// first maximal element, and overlapping windows add.
#[test]
fn the_general_form_states_the_pooling_delta() {
    let model = check_source(OVERLAP).unwrap_or_else(|e| panic!("{e:?}"));
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let program = tensor::program(network, &model.functions, &derivation).expect("covered");
    let printer = IndexPrinter::new(&program, network, "L".into());
    let delta = program
        .delta_of(chainrule::core::model::Symbol::Vector(0))
        .expect("h has a delta");
    assert!(delta.verified);
    let line = printer.line(delta);
    assert!(
        line.contains(
            r"\delta_{p_{-i + k}} \left[i = \operatorname*{arg\,max}_{j} h_{-i + j + k}\right]"
        ),
        "{line}"
    );
    assert!(line.contains(r"\operatorname*{arg\,min}_{"), "{line}");
}

/// The generated code (per sample, batch, f32) computes the maxima exactly and routes each
/// delta to the first extremal element, as the scalar graph does.
#[test]
fn generated_code_routes_ties_to_the_first_extremum() {
    let p = index_maxpool_ties::Params {
        w: [1.0, 3.0, 3.0, 2.0, 3.0, 0.0],
        v: [5.0, 2.0, 2.0, 7.0],
    };
    let (x, t) = ([0.0], [1.0, 10.0, 100.0, 1000.0]);
    let (loss, g) = index_maxpool_ties::gradient(&p, &x, &t);
    assert_eq!(loss, 3.0 * 1111.0 + 1.5 + 2000.0);
    assert_eq!(g.w, [0.0, 11.5, 100.0, 0.0, 1000.0, 0.0]);
    assert_eq!(g.v, [0.0, 1000.0, 0.0, 0.0]);
    let forward = index_maxpool_ties::forward(&p, &x);
    assert_eq!(forward.p, [3.0; 4]);

    let inputs = Array2::from_shape_vec((2, 1), vec![0.0, 0.0]).expect("shape");
    let targets = Array2::from_shape_vec((2, 4), [t, t].concat()).expect("shape");
    let (batch_loss, batch) =
        index_maxpool_ties::gradient_batch(&p, inputs.view(), targets.view()).expect("shapes");
    assert_eq!(batch_loss, loss);
    assert_eq!(batch.w, g.w);
    assert_eq!(batch.v, g.v);

    let p32 = single::index_maxpool_ties::Params {
        w: [1.0, 3.0, 3.0, 2.0, 3.0, 0.0],
        v: [5.0, 2.0, 2.0, 7.0],
    };
    let (_, g32) = single::index_maxpool_ties::gradient(&p32, &[0.0], &[1.0, 10.0, 100.0, 1000.0]);
    assert_eq!(g32.w, [0.0, 11.5, 100.0, 0.0, 1000.0, 0.0]);
    assert_eq!(g32.v, [0.0, 1000.0, 0.0, 0.0]);

    // In loops: the fold and the first-maximum bracket of the general form.
    let p = looped::index_maxpool_ties::Params {
        w: [1.0, 3.0, 3.0, 2.0, 3.0, 0.0],
        v: [5.0, 2.0, 2.0, 7.0],
    };
    let (looped_loss, g) = looped::index_maxpool_ties::gradient(&p, &x, &t);
    assert_eq!(looped_loss, loss);
    assert_eq!(g.w, [0.0, 11.5, 100.0, 0.0, 1000.0, 0.0]);
    assert_eq!(g.v, [0.0, 1000.0, 0.0, 0.0]);
    let p32 = looped::single::index_maxpool_ties::Params {
        w: [1.0, 3.0, 3.0, 2.0, 3.0, 0.0],
        v: [5.0, 2.0, 2.0, 7.0],
    };
    let (_, g32) =
        looped::single::index_maxpool_ties::gradient(&p32, &[0.0], &[1.0, 10.0, 100.0, 1000.0]);
    assert_eq!(g32.w, [0.0, 11.5, 100.0, 0.0, 1000.0, 0.0]);
    assert_eq!(g32.v, [0.0, 1000.0, 0.0, 0.0]);
}

/// Overlapping windows in loops at ties: the delta of h is the looped general form, whose
/// first-maximum bracket picks h0 over h1 and h2 over h3 and h4, as worked out here by hand.
#[test]
#[allow(clippy::needless_range_loop)] // the indices are the formula's k, j
fn looped_pooling_delta_routes_ties_to_the_first_maximum() {
    let rows = [0.3, 0.3, -0.2, -0.2, -0.2, 0.1];
    let p = looped::index_maxpool_overlap::Params {
        W: rows.map(|r| [r; 6]),
    };
    let (x, t) = ([1.0; 6], [0.5, -0.5, 0.25, 0.0]);
    let (_, g) = looped::index_maxpool_overlap::gradient(&p, &x, &t);
    let h = rows.map(|r: f64| (6.0 * r).tanh());
    // Windows [h0 h1 h2], [h1 h2 h3], [h2 h3 h4], [h3 h4 h5] pick h0, h1, h2, h5.
    let pooled = [h[0], h[1], h[2], h[5]];
    let d_p: Vec<f64> = pooled.iter().zip(&t).map(|(p, t)| p - t).collect();
    let d_h = [d_p[0], d_p[1], d_p[2], 0.0, 0.0, d_p[3]];
    for k in 0..6 {
        for j in 0..6 {
            let want = d_h[k] * (1.0 - h[k] * h[k]) * x[j];
            assert!(
                (g.W[k][j] - want).abs() <= 1e-15,
                "dL/dW[{k}][{j}] = {} but the first maximum gives {want}",
                g.W[k][j]
            );
        }
    }
}
