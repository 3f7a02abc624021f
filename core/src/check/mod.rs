//! Semantic checks: resolves names, orders vectors, infers shapes, and reports every problem.

mod claims;
mod consts;
mod data;
mod functions;
mod grad;
mod index;
mod infer;
mod later;
mod limits;
mod order;
mod outline;
mod params;
mod pass;
mod statements;
mod unknown;

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use chainrule_grammar::{self as ast, Diagnostic, Span};

use crate::model::{Loss, Model, Network, Param, Shape, Symbol, TExpr, Vector};
pub use limits::{MAX_DEPTH, MAX_OPERATIONS, MAX_SCALARS};
pub use outline::{DataForm, NetworkOutline, ParamOutline, outline};
pub(crate) use params::ParamTable;
use params::flatten_value;
use pass::{InferPass, renumber_vectors};
use statements::{Statements, sort_statements};

/// What a name stands for inside one network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entity {
    /// An input or target with its shape.
    Data(Symbol, Shape),
    /// A named vector, by source index.
    Vector(usize),
    /// The loss.
    Loss,
    /// A user or built-in function.
    Function,
    /// A `const`, by position in the network's constants.
    Const(usize),
}

/// The names visible in one network.
pub(crate) struct Scope<'a> {
    names: BTreeMap<&'a str, Entity>,
    /// The values of the network's `const`s, by [`Entity::Const`] position.
    consts: Vec<f64>,
    functions: &'a [(String, usize)],
    /// Each user function's position in `functions`, by name.
    fn_index: &'a HashMap<&'a str, usize>,
    /// The label targets (`target y label[N]`), by name, with their number of classes.
    labels: BTreeMap<&'a str, usize>,
}

impl Scope<'_> {
    /// What a name stands for: a network's own names first, then the file's functions.
    fn resolve(&self, name: &str) -> Option<Entity> {
        self.names
            .get(name)
            .copied()
            .or_else(|| self.fn_index.contains_key(name).then_some(Entity::Function))
    }

    /// A user function's index and arity.
    fn function(&self, name: &str) -> Option<(usize, usize)> {
        self.fn_index.get(name).map(|&i| (i, self.functions[i].1))
    }

    /// The value of a `const`.
    fn const_value(&self, index: usize) -> f64 {
        self.consts.get(index).copied().unwrap_or(0.0)
    }
}

/// Checks a parsed file. Every problem is reported, not only the first.
pub fn check(file: &ast::File, source: &str) -> Result<Model, Vec<Diagnostic>> {
    check_recording(file, source, None)
}

/// [`check`], telling `recorder` what inference learnt about each network.
fn check_recording(
    file: &ast::File,
    source: &str,
    recorder: Option<&outline::Recorder>,
) -> Result<Model, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let (functions, signatures) = functions::check_functions(&file.functions, &mut errors);
    let fn_sizes = limits::function_sizes(&functions);
    let line_starts: Rc<[usize]> = crate::diagnostic::line_starts(source).into();
    let mut fn_index: HashMap<&str, usize> = HashMap::new();
    for (i, (name, _)) in signatures.iter().enumerate() {
        fn_index.entry(name.as_str()).or_insert(i);
    }
    let file_info = FileInfo {
        signatures: &signatures,
        fn_index: &fn_index,
        fn_sizes: &fn_sizes,
        source,
        line_starts: &line_starts,
        recorder,
    };
    let mut networks = Vec::new();
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for network in &file.networks {
        if let Some(first) = seen.insert(&network.name.name, network.name.span) {
            errors.push(Diagnostic::new(
                network.name.span,
                format!(
                    "network `{}` is defined twice (first on line {})",
                    network.name.name,
                    line_of(source, first)
                ),
            ));
        }
        if let Some(checked) = check_network(network, &file_info, &mut errors) {
            networks.push(checked);
        }
    }
    if errors.is_empty() {
        Ok(Model {
            networks,
            functions,
        })
    } else {
        crate::diagnostic::dedup(&mut errors);
        Err(errors)
    }
}

/// The 1-based line of a byte offset, for messages that mention another place.
pub(crate) fn line_of(source: &str, span: Span) -> usize {
    source.as_bytes()[..span.start.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// ` (did you mean `x`?)` when a known name is one edit away (two for names of four letters
/// or more: `dot` is not a misspelt `cos`), a swap of neighbours counting as one edit.
pub(crate) fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let most = if name.chars().count() <= 3 { 1 } else { 2 };
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= most)
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// The optimal-string-alignment distance: insertions, deletions, replacements and swaps of
/// neighbours (`tahn` is one edit from `tanh`).
fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// What every network of a file shares.
struct FileInfo<'f> {
    /// Every user function's name and arity, in file order.
    signatures: &'f [(String, usize)],
    /// Each user function's position in `signatures`, by name.
    fn_index: &'f HashMap<&'f str, usize>,
    /// The operations one call of each user function unrolls to, and how deep.
    fn_sizes: &'f [limits::FnSize],
    source: &'f str,
    /// Byte offsets where lines start.
    line_starts: &'f Rc<[usize]>,
    /// Where what inference learnt goes, for [`outline`].
    recorder: Option<&'f outline::Recorder>,
}

