//! What a file with errors still determines: each network's inputs, targets, named vectors
//! and parameters with every size and shape that inference could still find. `derive!`
//! builds its stand-in module from this, so one mistake in a network does not also break the
//! user's correct code that uses the network's items.

use std::cell::RefCell;
use std::collections::BTreeSet;

use chainrule_grammar::{self as ast, Expr, ExprKind, Span, StatementKind};

use super::ParamTable;
use crate::model::{Network, Shape};

/// A parameter as far as it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamOutline {
    /// Its name.
    pub name: String,
    /// Its shape, where inference or a declaration gives it.
    pub shape: Option<Shape>,
    /// How many indices it takes (2 for a matrix): from the shape, else from how the network
    /// uses it (an operand of `@` is a matrix).
    pub rank: usize,
}

/// How one input or target arrives in a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataForm {
    /// A vector of this many numbers.
    Vector(usize),
    /// One number (`input s`).
    Scalar,
    /// One class index in `0..N` (`target y label[N]`).
    Label(usize),
    /// A value of two to four axes (`input img[1][8][8]`).
    Tensor(Shape),
}

impl DataForm {
    /// The number of elements the derivation sees (a label's one-hot vector).
    pub fn size(self) -> usize {
        match self {
            DataForm::Vector(n) | DataForm::Label(n) => n,
            DataForm::Scalar => 1,
            DataForm::Tensor(shape) => shape.len(),
        }
    }

    /// The form of a declaration, as the checker carries on with it (a refused size is 1).
    fn of_decl(d: &ast::Decl) -> DataForm {
        match (d.kind, d.dims.as_slice()) {
            (chainrule_grammar::TargetKind::Label, _) => {
                DataForm::Label(one_size(&d.dims).unwrap_or(1))
            }
            (chainrule_grammar::TargetKind::Plain, []) => DataForm::Scalar,
            (chainrule_grammar::TargetKind::Plain, dims) if dims.len() >= 2 => {
                let sizes: Vec<usize> = dims.iter().map(|d| d.size).collect();
                match Shape::of(&sizes) {
                    Some(shape) if sizes.iter().all(|&n| n > 0) => DataForm::Tensor(shape),
                    _ => DataForm::Vector(1),
                }
            }
            _ => DataForm::Vector(one_size(&d.dims).unwrap_or(1)),
        }
    }

    /// The form of a checked input or target.
    fn of_var(v: &crate::model::DataVar) -> DataForm {
        match (v.kind, v.shape) {
            (chainrule_grammar::TargetKind::Label, _) => DataForm::Label(v.size),
            (_, Shape::Scalar) => DataForm::Scalar,
            (_, shape) if shape.rank() >= 2 => DataForm::Tensor(shape),
            _ => DataForm::Vector(v.size),
        }
    }
}

/// One network as far as it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkOutline {
    /// The network's name.
    pub name: String,
    /// Inputs with their forms, in declaration order.
    pub inputs: Vec<(String, DataForm)>,
    /// Targets with their forms, in declaration order.
    pub targets: Vec<(String, DataForm)>,
    /// Named values in source order, with their shape where it is known (a named scalar's is
    /// `Shape::Scalar`, a feature map's its axes).
    pub vectors: Vec<(String, Option<Shape>)>,
    /// Parameters: declared ones first, then by first use.
    pub params: Vec<ParamOutline>,
    /// The loss's name, if the network has one.
    pub loss: Option<String>,
}

/// What inference learnt about one network, recorded as the checker goes.
struct Learnt {
    network: Span,
    params: Vec<(String, Option<Shape>)>,
    /// `(source index of the vector, shape)`.
    shapes: Vec<(usize, Shape)>,
}

/// Collects what each network's inference learnt, even when the network has errors.
#[derive(Default)]
pub(crate) struct Recorder {
    learnt: RefCell<Vec<Learnt>>,
}

impl Recorder {
    /// Called by the checker after its last inference pass over the network at `network`.
    pub(super) fn record(&self, network: Span, params: &ParamTable, shapes: Vec<(usize, Shape)>) {
        // A size of zero is an error of its own; as a Rust type it would only add more.
        let params = params
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.shape.filter(|s| !s.is_empty())))
            .collect();
        let shapes = shapes.into_iter().filter(|(_, s)| !s.is_empty()).collect();
        self.learnt.borrow_mut().push(Learnt {
            network,
            params,
            shapes,
        });
    }
}

