//! Straight-line Rust from the derivation graph: each needed node once, in an order where
//! every value is computed before it is used; a node used more than once gets a `let`.

use std::collections::HashMap;

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::builtin::Builtin;
use crate::derive::Derivation;
use crate::ir::{Node, NodeId, Var};
use crate::layout::Slot;
use crate::model::{Network, Shape, Symbol};

use super::Float;
use super::names::Names;

/// Binding strength of an emitted expression, to parenthesise only where Rust needs it.
const SUM: u8 = 1;
pub(super) const PRODUCT: u8 = 2;
pub(super) const UNARY: u8 = 3;
const ATOM: u8 = 4;

/// Emits straight-line code for chosen named scalars of one derivation.
pub struct CodeGen<'a> {
    network: &'a Network,
    derivation: &'a Derivation,
    float: Float,
    names: Names,
    /// The expression for each named scalar's definition, by slot.
    definitions: HashMap<Var, NodeId>,
    /// Nodes bound to a `let`, and the name they are bound to.
    bound: HashMap<NodeId, Ident>,
    /// How many times each needed node is used by needed parents.
    uses: HashMap<NodeId, u32>,
    statements: Vec<TokenStream>,
    /// Operations the emitted code performs (distinct IR nodes): a measure of its size.
    pub size: usize,
    /// The sizes of every [`CodeGen::define`] so far.
    pub size_total: usize,
    /// Past this size nothing is emitted (the caller reports the size instead).
    pub limit: usize,
    temporaries: usize,
    /// Named scalars computed elsewhere (by loops, into arrays), and how to read them.
    stored: HashMap<Var, TokenStream>,
    /// Named scalars already bound by earlier calls.
    emitted: std::collections::HashSet<Var>,
}

