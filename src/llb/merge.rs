//! `MergeOp` (`COPY --link`) and `DiffOp`. Neither carries a platform.

use std::collections::BTreeSet;

use super::caps;
use super::node::{finish, OpMeta, Output};
use crate::proto::pb;

/// Layer `inputs` on top of each other. Scratch inputs are dropped; no input left gives
/// scratch, one gives that input unchanged (Go's `llb.Merge`). Inputs are not deduplicated.
pub fn merge(inputs: &[Option<Output>], meta: OpMeta) -> Option<Output> {
    let real: Vec<Output> = inputs.iter().flatten().cloned().collect();
    match real.len() {
        0 => return None,
        1 => return real.into_iter().next(),
        _ => {}
    }
    let op = pb::Op {
        inputs: real.iter().map(Output::to_input).collect(),
        op: Some(pb::op::Op::Merge(pb::MergeOp {
            inputs: (0..real.len() as i64)
                .map(|input| pb::MergeInput { input })
                .collect(),
        })),
        platform: None,
        constraints: None,
    };
    Some(Output {
        node: finish(op, BTreeSet::from([caps::MERGE_OP]), meta, real),
        index: 0,
    })
}

/// The changes that turn `lower` into `upper`. `diff(None, None)` is scratch and
/// `diff(None, upper)` is `upper` (Go's `llb.Diff`).
pub fn diff(lower: Option<&Output>, upper: Option<&Output>, meta: OpMeta) -> Option<Output> {
    let Some(lower) = lower else {
        return upper.cloned();
    };
    let mut inputs = vec![lower.to_input()];
    let mut deps = vec![lower.clone()];
    let upper_index = match upper {
        Some(u) => {
            inputs.push(u.to_input());
            deps.push(u.clone());
            1
        }
        None => -1,
    };
    let op = pb::Op {
        inputs,
        op: Some(pb::op::Op::Diff(pb::DiffOp {
            lower: Some(pb::LowerDiffInput { input: 0 }),
            upper: Some(pb::UpperDiffInput { input: upper_index }),
        })),
        platform: None,
        constraints: None,
    };
    Some(Output {
        node: finish(op, BTreeSet::from([caps::DIFF_OP]), meta, deps),
        index: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::source::{local, LocalOpts};

    #[test]
    fn merge_rules() {
        let a = local("a", &LocalOpts::default(), OpMeta::default());
        let b = local("b", &LocalOpts::default(), OpMeta::default());
        assert!(merge(&[None, None], OpMeta::default()).is_none());
        assert_eq!(
            merge(&[None, Some(a.clone())], OpMeta::default()).unwrap(),
            a
        );
        let m = merge(
            &[Some(a.clone()), None, Some(b.clone()), Some(a.clone())],
            OpMeta::default(),
        )
        .unwrap();
        assert_eq!(m.op().inputs.len(), 3);
        assert_eq!(m.op().platform, None);
        assert!(m.metadata().caps.contains_key("mergeop"));
        let d = diff(Some(&a), Some(&b), OpMeta::default()).unwrap();
        assert!(d.metadata().caps.contains_key("diffop"));
        assert_eq!(diff(None, Some(&b), OpMeta::default()).unwrap(), b);
    }
}
