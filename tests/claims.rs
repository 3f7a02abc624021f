//! `chainrule check` on the seeds' hand formulas (examples/claims): the right ones hold, and
//! each known mistake is caught with its diagnosis.

use std::process::{Command, Output};

fn check(file: &str) -> (Option<i32>, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["check", file])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The output block of the claim on `line`: its verdict line and the indented lines under it.
fn block<'o>(output: &'o str, file: &str, line: usize) -> &'o str {
    let head = format!("{file}:{line}:");
    let start = output
        .find(&head)
        .unwrap_or_else(|| panic!("no claim on line {line} in\n{output}"));
    let rest = &output[start..];
    let end = rest[1..]
        .find(&format!("{file}:"))
        .map_or(rest.len(), |e| e + 1);
    let end = rest[..end].find("\n0 ").map_or(end, |e| e.min(end));
    &rest[..end]
}

fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` missing from\n{text}");
    }
}

#[test]
fn seed000_chain_rule_cells_all_hold() {
    let file = "examples/claims/seed000_chain_rule.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.matches(": holds").count(), 5, "{out}");
    assert!(out.ends_with("5 claims: 5 hold, 0 fail\n"), "{out}");
    assert_contains(
        block(&out, file, 19),
        &["holds (symbolically", "for all 6 index values"],
    );
}

#[test]
fn seed002_mistakes_are_named() {
    let file = "examples/claims/seed002.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert_contains(block(&out, file, 14), &["holds"]);
    assert_contains(block(&out, file, 15), &["holds", "for all 4 index values"]);
    // dl_dC_act taken as y.
    assert_contains(
        block(&out, file, 17),
        &[
            "FAILS",
            "`y[0]` stands where the derivation has `y[0] - C_act[0]`",
            "dL/dC_act[0] = -(y[0] - C_act[0])",
        ],
    );
    // dc_dV taken as B, not B_act.
    assert_contains(
        block(&out, file, 19),
        &[
            "FAILS",
            "fails for 4 of 4 index values",
            "it uses the pre-activation `B[0]` where the derivation has the activation `B_act[0]`",
        ],
    );
    // Both at once: each factor named.
    assert_contains(
        block(&out, file, 21),
        &[
            "`y[0]` stands where the derivation has `y[0] - C_act[0]`",
            "it uses the pre-activation `B[0]` where the derivation has the activation `B_act[0]`",
        ],
    );
}

#[test]
fn seed001_sigmoid_derivative_on_linear_units_is_caught() {
    let file = "examples/claims/seed001_manual_3nn.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert_contains(block(&out, file, 15), &["holds"]);
    assert_contains(
        block(&out, file, 17),
        &[
            "FAILS",
            "sigmoid-derivative factor `sigmoid(y[0])`",
            "the unit `y` is not a sigmoid",
        ],
    );
    assert_contains(
        block(&out, file, 19),
        &[
            "FAILS",
            "the unit `h` is not a sigmoid",
            "inside the sum: the claim has a sigmoid-derivative factor `sigmoid(y[0])`",
        ],
    );
}

#[test]
fn seed004_delta_sign_is_caught() {
    let file = "examples/claims/seed004.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    for line in [12, 13, 14] {
        assert_contains(block(&out, file, line), &["holds"]);
    }
    assert_contains(
        block(&out, file, 16),
        &[
            "FAILS",
            "fails for 6 of 6 index values",
            "a sign flip",
            "the minus sign of dL/dy[0] = -(t[0] - y[0]) is lost",
        ],
    );
    assert_contains(
        block(&out, file, 17),
        &[
            "FAILS",
            "a sign flip",
            "has the opposite sign of the derivation's",
        ],
    );
}

#[test]
fn general_claims_report_which_index_values_fail() {
    let dir = std::env::temp_dir().join(format!("chainrule-claims-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("partial.nn");
    // Right only for j = 0: a1[0] where a1[j] belongs.
    std::fs::write(
        &file,
        "network n {\n input x[2]\n target t[2]\n z1[3] = W1 @ x\n a1 = sigmoid(z1)\n y[2] = W2 @ a1\n loss L = 0.5 * sum((t - y)^2)\n claim dL/dW2[i][j] = (y[i] - t[i]) * a1[0]\n}\n",
    )
    .expect("write");
    let name = file.to_string_lossy().into_owned();
    let (code, out) = check(&name);
    assert_eq!(code, Some(1), "{out}");
    assert_contains(
        &out,
        &[
            "fails for 4 of 6 index values: i=0, j=1; i=0, j=2; i=1, j=1; i=1, j=2",
            "holds for: i=0, j=0; i=1, j=0",
        ],
    );
    assert_contains(&out, &["`a1[0]` stands where the derivation has `a1[1]`"]);
}

#[test]
fn a_file_without_claims_says_so() {
    let (code, out) = check("examples/nets/seed004.nn");
    assert_eq!(code, Some(0));
    assert!(out.contains("has no claims"), "{out}");
}

#[test]
fn classifier_mistakes_are_named() {
    let file = "examples/claims/classifier.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.ends_with("11 claims: 5 hold, 6 fail\n"), "{out}");
    // The right formulas, p - t with one-hot targets, the Jacobian, 2 lambda w.
    assert_contains(block(&out, file, 12), &["holds", "for all 4 index values"]);
    for line in [13, 14] {
        assert_contains(block(&out, file, line), &["holds"]);
    }
    assert_contains(block(&out, file, 15), &["holds", "for all 20 index values"]);
    assert_contains(block(&out, file, 16), &["holds", "for all 5 index values"]);
    // The diagonal of the softmax Jacobian for all of it: right on the diagonal only.
    assert_contains(
        block(&out, file, 19),
        &[
            "fails for 12 of 16 index values",
            "holds for: j=0, k=0; j=1, k=1; j=2, k=2; j=3, k=3",
            "dp[0]/dz[1] = -p[0] * p[1]",
            "is the diagonal of the softmax Jacobian, right only for j = k",
        ],
    );
    assert_contains(
        block(&out, file, 21),
        &["uses the diagonal p_k * (1 - p_k) of the softmax Jacobian for all of it"],
    );
    assert_contains(
        block(&out, file, 23),
        &["the delta is the prediction minus the target, p - t, not t - p"],
    );
    assert_contains(
        block(&out, file, 25),
        &["the weight-decay term `0.02 * W2[0][0]` is missing"],
    );
    assert_contains(
        block(&out, file, 27),
        &["the weight-decay term has lambda where 2 * lambda belongs"],
    );
    assert_contains(
        block(&out, file, 29),
        &[
            "the claim keeps one term, `(p[0] - t[0]) * W2[0][0]`",
            "the sum over classes (every path from h[0] to L) is dropped",
        ],
    );
}

#[test]
fn a_forgotten_mean_is_named_with_a_clean_ratio() {
    let file = "examples/claims/mean.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.ends_with("4 claims: 2 hold, 2 fail\n"), "{out}");
    for line in [10, 11] {
        assert_contains(block(&out, file, line), &["holds"]);
    }
    for line in [13, 14] {
        let block = block(&out, file, line);
        assert_contains(
            block,
            &[
                "FAILS",
                "the two differ by a constant factor of 3: the claim lacks the 1/3 of `mean` over 3 elements",
                "the claim has 2, the derivation 2/3",
            ],
        );
        assert!(!block.contains("convention"), "{block}");
        assert!(!block.contains("3.000"), "{block}");
    }
}

#[test]
fn a_mean_over_two_is_not_taken_for_the_loss_convention() {
    let dir = std::env::temp_dir().join(format!("chainrule-claims-mean-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("mean2.nn");
    std::fs::write(
        &file,
        "network n {\n input x[2]\n target t[2]\n y[2] = W @ x\n loss L = mean((y - t)^2)\n claim dL/dy[i] = 2 * (y[i] - t[i])\n}\n",
    )
    .expect("write");
    let (code, out) = check(&file.to_string_lossy());
    assert_eq!(code, Some(1), "{out}");
    assert_contains(
        &out,
        &["a constant factor of 2: the claim lacks the 1/2 of `mean` over 2 elements"],
    );
    assert!(!out.contains("convention"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quadratic_cost_and_swapped_indices_are_named() {
    let file = "examples/claims/quadratic.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.ends_with("7 claims: 4 hold, 3 fail\n"), "{out}");
    for line in [15, 16, 17, 25] {
        assert_contains(block(&out, file, line), &["holds"]);
    }
    // t - a under a quadratic cost: explained by the square, not by cross-entropy.
    let flipped = block(&out, file, 19);
    assert_contains(
        flipped,
        &[
            "the derivative of the quadratic cost 1/2 * (p - t)^2 with respect to the prediction p is p - t",
        ],
    );
    assert!(!flipped.contains("cross-entropy"), "{flipped}");
    // j and k exchanged on a square layer: said first, and the symptoms left out.
    let transposed = block(&out, file, 21);
    assert_contains(
        transposed,
        &[
            "fails for 2 of 4 index values",
            "indices swapped: the formula has `j` and `k` exchanged, so it gives the transpose",
        ],
    );
    let first = transposed.lines().nth(3).unwrap_or_default();
    assert!(first.contains("indices swapped"), "{transposed}");
    assert!(transposed.lines().count() <= 6, "{transposed}");
    // On the 3x2 layer the exchanged indices run out of range: that claim fails alone, and
    // the claim after it is still checked (line 25 above).
    assert_contains(
        block(&out, file, 23),
        &[
            "FAILS",
            "indices swapped: `j` runs over 0..2 and `k` over 0..1",
            "the claim is not checked for any index value",
        ],
    );
}

#[test]
fn index_ranges_that_conflict_without_a_swap_are_listed() {
    let dir = std::env::temp_dir().join(format!("chainrule-claims-range-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("range.nn");
    // `i` indexes y (3 elements), then x (2 elements): no second index to swap with.
    std::fs::write(
        &file,
        "network n {\n input x[2]\n target t[3]\n y[3] = W @ x\n loss L = 0.5 * sum((y - t)^2)\n claim dL/dy[i] = (y[i] - t[i]) * x[i]\n claim dL/dy[i] = y[i] - t[i]\n}\n",
    )
    .expect("write");
    let (code, out) = check(&file.to_string_lossy());
    assert_eq!(code, Some(1), "{out}");
    assert_contains(
        &out,
        &[
            "at 6:37, index `i` stands where 0..1 belongs, but it runs over 0..2 where it was first used",
            "the claim is not checked for any index value",
            "2 claims: 1 hold, 1 fail",
        ],
    );
    assert!(!out.contains("swapped"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Claims about deltas (the third round): `dL/dNAME[...]` on the right stands for the derived
/// delta, so one step of the recursion can be claimed and its slips are named.
#[test]
fn delta_recursion_steps_hold_and_slips_are_named() {
    let file = "examples/claims/delta_recursion.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    for line in [10, 11, 12] {
        assert_contains(block(&out, file, line), &["holds"]);
    }
    assert_contains(
        block(&out, file, 14),
        &["FAILS", "the claim lacks the factor `1 - a1[0]^2`"],
    );
    assert_contains(
        block(&out, file, 16),
        &["FAILS", "index `j` stands where 0..1 belongs"],
    );
    assert_contains(
        block(&out, file, 18),
        &["FAILS", "`delta(a1[1])` stands where the derivation has"],
    );
    assert!(out.ends_with("6 claims: 3 hold, 3 fail\n"), "{out}");
}

/// Backpropagation through time (examples/claims/rnn_mistakes.nn): the delta with its
/// carried term and W's gradient with h at t - 1 hold; the delta without the carried term,
/// W's gradient with h at t (the wrong time index) and at the last step alone (the sum over
/// time dropped) are each named as such.
#[test]
fn recurrence_mistakes_are_caught_and_the_carried_term_named() {
    let file = "examples/claims/rnn_mistakes.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.ends_with("5 claims: 2 hold, 3 fail\n"), "{out}");
    assert_contains(block(&out, file, 11), &["holds", "for all 12 index values"]);
    assert_contains(
        block(&out, file, 12),
        &[
            "fails for 9 of 12 index values",
            "holds for: t=3, k=0; t=3, k=1; t=3, k=2",
            "it holds only at the last step (t = 3)",
            "the term through `h[t + 1]`",
            "`dprev_h`",
            "is missing",
        ],
    );
    assert_contains(block(&out, file, 13), &["holds", "for all 9 index values"]);
    assert_contains(
        block(&out, file, 14),
        &[
            "FAILS",
            "fails for 9 of 9 index values",
            "the claim reads `h[t][j]` where `h[t - 1][j]` belongs",
            "the wrong time index",
        ],
    );
    assert_contains(
        block(&out, file, 15),
        &[
            "FAILS",
            "the claim keeps one term",
            "of the sum over the 4 steps of `h`",
            "the sum over time is dropped",
        ],
    );
    // Closed forms through time run to pages: a diagnosis says how long they are instead.
    assert!(out.lines().all(|l| l.len() < 2000), "{out}");
}

/// An LSTM's cell (examples/claims/lstm_mistakes.nn), a mutual recurrence: the cell's delta
/// without the forget gate's carried term, and the forget gate's delta with the cell at t
/// where t - 1 belongs, are each named; the right forms hold.
#[test]
fn lstm_mistakes_are_named() {
    let file = "examples/claims/lstm_mistakes.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.ends_with("4 claims: 2 hold, 2 fail\n"), "{out}");
    assert_contains(block(&out, file, 17), &["holds", "for all 8 index values"]);
    assert_contains(
        block(&out, file, 18),
        &[
            "FAILS",
            "it holds only at the last step (t = 3)",
            "the term through `c[t + 1]`",
        ],
    );
    assert_contains(block(&out, file, 19), &["holds", "for all 8 index values"]);
    assert_contains(
        block(&out, file, 20),
        &[
            "FAILS",
            "the claim reads `c[t][k]` where `c[t - 1][k]` belongs",
        ],
    );
}

/// A convolution's backward pass (examples/claims/conv_mistakes.nn): the input delta through
/// the flipped kernel and the kernel gradient as a correlation hold; the kernel not flipped,
/// and the input delta through one filter only, are each named.
#[test]
fn convolution_mistakes_are_named() {
    let file = "examples/claims/conv_mistakes.nn";
    let (code, out) = check(file);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.ends_with("4 claims: 2 hold, 2 fail\n"), "{out}");
    assert_contains(block(&out, file, 13), &["holds", "for all 50 index values"]);
    assert_contains(
        block(&out, file, 14),
        &[
            "FAILS",
            "the kernel is not flipped",
            "`dL/dz[f][u + p][v + q]` where `dL/dz[f][u - p][v - q]` belongs",
        ],
    );
    assert_contains(
        block(&out, file, 15),
        &[
            "FAILS",
            "the claim keeps one term",
            "each filter, each position",
            "`+=`, not `=`",
        ],
    );
    assert_contains(block(&out, file, 16), &["holds", "for all 36 index values"]);
}