impl<'a> CodeGen<'a> {
    /// A generator for `network`'s derivation.
    pub fn new(
        network: &'a Network,
        derivation: &'a Derivation,
        float: Float,
        names: &Names,
    ) -> CodeGen<'a> {
        let mut definitions: HashMap<Var, NodeId> = derivation
            .forward
            .iter()
            .map(|d| (d.var, d.value))
            .collect();
        definitions.extend(derivation.deltas.iter().copied());
        CodeGen {
            network,
            derivation,
            float,
            names: names.clone(),
            definitions,
            bound: HashMap::new(),
            uses: HashMap::new(),
            statements: Vec::new(),
            size: 0,
            size_total: 0,
            limit: usize::MAX,
            temporaries: 0,
            stored: HashMap::new(),
            emitted: std::collections::HashSet::new(),
        }
    }

    /// The named scalars (forward values and deltas) that `roots` need, in an order where
    /// each comes after those it uses: forward values in evaluation order, then deltas from the
    /// loss backwards.
    fn needed_definitions(&self, roots: &[NodeId]) -> Vec<Var> {
        self.needed_with(roots, std::collections::HashSet::new())
    }

    /// [`CodeGen::needed_definitions`], starting from the named scalars `needed`.
    fn needed_with(
        &self,
        roots: &[NodeId],
        mut needed: std::collections::HashSet<Var>,
    ) -> Vec<Var> {
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match self.derivation.graph.node(n) {
                Node::Var(v) => {
                    if self.stored.contains_key(v) || self.emitted.contains(v) {
                        continue;
                    }
                    if let Some(&def) = self.definitions.get(v)
                        && needed.insert(*v)
                    {
                        stack.push(def);
                    }
                }
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        let forward = self.derivation.forward.iter().map(|d| d.var);
        let deltas = self.derivation.deltas.iter().map(|(v, _)| *v);
        forward
            .chain(deltas)
            .filter(|v| needed.contains(v))
            .collect()
    }

    /// Counts, for every node the definitions and `roots` need, how often it is used.
    fn count_uses(&mut self, definitions: &[Var], roots: &[NodeId]) {
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<NodeId> = definitions
            .iter()
            .map(|v| self.definitions[v])
            .chain(roots.iter().copied())
            .collect();
        for &n in &stack {
            *self.uses.entry(n).or_default() += 1;
        }
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            self.derivation.graph.node(n).for_each_child(|c| {
                *self.uses.entry(c).or_default() += 1;
                stack.push(c);
            });
        }
        self.size = seen.len();
    }

    /// Emits `let` statements computing every named scalar `roots` need, then returns the
    /// expressions of the roots themselves.
    pub fn compute(&mut self, roots: &[NodeId]) -> Vec<TokenStream> {
        let definitions = self.needed_definitions(roots);
        self.count_uses(&definitions, roots);
        if self.size > self.limit {
            return Vec::new();
        }
        self.bind_definitions(definitions);
        roots
            .iter()
            .map(|&r| {
                self.bind_shared(r);
                self.expr(r, 0)
            })
            .collect()
    }

    /// Emits `let` statements for the named scalars `vars` (which have definitions) and
    /// everything they need that is not bound yet; returns how to read each.
    pub fn define(&mut self, vars: &[Var]) -> Vec<TokenStream> {
        let fresh: std::collections::HashSet<Var> = vars
            .iter()
            .copied()
            .filter(|v| {
                self.definitions.contains_key(v)
                    && !self.stored.contains_key(v)
                    && !self.emitted.contains(v)
            })
            .collect();
        let roots: Vec<NodeId> = fresh.iter().map(|v| self.definitions[v]).collect();
        let definitions = self.needed_with(&roots, fresh);
        self.count_uses(&definitions, &[]);
        self.size_total += self.size;
        self.bind_definitions(definitions);
        vars.iter()
            .map(|&v| match self.layout_delta_without_definition(v) {
                // The loss does not depend on this element (a pooling window that drops
                // it): its delta is zero, and nothing binds it.
                true => self.literal(0.0),
                false => self.leaf(v),
            })
            .collect()
    }

    /// Whether `var` is a delta slot that the derivation gives no definition (zero).
    fn layout_delta_without_definition(&self, var: Var) -> bool {
        matches!(self.derivation.layout.slot(var), Slot::Delta(..))
            && !self.definitions.contains_key(&var)
            && !self.stored.contains_key(&var)
    }

    /// Reads `var` as `read` from now on (a loop computed it).
    pub fn store(&mut self, var: Var, read: TokenStream) {
        self.stored.insert(var, read);
    }

    /// Appends a statement (a loop) after those emitted so far.
    pub fn push(&mut self, statement: TokenStream) {
        self.statements.push(statement);
    }

    fn bind_definitions(&mut self, definitions: Vec<Var>) {
        for var in definitions {
            let node = self.definitions[&var];
            self.bind_shared(node);
            let name = self.var_ident(var);
            let value = self.expr(node, 0);
            self.statements.push(quote! { let #name = #value; });
            self.bound.entry(node).or_insert(name);
            self.emitted.insert(var);
        }
    }

    /// The statements emitted so far.
    pub fn take_statements(&mut self) -> Vec<TokenStream> {
        std::mem::take(&mut self.statements)
    }

    /// Binds every node under `root` that is used more than once, children first.
    fn bind_shared(&mut self, root: NodeId) {
        let mut order = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if self.bound.contains_key(&n) || !seen.insert(n) {
                continue;
            }
            order.push(n);
            self.derivation
                .graph
                .node(n)
                .for_each_child(|c| stack.push(c));
        }
        order.sort_unstable();
        for n in order {
            let shared = self.uses.get(&n).copied().unwrap_or(0) > 1;
            let trivial = matches!(self.derivation.graph.node(n), Node::Var(_) | Node::Const(_));
            if shared && !trivial && n != root {
                let value = self.expr(n, 0);
                let name = self.names.local(&format!("tmp{}", self.temporaries));
                self.temporaries += 1;
                self.statements.push(quote! { let #name = #value; });
                self.bound.insert(n, name);
            }
        }
    }

    /// The Rust name bound to a named scalar: `z1_0`, `z1_0_delta` for its delta, `loss`.
    pub fn var_ident(&self, var: Var) -> Ident {
        let layout = &self.derivation.layout;
        match layout.slot(var) {
            // A value binding ends in its element number and a delta in `_delta`, and
            // temporaries have no `_`, so no two bindings can share a name whatever the
            // network's names are; `Names::local` keeps them apart from the arguments.
            Slot::Value(Symbol::Loss, _) => self.names.local("loss"),
            Slot::Value(symbol, elem) => {
                self.names
                    .local(&format!("{}_{}", self.network.name_of(symbol), elem))
            }
            Slot::Delta(v, elem) => self
                .names
                .local(&format!("{}_{}_delta", self.network.vectors[v].name, elem)),
        }
    }

    /// A leaf: inputs and targets index their argument arrays, parameters read `p`.
    pub fn leaf(&self, var: Var) -> TokenStream {
        if let Some(read) = self.stored.get(&var) {
            return read.clone();
        }
        let layout = &self.derivation.layout;
        match layout.slot(var) {
            Slot::Value(symbol @ (Symbol::Input(_) | Symbol::Target(_)), elem) => {
                let array = self.names.data(symbol);
                if self.network.shape_of(symbol) == Shape::Scalar {
                    // A scalar input or target is passed by value.
                    return quote! { #array };
                }
                if let Symbol::Target(t) = symbol
                    && self.network.targets[t].kind == chainrule_grammar::TargetKind::Label
                {
                    // A label is its class index: element `elem` of its one-hot vector.
                    let f = match self.float {
                        super::Float::F64 => quote! { f64 },
                        super::Float::F32 => quote! { f32 },
                    };
                    let (k, n) = (
                        Literal::usize_unsuffixed(elem),
                        Literal::usize_unsuffixed(self.network.targets[t].size),
                    );
                    return quote! { ::chainrule::runtime::onehot::<#f>(#array, #k, #n) };
                }
                let at = super::context::element_index(self.network.shape_of(symbol), elem);
                quote! { #array #at }
            }
            Slot::Value(symbol @ Symbol::Param(q), elem) => {
                let field = format_ident!("{}", self.network.name_of(symbol));
                let p = self.names.local("p");
                let index = super::context::element_index(self.network.params[q].shape, elem);
                quote! { #p.#field #index }
            }
            _ => {
                let name = self.var_ident(var);
                quote! { #name }
            }
        }
    }

    /// A float literal of the generated type.
    pub fn literal(&self, v: f64) -> TokenStream {
        literal(self.float, v)
    }

    fn level(&self, n: NodeId) -> u8 {
        if self.bound.contains_key(&n) {
            return ATOM;
        }
        level(self.derivation.graph.node(n))
    }

    /// The expression of `n`, parenthesised if it binds less tightly than `needed`.
    fn expr(&self, n: NodeId, needed: u8) -> TokenStream {
        if let Some(name) = self.bound.get(&n) {
            return quote! { #name };
        }
        let tokens = self.bare(n);
        if self.level(n) < needed {
            quote! { (#tokens) }
        } else {
            tokens
        }
    }

    fn bare(&self, n: NodeId) -> TokenStream {
        emit_node(
            self.derivation.graph.node(n),
            &|c, needed| self.expr(c, needed),
            &|v| self.leaf(v),
            &|v| self.literal(v),
        )
    }
}

/// How tightly the Rust expression of a node binds.
pub fn level(node: &Node) -> u8 {
    match node {
        Node::Add(..) | Node::Sub(..) | Node::Sum(_) => SUM,
        Node::Mul(..) | Node::Div(..) => PRODUCT,
        Node::Neg(_) => UNARY,
        _ => ATOM,
    }
}

/// The Rust expression of one node, given its children's expressions (`child(id, needed)`
/// parenthesises below `needed`), its leaves and literals. The one place that maps IR
/// operations to Rust, for straight-line code and loop bodies alike.
pub fn emit_node(
    node: &Node,
    child: &dyn Fn(NodeId, u8) -> TokenStream,
    leaf: &dyn Fn(Var) -> TokenStream,
    literal: &dyn Fn(f64) -> TokenStream,
) -> TokenStream {
    match node {
        Node::Const(b) => literal(f64::from_bits(*b)),
        Node::Var(v) => leaf(*v),
        Node::Add(a, b) => {
            let (a, b) = (child(*a, SUM), child(*b, PRODUCT));
            quote! { #a + #b }
        }
        Node::Sub(a, b) => {
            let (a, b) = (child(*a, SUM), child(*b, PRODUCT));
            quote! { #a - #b }
        }
        Node::Sum(items) => {
            let first = child(items[0], SUM);
            let rest = items[1..].iter().map(|i| child(*i, PRODUCT));
            quote! { #first #(+ #rest)* }
        }
        Node::Mul(a, b) => {
            let (a, b) = (child(*a, PRODUCT), child(*b, UNARY));
            quote! { #a * #b }
        }
        Node::Div(a, b) => {
            let (a, b) = (child(*a, PRODUCT), child(*b, UNARY));
            quote! { #a / #b }
        }
        Node::Neg(a) => {
            let a = child(*a, UNARY);
            quote! { -#a }
        }
        Node::Pow(a, k) => {
            let a = child(*a, ATOM);
            let k = f64::from_bits(*k);
            if k.fract() == 0.0 && k.abs() <= 64.0 {
                let k = Literal::i32_unsuffixed(k as i32);
                quote! { #a.powi(#k) }
            } else if k == 0.5 {
                quote! { #a.sqrt() }
            } else {
                let k = literal(k);
                quote! { #a.powf(#k) }
            }
        }
        Node::Func(f, a) => {
            let a = child(*a, ATOM);
            let method = |name: &str| {
                let name = Ident::new(name, Span::call_site());
                quote! { #a.#name() }
            };
            let real = |name: &str| {
                let name = Ident::new(name, Span::call_site());
                quote! { ::chainrule::runtime::Real::#name(#a) }
            };
            match f {
                Builtin::Sigmoid => real("sigmoid"),
                Builtin::Softplus => real("softplus"),
                Builtin::Relu => real("relu"),
                Builtin::Step => real("step"),
                Builtin::Sign => real("sign"),
                Builtin::LogSigmoid => real("log_sigmoid"),
                Builtin::Erf => real("erf"),
                Builtin::Tanh => method("tanh"),
                Builtin::Sin => method("sin"),
                Builtin::Cos => method("cos"),
                Builtin::Exp => method("exp"),
                Builtin::Log => method("ln"),
                Builtin::Sqrt => method("sqrt"),
                Builtin::Abs => method("abs"),
                Builtin::Linear => a,
            }
        }
        Node::Pair(f, a, b) => {
            let (a, b) = (child(*a, 0), child(*b, 0));
            let name = Ident::new(f.name(), Span::call_site());
            quote! { ::chainrule::runtime::Real::#name(#a, #b) }
        }
        // A call (not a block with a `let`): an operand wherever it stands, even first in a
        // statement, and it binds no name that could meet the network's.
        Node::LogSumExp(items) => {
            let xs = items.iter().map(|i| child(*i, 0));
            quote! { ::chainrule::runtime::Real::log_sum_exp([#(#xs),*]) }
        }
    }
}

/// A float literal of type `float`. A value the type cannot hold (a derived constant; the
/// source's are refused earlier with their spans) is the type's infinity or NaN, the value its
/// arithmetic would give, rather than a panic of proc-macro2.
pub fn literal(float: Float, v: f64) -> TokenStream {
    let (ty, lit) = match float {
        Float::F64 => (
            quote! { f64 },
            v.is_finite().then(|| Literal::f64_suffixed(v.abs())),
        ),
        Float::F32 => {
            let single = v.abs() as f32;
            (
                quote! { f32 },
                single.is_finite().then(|| Literal::f32_suffixed(single)),
            )
        }
    };
    let magnitude = match lit {
        Some(lit) => quote! { #lit },
        None if v.is_nan() => return quote! { #ty::NAN },
        None => quote! { #ty::INFINITY },
    };
    if v < 0.0 {
        quote! { (-#magnitude) }
    } else {
        magnitude
    }
}
