//! Prints tensor-level statements ([`crate::tensor`]) in index notation: `\delta_{x_{m}} =
//! \sum_{k} \delta_{z_{k}} w_{km}`, with affine indices, brackets for the ranges and fixed
//! indices that remain (`[k = 1]`), and one letter per index variable.

use std::cell::RefCell;

use super::names;
use crate::ir::{Node, NodeId, Var};
use crate::model::{Network, Symbol};
use crate::print::{Printer, Style};
use crate::tensor::{Affine, IndexVar, Leaf, Program, Statement, Tensor, dims};

/// Letters for a statement's own indices, by number of axes.
const OWN: [&[char]; 5] = [
    &[],
    &['k'],
    &['i', 'j'],
    &['c', 'u', 'v'],
    &['f', 'c', 'u', 'v'],
];

/// Letters for summed indices, in order of preference.
pub const SUMMED: [char; 12] = ['i', 'j', 'k', 'm', 'n', 'p', 'q', 'r', 's', 'a', 'b', 'l'];

/// Letters an index takes when its usual ones name values of the network.
const SPARE: [char; 9] = ['t', 'r', 's', 'e', 'g', 'l', 'w', 'm', 'n'];

/// Prints the formulas of one program.
pub struct IndexPrinter<'a> {
    /// The statements' formulas.
    pub program: &'a Program,
    /// Their network, for names and shapes.
    pub network: &'a Network,
    /// The loss's LaTeX name.
    pub loss: String,
    letters: RefCell<Vec<(IndexVar, char)>>,
}

