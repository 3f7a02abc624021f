//! Dense numbering of every named scalar of a network: the [`Var`] slots of the IR.

use crate::ir::Var;
use crate::model::{Network, Shape, Symbol};

/// What one [`Var`] slot stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// Element `elem` (row-major) of an input, target, parameter or vector, or the loss.
    Value(Symbol, usize),
    /// The delta dL/dv of element `elem` of a named vector.
    Delta(usize, usize),
}

/// Where each symbol's elements start among the slots.
#[derive(Clone, Debug)]
pub struct Layout {
    starts: Vec<(Symbol, usize, Shape)>,
    slots: Vec<Slot>,
    vector_start: usize,
    vector_len: usize,
    delta_start: usize,
}

impl Layout {
    /// Numbers inputs, targets, parameters, vectors, the loss, then one delta per vector element.
    pub fn new(network: &Network) -> Layout {
        let mut symbols: Vec<Symbol> = Vec::new();
        symbols.extend((0..network.inputs.len()).map(Symbol::Input));
        symbols.extend((0..network.targets.len()).map(Symbol::Target));
        symbols.extend((0..network.params.len()).map(Symbol::Param));
        symbols.extend((0..network.vectors.len()).map(Symbol::Vector));
        symbols.push(Symbol::Loss);
        let mut starts = Vec::new();
        let mut slots = Vec::new();
        let mut vector_start = usize::MAX;
        for symbol in symbols {
            let shape = network.shape_of(symbol);
            if matches!(symbol, Symbol::Vector(_)) {
                vector_start = vector_start.min(slots.len());
            }
            starts.push((symbol, slots.len(), shape));
            slots.extend((0..shape.len()).map(|e| Slot::Value(symbol, e)));
        }
        let vector_len: usize = network.vectors.iter().map(|v| v.size).sum();
        if vector_start == usize::MAX {
            vector_start = slots.len();
        }
        let delta_start = slots.len();
        for (v, vector) in network.vectors.iter().enumerate() {
            slots.extend((0..vector.size).map(|e| Slot::Delta(v, e)));
        }
        Layout {
            starts,
            slots,
            vector_start,
            vector_len,
            delta_start,
        }
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there is no slot.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The first slot of a symbol and its shape.
    fn start(&self, symbol: Symbol) -> (usize, Shape) {
        self.starts
            .iter()
            .find(|(s, _, _)| *s == symbol)
            .map(|(_, start, shape)| (*start, *shape))
            .unwrap_or((0, Shape::Scalar)) // ok: every symbol of the network is in `starts`
    }

    /// The slot of element `elem` (row-major) of a symbol.
    pub fn var(&self, symbol: Symbol, elem: usize) -> Var {
        Var((self.start(symbol).0 + elem) as u32)
    }

    /// The slots of all elements of a symbol, row-major.
    pub fn vars(&self, symbol: Symbol) -> impl Iterator<Item = Var> + use<> {
        let (start, shape) = self.start(symbol);
        (start..start + shape.len()).map(|i| Var(i as u32))
    }

    /// The loss slot.
    pub fn loss(&self) -> Var {
        self.var(Symbol::Loss, 0)
    }

    /// The delta slot of a vector element's slot, if `var` is one.
    pub fn delta_of(&self, var: Var) -> Option<Var> {
        let i = var.index();
        (i >= self.vector_start && i < self.vector_start + self.vector_len)
            .then(|| Var((self.delta_start + i - self.vector_start) as u32))
    }

    /// What a slot stands for.
    pub fn slot(&self, var: Var) -> Slot {
        self.slots[var.index()]
    }

    /// Whether a slot is a parameter element.
    pub fn is_param(&self, var: Var) -> bool {
        matches!(self.slot(var), Slot::Value(Symbol::Param(_), _))
    }

    /// The `[i]`, `[i][j]` (or more) indices of a flat element of a symbol.
    pub fn indices(&self, symbol: Symbol, elem: usize) -> Vec<usize> {
        self.start(symbol).1.unflatten(elem)
    }

    /// `W1[0][1]`, `x[0]`, `L`, or `delta(z1[2])`: a slot as a `.nn` reference.
    pub fn describe(&self, network: &Network, var: Var) -> String {
        let reference = |symbol: Symbol, elem: usize| {
            // A label's element is the Iverson bracket of its class: `[y = 2]`.
            if let Symbol::Target(t) = symbol
                && network.targets[t].kind == chainrule_grammar::TargetKind::Label
            {
                return format!("[{} = {elem}]", network.targets[t].name);
            }
            let indices: String = self
                .indices(symbol, elem)
                .iter()
                .map(|i| format!("[{i}]"))
                .collect();
            format!("{}{indices}", network.name_of(symbol))
        };
        match self.slot(var) {
            Slot::Value(symbol, elem) => reference(symbol, elem),
            Slot::Delta(v, elem) => format!("delta({})", reference(Symbol::Vector(v), elem)),
        }
    }
}
