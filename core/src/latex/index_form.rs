//! Prints the general index form (`chainrule latex --form general`): one line per vector's
//! delta and per parameter's gradient, each the formula [`super::general::Formulas`] finds for
//! all of its elements, or a note where no single formula exists.

use std::collections::HashSet;

use super::Latex;
use super::general::{Formulas, Leaf, SlotKind, inner_name};
use super::names;
use crate::ir::Var;
use crate::model::{Shape, Symbol};

/// Prints the general form of every delta and of the chosen parameters' gradients: from
/// the verified tensor-level statements where the tensor level covers the network, else
/// (a derivation re-rooted by `--of`, a network with `grad`) by anti-unification.
pub(super) fn general(latex: &mut Latex<'_>, weights: &[Var]) {
    if let Some(Ok(program)) = latex.compiled.map(|c| c.program())
        && !latex.derivation.rerooted
        && latex.derivation.inner.is_empty()
    {
        from_statements(latex, program, weights);
        return;
    }
    unified(latex, weights);
}

/// The general form from tensor-level statements: an unverified statement is referred to
/// the delta form, never printed.
fn from_statements(latex: &mut Latex<'_>, program: &crate::tensor::Program, weights: &[Var]) {
    use crate::tensor::Tensor;
    let network = latex.network;
    let chosen: HashSet<Var> = weights.iter().copied().collect();
    let printer = super::indexed::IndexPrinter::new(program, network, latex.loss_name());
    let mut lines = Vec::new();
    let mut printed = Vec::new();
    let missing =
        |lhs: String| format!("{lhs} &\\quad \\text{{(no single formula: see the delta form)}}");
    for v in (0..network.vectors.len()).rev() {
        let Some(statement) = program.delta_of(Symbol::Vector(v)) else {
            continue;
        };
        if statement.verified {
            lines.push(printer.line(statement));
            printed.push(statement.formula);
        } else {
            printer.name_own(statement);
            lines.push(missing(printer.lhs(statement)));
        }
    }
    for (p, statement) in program.gradients.iter().enumerate() {
        let symbol = Symbol::Param(p);
        if !latex
            .derivation
            .layout
            .vars(symbol)
            .any(|v| chosen.contains(&v))
        {
            continue;
        }
        if statement.verified {
            lines.push(printer.line(statement));
            printed.push(statement.formula);
        } else {
            printer.name_own(statement);
            lines.push(missing(printer.lhs(statement)));
        }
    }
    // The arguments the formulas read, defined first.
    let mut definitions = Vec::new();
    for statement in &program.forward {
        if let Tensor::Inner(v) = statement.defines
            && printed.iter().any(|&f| program.reads(f, Tensor::Inner(v)))
        {
            definitions.push(printer.line(statement));
        }
    }
    // A user function's derivative, said once (as the seeds say sigma' once).
    definitions.extend(printer.derivative_lines(&printed));
    latex.lines.extend(definitions);
    latex.lines.extend(lines);
}

/// The general form by anti-unification of the scalar derivation's elements.
fn unified(latex: &mut Latex<'_>, weights: &[Var]) {
    let network = latex.network;
    let loss = latex.loss_name();
    let chosen: HashSet<Var> = weights.iter().copied().collect();
    let mut lines: Vec<String> = Vec::new();
    let mut formulas = Formulas::new(network, &latex.derivation);
    // Deltas, vector by vector from the loss backwards.
    for v in (0..network.vectors.len()).rev() {
        let (formula, count) = formulas.delta(v);
        if count == 0 {
            continue;
        }
        // Elements without a delta (the loss does not depend on them) are zero: a formula
        // unified over the others alone would claim a value for them too.
        let formula = formula.filter(|_| count == network.vectors[v].size);
        let name = &network.vectors[v].name;
        let element = match network.vectors[v].shape {
            Shape::Scalar => names::symbol(name),
            Shape::Vector(_) => names::element(name, false, &["k".to_string()]),
            // One letter per axis, as the tensor-level forms name them.
            shape => {
                let letters = &["f", "c", "u", "v"][4 - shape.rank().min(4)..];
                let letters: Vec<String> = letters.iter().map(|l| l.to_string()).collect();
                names::element(name, false, &letters)
            }
        };
        let lhs = format!(
            "{} = {}",
            names::delta(&element),
            names::partial(&loss, &element)
        );
        match formula {
            Some(formula) => lines.push(format!("{lhs} &= {}", formulas.print(formula, true))),
            None => lines.push(format!(
                "{lhs} &\\quad \\text{{(no single formula: see the delta form)}}"
            )),
        }
    }
    // Gradients, parameter by parameter; a derivation re-rooted by `--of` may also hold
    // derivatives with respect to an input or a named vector (`crate::derivative`).
    let symbols = (0..network.params.len())
        .map(Symbol::Param)
        .chain((0..network.inputs.len()).map(Symbol::Input))
        .chain((0..network.vectors.len()).map(Symbol::Vector));
    for symbol in symbols {
        let shape = network.shape_of(symbol);
        if !latex
            .derivation
            .layout
            .vars(symbol)
            .any(|var| chosen.contains(&var))
        {
            continue;
        }
        // Unified over every element, not only the chosen ones: one element alone fits a
        // formula that the others need not satisfy.
        let (formula, count) = formulas.gradient_of(symbol, |_| true);
        let formula = formula.filter(|_| count == shape.len());
        let indices: Vec<String> = match shape {
            Shape::Matrix(..) => vec!["i".into(), "j".into()],
            Shape::Vector(_) => vec!["i".into()],
            Shape::Scalar => vec![],
            Shape::Tensor(d) => ["f", "c", "p", "q"][..d.sizes().len()]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let name = network.name_of(symbol);
        let wrt = match shape {
            Shape::Scalar => names::symbol(name),
            shape => names::element(name, matches!(shape, Shape::Matrix(..)), &indices),
        };
        let lhs = names::partial(&loss, &wrt);
        match formula {
            Some(formula) => lines.push(format!("{lhs} &= {}", formulas.print(formula, true))),
            None => lines.push(format!(
                "{lhs} &\\quad \\text{{(no single formula: see the delta form)}}"
            )),
        }
    }
    // The arguments the formulas read, defined first.
    let used: Vec<usize> = (0..network.vectors.len())
        .filter(|v| {
            formulas
                .leaves
                .iter()
                .any(|l| matches!(l, Leaf::Element { slot_of: SlotKind::Inner(u), .. } if *u == *v))
        })
        .collect();
    let mut definitions = Vec::new();
    for v in used {
        if let Some(formula) = formulas.inner(v) {
            let lhs = inner_name(&network.vectors[v].name, &["k".to_string()]);
            definitions.push(format!("{lhs} &= {}", formulas.print(formula, true)));
        }
    }
    latex.lines.extend(definitions);
    latex.lines.extend(lines);
}