fn check_network<'a>(
    network: &'a ast::Network,
    file: &FileInfo<'_>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Network> {
    let FileInfo {
        signatures, source, ..
    } = *file;
    let start_errors = errors.len();
    let s = sort_statements(network, errors);

    // Every definition of a name, to report duplicates.
    let mut defined: BTreeMap<&str, Span> = BTreeMap::new();
    let mut define = |ident: &'a ast::Ident, errors: &mut Vec<Diagnostic>| {
        if let Some(first) = defined.insert(&ident.name, ident.span) {
            errors.push(Diagnostic::new(
                ident.span,
                format!(
                    "`{}` is defined twice (first on line {})",
                    ident.name,
                    line_of(source, first)
                ),
            ));
            defined.insert(&ident.name, first);
            false
        } else {
            if crate::builtin::builtin_constant(&ident.name).is_some() {
                errors.push(Diagnostic::new(
                    ident.span,
                    format!(
                        "`{}` is a built-in constant and cannot be redefined",
                        ident.name
                    ),
                ));
            } else if file.fn_index.contains_key(ident.name.as_str())
                || crate::builtin::is_builtin_name(&ident.name)
            {
                errors.push(Diagnostic::new(
                    ident.span,
                    format!(
                        "`{}` is a function name and cannot also name a value",
                        ident.name
                    ),
                ));
            }
            true
        }
    };

    for decl in s.inputs.iter().chain(&s.targets) {
        define(&decl.name, errors);
    }
    let inputs = data::data_vars(&s.inputs, "input", errors);
    let targets = data::data_vars(&s.targets, "target", errors);
    data::default_batches_agree(&inputs, &targets, &s, errors);
    if inputs.is_empty() {
        errors.push(Diagnostic::new(
            network.name.span,
            format!(
                "network `{}` has no input: add `input x[N]`",
                network.name.name
            ),
        ));
    }

    let mut names: BTreeMap<&str, Entity> = BTreeMap::new();
    for (i, d) in inputs.iter().enumerate() {
        names
            .entry(&d.name)
            .or_insert(Entity::Data(Symbol::Input(i), d.shape));
    }
    for (i, d) in targets.iter().enumerate() {
        names
            .entry(&d.name)
            .or_insert(Entity::Data(Symbol::Target(i), d.shape));
    }
    for (i, (name, _, _)) in s.vectors.iter().enumerate() {
        define(name, errors);
        names.entry(&name.name).or_insert(Entity::Vector(i));
    }
    for (name, _) in &s.losses {
        define(name, errors);
    }
    match s.losses.as_slice() {
        [] => errors.push(Diagnostic::new(
            network.name.span,
            format!(
                "network `{}` has no loss: add `loss L = ...`",
                network.name.name
            ),
        )),
        [_] => {}
        [_, rest @ ..] => {
            for (name, _) in rest {
                errors.push(Diagnostic::new(
                    name.span,
                    "a network has exactly one loss, and this is a second one",
                ));
            }
        }
    }
    if let Some((name, _)) = s.losses.first() {
        names.entry(&name.name).or_insert(Entity::Loss);
    }

    let consts = consts::named_consts(&s.consts, &mut define, errors);
    for (i, c) in consts.iter().enumerate() {
        names.entry(&c.name).or_insert(Entity::Const(i));
    }

    let mut params = ParamTable::new(Rc::clone(file.line_starts));
    for decl in &s.params {
        if !define(&decl.name, errors) {
            continue;
        }
        if names.contains_key(decl.name.name.as_str()) {
            continue;
        }
        let sizes: Vec<usize> = decl.dims.iter().map(|d| d.size).collect();
        let shape = match Shape::of(&sizes) {
            Some(shape) if sizes.iter().all(|&n| n > 0) => Some(shape),
            Some(_) => {
                errors.push(Diagnostic::new(
                    decl.name.span,
                    format!(
                        "parameter `{}` must have at least one element",
                        decl.name.name
                    ),
                ));
                None
            }
            None => {
                errors.push(Diagnostic::new(
                    decl.dims[crate::model::MAX_AXES].span,
                    format!(
                        "parameter `{}` has {} sizes; a value has at most {} axes",
                        decl.name.name,
                        sizes.len(),
                        crate::model::MAX_AXES
                    ),
                ));
                None
            }
        };
        let index = params.add(&decl.name.name, decl.name.span);
        let entry = &mut params.entries[index];
        entry.shape = shape;
        entry.declared = true;
        entry.default = decl.value.clone();
    }

    let order::Order {
        vectors: order,
        recurrences,
    } = order::order_vectors(&s.vectors, &s.vector_index, &names, source, errors)?;
    let labels = label_targets(&targets);
    let scope = Scope {
        labels,
        names,
        consts: consts.iter().map(|c| c.value).collect(),
        functions: signatures,
        fn_index: file.fn_index,
    };

    // Infer shapes until a pass learns nothing new, then one last pass that reports.
    let expressions = s.vectors.iter().map(|(_, _, e)| *e);
    let hints = later::hints(&scope, expressions.chain(s.losses.iter().map(|(_, e)| *e)));
    let mut pass = InferPass {
        statements: &s,
        order: &order,
        scope: &scope,
        hints: &hints,
        recurrences: &recurrences,
        carried: vec![None; s.vectors.len()],
    };
    for _ in 0..s.vectors.len() + 2 {
        params.progress = false;
        pass.run(&mut params, false);
        if !params.progress {
            break;
        }
    }
    let (typed, loss_expr, pass_errors) = pass.run(&mut params, true);
    errors.extend(pass_errors);
    if let Some(recorder) = file.recorder {
        let shapes = typed
            .iter()
            .map(|(index, shape, _)| (*index, *shape))
            .collect();
        recorder.record(network.name.span, &params, shapes);
    }

    let mut param_list = Vec::new();
    for entry in &params.entries {
        let Some(shape) = entry.shape else { continue };
        let default = entry
            .default
            .as_ref()
            .and_then(|v| flatten_value(v, &shape.dims(), &entry.name, errors));
        param_list.push(Param {
            name: entry.name.clone(),
            shape,
            default,
            span: entry.span,
            declared: entry.declared,
        });
    }
    if errors.len() > start_errors {
        // The claims cannot be typed against a broken network, but a claim about a name that
        // exists nowhere is still worth saying now.
        for (claim, _) in &s.claims {
            for r in [&claim.of, &claim.wrt] {
                if scope.resolve(&r.name.name).is_none() && params.find(&r.name.name).is_none() {
                    errors.push(Diagnostic::new(
                        r.name.span,
                        format!(
                            "the claim is about `{}`, which is not a name in network `{}`",
                            r.name.name, network.name.name
                        ),
                    ));
                }
            }
        }
        return None;
    }
    // Renumber vectors into evaluation order.
    let mut position = vec![0usize; s.vectors.len()];
    for (new, (old, _, _)) in typed.iter().enumerate() {
        position[*old] = new;
    }
    let renumber = |e: &mut TExpr| renumber_vectors(e, &position);
    let vectors: Vec<Vector> = typed
        .into_iter()
        .map(|(old, shape, mut expr)| {
            renumber(&mut expr);
            Vector {
                name: s.vectors[old].0.name.clone(),
                size: shape.len(),
                shape,
                expr,
                span: s.vectors[old].0.span,
            }
        })
        .collect();
    let (loss_name, mut loss_expr) = loss_expr?;
    renumber(&mut loss_expr);
    let recurrences: Vec<std::ops::Range<usize>> = recurrences
        .iter()
        .map(|group| position[group[0]]..position[group[0]] + group.len())
        .collect();
    if !order::same_steps(&vectors, &recurrences, errors) {
        return None;
    }
    let mut checked = Network {
        name: network.name.name.clone(),
        span: network.name.span,
        inputs,
        targets,
        params: param_list,
        consts,
        vectors,
        loss: Loss {
            name: loss_name.name,
            expr: loss_expr,
            span: loss_name.span,
        },
        batch: s.batch.map(|(rule, _)| rule).unwrap_or_default(),
        claims: Vec::new(),
        refused_claims: Vec::new(),
        recurrences,
    };
    (checked.claims, checked.refused_claims) = claims::check_claims(
        &checked,
        &s.claims,
        signatures,
        file.fn_index,
        source,
        Rc::clone(file.line_starts),
        errors,
    );
    if errors.len() == start_errors {
        limits::check_size(&checked, file.fn_sizes, errors);
    }
    (errors.len() == start_errors).then_some(checked)
}

/// The label targets by name, with their number of classes.
pub(crate) fn label_targets(targets: &[crate::model::DataVar]) -> BTreeMap<&str, usize> {
    targets
        .iter()
        .filter(|t| t.kind == chainrule_grammar::TargetKind::Label)
        .map(|t| (t.name.as_str(), t.size))
        .collect()
}
