//! The chain form of one weight: the paths of local partials from the loss down to it (counted
//! first; past a budget, deltas stand in for the paths below), each factor's expression, and
//! the closed form.

use std::collections::HashMap;

use super::{Latex, MAX_PATHS, names};
use crate::ir::{NodeId, Var};

impl Latex<'_> {
    /// For a weight: the paths of partials, their expressions, and the closed form.
    pub(super) fn chain(&mut self, weight: Var) {
        let lhs = names::partial(&self.loss_name(), &self.name(weight));
        let gradient = self.gradient_node(weight);
        let mut memo = HashMap::new();
        let closed = self.derivation.to_mut().closed_form(gradient, &mut memo);
        let Some(paths) = self.paths(weight) else {
            let count = self.path_count(weight);
            let recursion = self.recursion_terms(weight);
            let expression = self.terms(gradient);
            let mut rhs = vec![recursion, expression];
            let size = self.derivation.tree_size(closed);
            if size <= crate::derive::MAX_CLOSED_FORM {
                rhs.push(self.terms(closed));
            }
            self.equation(&lhs, rhs);
            let count = if count == u64::MAX {
                "more than 10^19".to_string()
            } else {
                count.to_string()
            };
            self.lines.push(format!(
                "&\\text{{({count} paths of partials: shown with deltas)}}"
            ));
            if size > crate::derive::MAX_CLOSED_FORM {
                let size = if size == u64::MAX {
                    "more than 10^19".to_string()
                } else {
                    size.to_string()
                };
                self.lines.push(format!("&\\text{{(the closed form is {size} symbols long written out: see the delta form)}}"));
            }
            return;
        };
        let symbols: Vec<(bool, String)> = paths
            .iter()
            .map(|path| {
                let factors: Vec<String> = path
                    .iter()
                    .map(|&(c, u)| {
                        names::partial(&self.name(self.derivation.forward[c].var), &self.name(u))
                    })
                    .collect();
                (false, factors.join(" \\, "))
            })
            .collect();
        let expressions: Vec<(bool, String)> = paths
            .iter()
            .map(|path| {
                let factors: Vec<String> = path
                    .iter()
                    .map(|&(c, u)| self.partial_node(c, u))
                    .map(|n| self.factor(n))
                    .collect();
                // Joined as the printer joins products, so a line equal to the closed form is
                // recognised and not printed twice.
                (false, factors.join(" "))
            })
            .collect();
        let mut rhs = vec![symbols, expressions];
        // Written out as a tree, a closed form can be exponentially longer than the graph it
        // comes from (every path repeats the factors it shares); past the limit it is skipped.
        let size = self.derivation.tree_size(closed);
        let omitted = size > crate::derive::MAX_CLOSED_FORM;
        if !omitted {
            let closed_terms = self.terms(closed);
            if rhs.last() != Some(&closed_terms) {
                rhs.push(closed_terms);
            }
        }
        if paths.is_empty() {
            rhs = vec![vec![(false, "0".to_string())]];
        }
        self.equation(&lhs, rhs);
        if omitted {
            let size = if size == u64::MAX {
                "more than 10^19".to_string()
            } else {
                size.to_string()
            };
            self.lines.push(format!("&\\text{{(the closed form is {size} symbols long written out: see the delta form)}}"));
        }
    }

    fn partial_node(&self, c: usize, u: Var) -> NodeId {
        self.derivation.forward[c]
            .partials
            .iter()
            .find(|(v, _)| *v == u)
            .map(|(_, n)| *n)
            .expect("an edge taken from the consumer's own partials") // ok: callers pass edges taken from `partials`
    }

    pub(super) fn gradient_node(&self, weight: Var) -> NodeId {
        self.derivation
            .gradient_of(weight)
            .expect("a parameter slot has a gradient") // ok: weights are validated parameter slots, which all have a gradient
    }

    /// Consumers of `var` whose own derivative reaches the loss.
    pub(super) fn live_consumers(&self, var: Var) -> Vec<usize> {
        self.derivation.consumers[var.index()]
            .iter()
            .copied()
            .filter(|&c| self.derivation.live[c])
            .collect()
    }

    fn path_count(&self, weight: Var) -> u64 {
        let loss_index = self.derivation.forward.len() - 1;
        let mut memo: HashMap<Var, u64> = HashMap::new();
        fn count(
            latex: &Latex<'_>,
            var: Var,
            loss_index: usize,
            memo: &mut HashMap<Var, u64>,
        ) -> u64 {
            if let Some(&n) = memo.get(&var) {
                return n;
            }
            let total = latex.live_consumers(var).into_iter().fold(0u64, |acc, c| {
                let n = if c == loss_index {
                    1
                } else {
                    count(latex, latex.derivation.forward[c].var, loss_index, memo)
                };
                acc.saturating_add(n)
            });
            memo.insert(var, total);
            total
        }
        count(self, weight, loss_index, &mut memo)
    }

    /// Every path of partials from the loss down to `weight`, as `(definition, wrt)` edges,
    /// or `None` when there are more than [`MAX_PATHS`].
    fn paths(&self, weight: Var) -> Option<Vec<Vec<(usize, Var)>>> {
        if self.path_count(weight) > MAX_PATHS {
            return None;
        }
        let loss_index = self.derivation.forward.len() - 1;
        let mut out = Vec::new();
        let mut stack: Vec<(Var, Vec<(usize, Var)>)> = vec![(weight, Vec::new())];
        while let Some((var, below)) = stack.pop() {
            for c in self.live_consumers(var).into_iter().rev() {
                let mut path = below.clone();
                path.push((c, var));
                if c == loss_index {
                    path.reverse();
                    out.push(path);
                } else {
                    stack.push((self.derivation.forward[c].var, path));
                }
            }
        }
        out.sort();
        Some(out)
    }
}