/// Every network of a parsed file as far as it is known, whether or not the file checks.
///
/// A call of an unknown function is taken to be element-wise: it is almost always a
/// misspelt activation (`sigmod`), and the sizes after it then still follow (the error
/// itself comes from [`super::check`]).
pub fn outline(file: &ast::File, source: &str) -> Vec<NetworkOutline> {
    // The calls the checker refused at the function's own name are the unknown ones (asking
    // the checker, not a list of names, keeps this right as the language gains functions).
    let refused: BTreeSet<Span> = match super::check(file, source) {
        Ok(_) => BTreeSet::new(),
        Err(diagnostics) => diagnostics.iter().map(|d| d.span).collect(),
    };
    let mut repaired = file.clone();
    for network in &mut repaired.networks {
        for statement in &mut network.statements {
            match &mut statement.kind {
                StatementKind::Vector { expr, .. } | StatementKind::Loss { expr, .. } => {
                    assume_elementwise(expr, &refused)
                }
                _ => {}
            }
        }
    }
    let recorder = Recorder::default();
    // The diagnostics are the original check's business; only what was learnt is kept.
    let _ = super::check_recording(&repaired, source, Some(&recorder));
    let learnt = recorder.learnt.into_inner();
    file.networks
        .iter()
        .map(|network| {
            network_outline(
                network,
                learnt.iter().find(|l| l.network == network.name.span),
            )
        })
        .collect()
}

/// Renames one-argument calls refused at the function's name (`refused` holds the spans of
/// every diagnostic) to `linear`, the element-wise identity.
fn assume_elementwise(expr: &mut Expr, refused: &BTreeSet<Span>) {
    match &mut expr.kind {
        ExprKind::Call { func, args } => {
            if refused.contains(&func.span) && args.len() == 1 {
                func.name = "linear".to_string();
            }
            args.iter_mut().for_each(|a| assume_elementwise(a, refused));
        }
        ExprKind::Reduce { arg, .. } | ExprKind::Neg(arg) | ExprKind::Select { base: arg, .. } => {
            assume_elementwise(arg, refused)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            assume_elementwise(lhs, refused);
            assume_elementwise(rhs, refused);
        }
        ExprKind::Number(_)
        | ExprKind::Name(_)
        | ExprKind::Indexed { .. }
        | ExprKind::DeltaRef { .. } => {}
    }
}

/// One size from declared dimensions, if there is exactly one and it is not zero.
fn one_size(dims: &[ast::Dim]) -> Option<usize> {
    match dims {
        [d] if d.size > 0 => Some(d.size),
        _ => None,
    }
}

fn network_outline(network: &ast::Network, learnt: Option<&Learnt>) -> NetworkOutline {
    let mut out = NetworkOutline {
        name: network.name.name.clone(),
        inputs: Vec::new(),
        targets: Vec::new(),
        vectors: Vec::new(),
        params: Vec::new(),
        loss: None,
    };
    let mut declared_params = Vec::new();
    for statement in &network.statements {
        match &statement.kind {
            // A size the checker refused is shown as the checker carries on with it: 1.
            StatementKind::Input(d) => out.inputs.push((d.name.name.clone(), DataForm::of_decl(d))),
            StatementKind::Target(d) => out
                .targets
                .push((d.name.name.clone(), DataForm::of_decl(d))),
            StatementKind::Vector { name, dims, .. } => {
                let index = out.vectors.len();
                let inferred = learnt
                    .and_then(|l| l.shapes.iter().find(|(i, _)| *i == index))
                    .map(|(_, shape)| *shape);
                let declared = one_size(dims).map(Shape::Vector);
                out.vectors.push((name.name.clone(), inferred.or(declared)));
            }
            StatementKind::Loss { name, .. } => {
                out.loss.get_or_insert_with(|| name.name.clone());
            }
            StatementKind::Param(d) => {
                let sizes: Vec<usize> = d.dims.iter().map(|n| n.size).collect();
                let shape = Shape::of(&sizes).filter(|_| sizes.iter().all(|&n| n > 0));
                declared_params.push((d.name.name.clone(), shape));
            }
            StatementKind::Batch(_) | StatementKind::Claim(_) | StatementKind::Const { .. } => {}
        }
    }
    let params = match learnt {
        Some(l) => l.params.clone(),
        // The checker stopped before inference (a cycle): only declarations are known.
        None => declared_params,
    };
    out.params = params
        .into_iter()
        .map(|(name, shape)| {
            let rank = match shape {
                Some(shape) => shape.dims().len(),
                None => used_rank(network, &name),
            };
            ParamOutline { name, shape, rank }
        })
        .collect();
    // A name defined twice keeps its first definition, as the checker does.
    let mut seen = std::collections::BTreeSet::new();
    out.vectors.retain(|(name, _)| seen.insert(name.clone()));
    out
}

impl NetworkOutline {
    /// The outline of a network that checked: everything is known.
    pub fn of(network: &Network) -> NetworkOutline {
        let data = |vars: &[crate::model::DataVar]| {
            vars.iter()
                .map(|v| (v.name.clone(), DataForm::of_var(v)))
                .collect()
        };
        NetworkOutline {
            name: network.name.clone(),
            inputs: data(&network.inputs),
            targets: data(&network.targets),
            vectors: network
                .vectors
                .iter()
                .map(|v| (v.name.clone(), Some(v.shape)))
                .collect(),
            params: network
                .params
                .iter()
                .map(|p| ParamOutline {
                    name: p.name.clone(),
                    shape: Some(p.shape),
                    rank: p.shape.dims().len(),
                })
                .collect(),
            loss: Some(network.loss.name.clone()),
        }
    }
}