impl<'a> IndexPrinter<'a> {
    /// A printer over a program.
    pub fn new(program: &'a Program, network: &'a Network, loss: String) -> IndexPrinter<'a> {
        IndexPrinter {
            program,
            network,
            loss,
            letters: RefCell::new(Vec::new()),
        }
    }

    /// `lhs &= rhs` for a statement, its indices named afresh.
    pub fn line(&self, statement: &Statement) -> String {
        self.name_own(statement);
        format!("{} &= {}", self.lhs(statement), self.rhs(statement.formula))
    }

    /// The left-hand side: `z_{k}`, `\delta_{z_{k}} = \frac{\partial L}{\partial z_{k}}`,
    /// `\frac{\partial L}{\partial w_{ij}}`.
    pub fn lhs(&self, statement: &Statement) -> String {
        let indices = statement.at();
        match statement.defines {
            Tensor::Value(symbol) => self.element(symbol, &indices),
            Tensor::Delta(symbol @ Symbol::Vector(_)) => {
                let element = self.element(symbol, &indices);
                format!(
                    "{} = {}",
                    names::delta(&element),
                    names::partial(&self.loss, &element)
                )
            }
            Tensor::Delta(symbol) => names::partial(&self.loss, &self.element(symbol, &indices)),
            Tensor::Inner(v) => self.inner(v, &indices),
        }
    }

    /// `\tilde{h_{k}}`: the argument of vector v's element-wise function.
    fn inner(&self, v: usize, indices: &[Affine]) -> String {
        let text: Vec<String> = indices.iter().map(|a| self.affine(a)).collect();
        format!(
            "\\tilde{{{}}}",
            names::element(&self.network.vectors[v].name, false, &text)
        )
    }

    /// Gives a statement's own indices their letters (and forgets every other letter).
    pub fn name_own(&self, statement: &Statement) {
        // A parameter's gradient is indexed from i, as `dL/db_i` and `dL/dw_ij`.
        let own = match (statement.defines, statement.indices.len()) {
            (Tensor::Delta(Symbol::Param(_)), 1) => &['i'][..],
            (_, n) => OWN.get(n).copied().unwrap_or(&[]),
        };
        let mut letters = self.letters.borrow_mut();
        letters.clear();
        for (k, &var) in statement.indices.iter().enumerate() {
            let preferred = own.get(k).copied().unwrap_or('l');
            // An index never wears the name of a value (an LSTM's gate `i`, an output `p`).
            let letter = std::iter::once(preferred)
                .chain(SPARE)
                .find(|&c| !self.names_value(c) && !letters.iter().any(|(_, u)| *u == c))
                .unwrap_or(preferred);
            letters.push((var, letter));
        }
    }

    /// Whether a one-letter name of the network is `c`.
    fn names_value(&self, c: char) -> bool {
        let n = self.network;
        let mut names = n
            .inputs
            .iter()
            .chain(&n.targets)
            .map(|d| d.name.as_str())
            .chain(n.vectors.iter().map(|v| v.name.as_str()))
            .chain(n.params.iter().map(|p| p.name.as_str()));
        names.any(|name| {
            let mut chars = name.chars();
            chars.next() == Some(c) && chars.next().is_none()
        })
    }

    /// A formula as the right-hand side of a line.
    pub fn rhs(&self, node: NodeId) -> String {
        self.print(node, true)
    }

    fn print(&self, node: NodeId, top: bool) -> String {
        let bare = self.bare_sums(node, top);
        let leaf = |v: Var| self.leaf(v, bare.contains(&v));
        let printer = Printer {
            graph: &self.program.graph,
            leaf: &leaf,
            style: Style::Latex,
        };
        if top {
            printer.expr(node)
        } else {
            printer.factor(node)
        }
    }

    /// The sums that read unambiguously without parentheses: the whole formula (at the
    /// top), a term of a sum, the last factor of a product (`p_k \sum_i t_i - t_k`).
    fn bare_sums(&self, root: NodeId, top: bool) -> Vec<Var> {
        let graph = &self.program.graph;
        let mut bare = Vec::new();
        let mut stack = vec![(root, top)];
        while let Some((n, free)) = stack.pop() {
            match graph.node(n) {
                Node::Var(v) => {
                    if free
                        && matches!(self.program.leaf_of(*v), Leaf::Sum(..) | Leaf::Extremum(..))
                    {
                        bare.push(*v);
                    }
                }
                Node::Add(a, b) | Node::Sub(a, b) => {
                    stack.push((*a, free));
                    stack.push((*b, free));
                }
                Node::Sum(items) => stack.extend(items.iter().map(|&i| (i, free))),
                Node::Mul(a, b) => {
                    stack.push((*a, false));
                    stack.push((*b, free));
                }
                other => other.for_each_child(|c| stack.push((c, false))),
            }
        }
        bare
    }

    fn leaf(&self, var: Var, top: bool) -> String {
        match self.program.leaf_of(var) {
            Leaf::Read(Tensor::Value(symbol), indices) => self.element(*symbol, indices),
            Leaf::Read(Tensor::Delta(symbol @ Symbol::Vector(_)), indices) => {
                names::delta(&self.element(*symbol, indices))
            }
            Leaf::Read(Tensor::Delta(symbol), indices) => {
                names::partial(&self.loss, &self.element(*symbol, indices))
            }
            Leaf::Read(Tensor::Inner(v), indices) => self.inner(*v, indices),
            Leaf::Sum(bounds, body) => {
                let letters: Vec<String> = bounds
                    .iter()
                    .map(|b| self.bind(b.var).to_string())
                    .collect();
                let text = format!(
                    "\\sum_{{{}}} {}",
                    letters.join(","),
                    self.print(*body, false)
                );
                if top {
                    text
                } else {
                    format!("\\left({text}\\right)")
                }
            }
            Leaf::LogSumExp(bound, body) => {
                let letter = self.bind(bound.var);
                format!("\\log \\sum_{{{letter}}} e^{{{}}}", self.print(*body, true))
            }
            Leaf::Extremum(f, bound, body) => {
                let text = format!(
                    "\\{}_{{{}}} {}",
                    extremum_name(*f),
                    self.bind(bound.var),
                    self.print(*body, false)
                );
                if top {
                    text
                } else {
                    format!("\\left({text}\\right)")
                }
            }
            // `[k - 2i = argmax_j x_{2i + j}]`: 1 at the first maximal element, else 0.
            Leaf::FirstExtremum(f, at, bound, body) => format!(
                "\\left[{} = \\operatorname*{{arg\\,{}}}_{{{}}} {}\\right]",
                self.affine(at),
                extremum_name(*f),
                self.bind(bound.var),
                self.print(*body, false)
            ),
            Leaf::Guard(affine, lo, hi) => self.guard(affine, *lo, *hi),
            Leaf::Call(f, args) | Leaf::CallDerivative(f, _, args) => {
                let args: Vec<String> = args.iter().map(|&a| self.print(a, true)).collect();
                let name = match self.program.leaf_of(var) {
                    Leaf::CallDerivative(_, n, _) => self.derivative_name(*f, *n),
                    _ => function_name(&self.program.functions[*f].name),
                };
                format!("{name}\\left({}\\right)", args.join(", "))
            }
        }
    }

    /// `\operatorname{gelu}'` for a function of one argument, `\partial_{a} f` for others.
    pub fn derivative_name(&self, f: usize, n: usize) -> String {
        let function = &self.program.functions[f];
        let name = function_name(&function.name);
        match &function.params[..] {
            [_] => format!("{name}'"),
            params => format!(
                "\\partial_{{{}}} {name}",
                names::symbol(params.get(n).map_or("", String::as_str))
            ),
        }
    }

    /// `f'(z) = ...` for every user function whose derivative a formula uses: the
    /// function's own derivative, said once.
    pub fn derivative_lines(&self, formulas: &[NodeId]) -> Vec<String> {
        let mut used: Vec<(usize, usize)> = Vec::new();
        let mut stack: Vec<NodeId> = formulas.to_vec();
        while let Some(n) = stack.pop() {
            match self.program.graph.node(n) {
                Node::Var(v) => match self.program.leaf_of(*v) {
                    Leaf::Sum(_, body)
                    | Leaf::LogSumExp(_, body)
                    | Leaf::Extremum(_, _, body)
                    | Leaf::FirstExtremum(_, _, _, body) => stack.push(*body),
                    Leaf::Call(_, args) => stack.extend(args.iter().copied()),
                    Leaf::CallDerivative(f, k, args) => {
                        used.push((*f, *k));
                        stack.extend(args.iter().copied());
                    }
                    _ => {}
                },
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        used.sort_unstable();
        used.dedup();
        used.into_iter()
            .map(|(f, k)| {
                let function = &self.program.functions[f];
                let params: Vec<String> =
                    function.params.iter().map(|p| names::symbol(p)).collect();
                let leaf = |v: Var| params.get(v.index()).cloned().unwrap_or_default();
                let printer = Printer {
                    graph: &function.graph,
                    leaf: &leaf,
                    style: Style::Latex,
                };
                format!(
                    "{}\\left({}\\right) &= {}",
                    self.derivative_name(f, k),
                    params.join(", "),
                    printer.expr(function.partials[k])
                )
            })
            .collect()
    }

    /// A new letter for a summed variable.
    fn bind(&self, var: IndexVar) -> char {
        let mut letters = self.letters.borrow_mut();
        if let Some(&(_, c)) = letters.iter().find(|(v, _)| *v == var) {
            return c;
        }
        let letter = SUMMED
            .iter()
            .chain(&SPARE)
            .copied()
            .find(|&c| !letters.iter().any(|(_, u)| *u == c) && !self.names_value(c))
            .unwrap_or('z');
        letters.push((var, letter));
        letter
    }

    fn letter(&self, var: IndexVar) -> char {
        let known = self
            .letters
            .borrow()
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, c)| *c);
        known.unwrap_or_else(|| self.bind(var))
    }

    /// An affine index as text: `k`, `u - p`, `2i + p`, `k + 1`, `0`.
    pub fn affine(&self, a: &Affine) -> String {
        let mut out = String::new();
        for &(v, c) in &a.terms {
            let letter = self.letter(v);
            let sign = if c < 0 { "-" } else { "+" };
            let magnitude = if c.abs() == 1 {
                String::new()
            } else {
                c.abs().to_string()
            };
            if out.is_empty() {
                out = format!("{}{magnitude}{letter}", if c < 0 { "-" } else { "" });
            } else {
                out = format!("{out} {sign} {magnitude}{letter}");
            }
        }
        match (out.is_empty(), a.offset) {
            (true, o) => o.to_string(),
            (false, 0) => out,
            (false, o) if o < 0 => format!("{out} - {}", -o),
            (false, o) => format!("{out} + {o}"),
        }
    }

    /// `[k = 1]` for an equality, `[0 \le u - p < 6]` for a range.
    fn guard(&self, a: &Affine, lo: i64, hi: i64) -> String {
        if hi == lo + 1 {
            // sum c_v v + offset = lo, as P = N + (lo - offset) with P and N the terms of
            // positive and negative coefficient.
            let side = |sign: i64| Affine {
                terms: a
                    .terms
                    .iter()
                    .filter(|(_, c)| c.signum() == sign)
                    .map(|&(v, c)| (v, c.abs()))
                    .collect(),
                offset: 0,
            };
            let (positive, mut negative) = (side(1), side(-1));
            let (left, right) = if positive.terms.is_empty() {
                (negative, Affine::constant(a.offset - lo))
            } else {
                negative.offset = lo - a.offset;
                (positive, negative)
            };
            return format!(
                "\\left[{} = {}\\right]",
                self.affine(&left),
                self.affine(&right)
            );
        }
        format!("\\left[{lo} \\le {} < {hi}\\right]", self.affine(a))
    }

    /// An element of a symbol at affine indices.
    fn element(&self, symbol: Symbol, indices: &[Affine]) -> String {
        if symbol == Symbol::Loss {
            return names::symbol(&self.network.loss.name);
        }
        let axes = dims(self.network, symbol).len();
        let name = self.network.name_of(symbol);
        if axes == 0 {
            return names::symbol(name);
        }
        let text: Vec<String> = indices.iter().map(|a| self.affine(a)).collect();
        if let (true, [k]) = (names::is_label(self.network, symbol), &text[..]) {
            return names::label_element(name, k);
        }
        names::element(name, axes == 2, &text)
    }
}

/// A user function's name in LaTeX: `\operatorname{gelu}`.
pub fn function_name(name: &str) -> String {
    format!("\\operatorname{{{}}}", names::escape(name))
}

/// `max` or `min`, as LaTeX's `\max` and `\min` write them.
fn extremum_name(f: crate::builtin::Pairwise) -> &'static str {
    match f {
        crate::builtin::Pairwise::Minimum => "min",
        _ => "max",
    }
}
