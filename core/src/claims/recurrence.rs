//! The classic slip of backpropagation through time, named: a delta claimed for a recurrent
//! value without the term its next step carries back (`dprev_h` in CS231n's `rnn_backward`).

use super::Instance;
use crate::model::{Claim, IndexTerm, Network, Symbol};

/// A line saying the carried term is missing, when a claim about `dL/dh[t]..` of a recurrent
/// `h` holds exactly at the last step (where no later step carries anything back) and fails
/// at every other; `None` otherwise.
pub(super) fn missing_carried_term(
    claim: &Claim,
    network: &Network,
    instances: &[Instance],
    holds: &[bool],
) -> Option<String> {
    let Symbol::Vector(v) = claim.wrt.symbol else {
        return None;
    };
    let vector = &network.vectors[v];
    if claim.of.symbol != Symbol::Loss || !vector.expr.reads(Symbol::Vector(v)) {
        return None;
    }
    let Some(IndexTerm::Var(t)) = claim.wrt.indices.first() else {
        return None;
    };
    let last = vector.shape.dims().first()?.checked_sub(1)?;
    let at_last = |i: &Instance| i.values.get(*t) == Some(&last);
    let pattern = instances
        .iter()
        .zip(holds)
        .all(|(instance, &held)| held == at_last(instance));
    (pattern && holds.iter().any(|&h| !h)).then(|| {
        let name = &vector.name;
        let letter = &claim.vars[*t].name;
        format!(
            "it holds only at the last step ({letter} = {last}), where no later step carries a delta back: the term through `{name}[{letter} + 1]` (the carried delta, `dprev_h` in CS231n's rnn_backward) is missing"
        )
    })
}