/// How many indices a parameter of unknown shape takes, judged from its uses: 2 next to `@`
/// or with two indices, else 1.
fn used_rank(network: &ast::Network, name: &str) -> usize {
    fn walk(e: &Expr, name: &str, rank: &mut usize) {
        let is_name = |e: &Expr| matches!(&e.kind, ExprKind::Name(i) if i.name == name);
        match &e.kind {
            ExprKind::Binary { op, lhs, rhs } => {
                if *op == ast::BinOp::MatMul && (is_name(lhs) || is_name(rhs)) {
                    *rank = 2;
                }
                walk(lhs, name, rank);
                walk(rhs, name, rank);
            }
            ExprKind::Indexed { name: n, indices } if n.name == name => {
                *rank = (*rank).max(indices.len());
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, name, rank)),
            ExprKind::Reduce { arg, .. }
            | ExprKind::Neg(arg)
            | ExprKind::Select { base: arg, .. } => walk(arg, name, rank),
            ExprKind::Number(_)
            | ExprKind::Name(_)
            | ExprKind::Indexed { .. }
            | ExprKind::DeltaRef { .. } => {}
        }
    }
    let mut rank = 1;
    for statement in &network.statements {
        if let StatementKind::Vector { expr, .. } | StatementKind::Loss { expr, .. } =
            &statement.kind
        {
            walk(expr, name, &mut rank);
        }
    }
    rank.min(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(o: &NetworkOutline) -> Vec<(&str, Option<Shape>, usize)> {
        o.params
            .iter()
            .map(|p| (p.name.as_str(), p.shape, p.rank))
            .collect()
    }

    fn outline_of(text: &str) -> NetworkOutline {
        let file = chainrule_grammar::parse_file(text).expect("parses"); // ok: unit test
        outline(&file, text).remove(0)
    }

    #[test]
    fn a_misspelt_function_keeps_every_shape() {
        let text = "network two {\n input x[2]\n target t[2]\n z1[3] = W1 @ x + b1\n a1 = sigmod(z1)\n y[2] = W2 @ a1 + b2\n loss L = 0.5 * sum((y - t)^2)\n}\n";
        assert!(crate::check_source(text).is_err());
        let o = outline_of(text);
        assert_eq!(o.inputs, [("x".to_string(), DataForm::Vector(2))]);
        assert_eq!(o.targets, [("t".to_string(), DataForm::Vector(2))]);
        assert_eq!(
            o.vectors,
            [
                ("z1".to_string(), Some(Shape::Vector(3))),
                ("a1".to_string(), Some(Shape::Vector(3))),
                ("y".to_string(), Some(Shape::Vector(2))),
            ]
        );
        assert_eq!(
            shapes(&o),
            [
                ("W1", Some(Shape::Matrix(3, 2)), 2),
                ("b1", Some(Shape::Vector(3)), 1),
                ("W2", Some(Shape::Matrix(2, 3)), 2),
                ("b2", Some(Shape::Vector(2)), 1),
            ]
        );
        assert_eq!(o.loss.as_deref(), Some("L"));
    }

    #[test]
    fn what_cannot_be_known_stays_unknown() {
        // `h` has no size and its definition does not type: `W` and `h` stay open, the rest
        // is still known.
        let text = "network n {\n input x[2]\n target t[1]\n h = W @ x + x[5]\n y[1] = V @ h\n loss L = sum((y - t)^2)\n param V[1][4]\n}\n";
        assert!(crate::check_source(text).is_err());
        let o = outline_of(text);
        assert_eq!(
            o.vectors,
            [
                ("h".to_string(), None),
                ("y".to_string(), Some(Shape::Vector(1)))
            ]
        );
        assert_eq!(
            shapes(&o),
            [("V", Some(Shape::Matrix(1, 4)), 2), ("W", None, 2)]
        );
    }

    #[test]
    fn a_zero_size_is_unknown() {
        let text = "network z {\n input x[2]\n h[0] = W @ x\n loss L = sum(h)\n}\n";
        assert!(crate::check_source(text).is_err());
        let o = outline_of(text);
        assert_eq!(o.vectors, [("h".to_string(), None)]);
        assert_eq!(shapes(&o), [("W", None, 2)]);
    }

    #[test]
    fn a_cycle_keeps_declarations() {
        let text = "network c {\n input x[2]\n target t[2]\n a[2] = b + x\n b[2] = a + x\n loss L = sum(a - t)\n param W[2][2]\n}\n";
        assert!(crate::check_source(text).is_err());
        let o = outline_of(text);
        assert_eq!(
            o.vectors,
            [
                ("a".to_string(), Some(Shape::Vector(2))),
                ("b".to_string(), Some(Shape::Vector(2)))
            ]
        );
        assert_eq!(shapes(&o), [("W", Some(Shape::Matrix(2, 2)), 2)]);
    }
}
