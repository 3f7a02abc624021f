//! The inner derivative of `grad(S, v)`: one reverse sweep from S through the definitions of
//! the named scalars computed so far, down to the elements of v. The result is ordinary
//! forward nodes in terms of named scalars, so the loss's own reverse sweep later
//! differentiates through them like through any other expression (second derivatives).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::derive::{Definition, local_partials};
use crate::ir::{Graph, NodeId, Var};
use crate::layout::Layout;
use crate::lower::Lowering;
use crate::model::{Function, Network, TExpr};

/// The named scalars defined so far, in evaluation order. Definitions wait in `pending`
/// until a `grad` needs their local partials, so a network without `grad` builds its graph
/// in exactly the order it always did.
#[derive(Clone, Debug, Default)]
pub struct Forward {
    /// Definitions with their local partials, in evaluation order.
    pub defs: Vec<Definition>,
    /// `(slot, value)` lowered but not yet given partials; they follow `defs`.
    pub pending: Vec<(Var, NodeId)>,
    /// A definition's node stands for its named value inside derivative rules (sigmoid'
    /// reads a(1 - a)); the first definition of a node names it.
    pub named: HashMap<NodeId, Var>,
    /// Every distinct `grad(S, v)` built, in order, for printers that show the inner level.
    pub sites: Vec<Site>,
}

/// One `grad(S, v)` as built: its scalar, the elements of v, and dS/dv_j for each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The node of S.
    pub of: NodeId,
    /// The elements of v.
    pub wrt: Vec<Var>,
    /// dS/dv_j, one node per element of v.
    pub result: Vec<NodeId>,
}

impl Forward {
    /// Definitions already complete (a derivation's `forward`), ready for more sweeps.
    pub fn from_definitions(defs: Vec<Definition>) -> Forward {
        let mut named = HashMap::new();
        for def in &defs {
            named.entry(def.value).or_insert(def.var);
        }
        Forward {
            defs,
            pending: Vec::new(),
            named,
            sites: Vec::new(),
        }
    }

    /// One expression of `network` lowered, with the definitions before it known.
    pub fn lower(
        &mut self,
        network: &Network,
        functions: &[Function],
        layout: &Layout,
        graph: &mut Graph,
        expr: &TExpr,
    ) -> Vec<NodeId> {
        Lowering {
            network,
            functions,
            layout,
            graph,
            vars: &[],
            known: Some(self),
        }
        .expr(expr, &mut Vec::new())
    }

    /// Gives every pending definition its local partials.
    pub fn flush(&mut self, graph: &mut Graph) {
        // A softmax element's Jacobian names its later siblings too (`-p_0 p_1`).
        let mut every_named = self.named.clone();
        for &(var, value) in &self.pending {
            every_named.entry(value).or_insert(var);
        }
        for (var, value) in std::mem::take(&mut self.pending) {
            self.named.entry(value).or_insert(var);
            let partials = crate::softmax::softmax_partials(graph, value, &every_named)
                .unwrap_or_else(|| local_partials(graph, value, &self.named));
            self.defs.push(Definition {
                var,
                value,
                partials,
            });
        }
    }

    /// dS/dw for every `w` in `wrt`, through every path of local partials from `s` back to
    /// `wrt`. An element of `wrt` that is itself defined (a named vector) is a leaf here:
    /// what lies before it is held fixed, as in a partial derivative. A `wrt` that `s` does
    /// not depend on gets the constant 0.
    pub fn gradient(&mut self, graph: &mut Graph, s: NodeId, wrt: &[Var]) -> Vec<NodeId> {
        self.flush(graph);
        let leaves: HashSet<Var> = wrt.iter().copied().collect();
        // Which definitions lead to `wrt`: only their partials are worth multiplying, which
        // keeps the sweep's new nodes to the paths between v and S.
        let leads = self.leads_to(&leaves);
        let mut adjoint: BTreeMap<Var, Vec<NodeId>> = BTreeMap::new();
        for (u, partial) in local_partials(graph, s, &self.named) {
            if self.relevant(u, &leaves, &leads) {
                adjoint.entry(u).or_default().push(partial);
            }
        }
        for k in (0..self.defs.len()).rev() {
            let var = self.defs[k].var;
            if leaves.contains(&var) {
                continue;
            }
            let Some(contributions) = adjoint.remove(&var) else {
                continue;
            };
            let a = graph.sum(&contributions);
            for i in 0..self.defs[k].partials.len() {
                let (u, partial) = self.defs[k].partials[i];
                if self.relevant(u, &leaves, &leads) {
                    let term = graph.mul(a, partial);
                    adjoint.entry(u).or_default().push(term);
                }
            }
        }
        let result: Vec<NodeId> = wrt
            .iter()
            .map(|w| {
                let contributions = adjoint.remove(w).unwrap_or_default();
                graph.sum(&contributions)
            })
            .collect();
        let site = Site {
            of: s,
            wrt: wrt.to_vec(),
            result: result.clone(),
        };
        if !self.sites.contains(&site) {
            self.sites.push(site);
        }
        result
    }

    /// Whether definition `k` lies on a path of partials to `leaves` (see `gradient`).
    pub fn leads_to(&self, leaves: &HashSet<Var>) -> Vec<bool> {
        let mut leads = vec![false; self.defs.len()];
        for k in 0..self.defs.len() {
            let def = &self.defs[k];
            let lead = !leaves.contains(&def.var)
                && def
                    .partials
                    .iter()
                    .any(|(u, _)| self.relevant(*u, leaves, &leads));
            leads[k] = lead;
        }
        leads
    }

    /// Whether a path of partials leads from `u` to `leaves`.
    pub fn relevant(&self, u: Var, leaves: &HashSet<Var>, leads: &[bool]) -> bool {
        leaves.contains(&u) || self.position(u).is_some_and(|k| leads[k])
    }

    /// The definition of slot `u`, if it has one. Definitions are in evaluation order, and
    /// slots of vectors are numbered in that order, so the list is sorted by slot.
    pub fn position(&self, u: Var) -> Option<usize> {
        self.defs.binary_search_by_key(&u, |d| d.var).ok()
    }
}
