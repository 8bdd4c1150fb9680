//! Counters: named 64-bit tallies that tasks bump and the runner adds up.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// The group of the framework's own counters, under Hadoop's names.
pub const FRAMEWORK: &str = "Map-Reduce Framework";

/// The framework counters' names (Hadoop's `TaskCounter`).
pub mod names {
    /// Records read by map tasks.
    pub const MAP_INPUT_RECORDS: &str = "MAP_INPUT_RECORDS";
    /// Pairs emitted by mappers.
    pub const MAP_OUTPUT_RECORDS: &str = "MAP_OUTPUT_RECORDS";
    /// Encoded bytes of the pairs emitted by mappers.
    pub const MAP_OUTPUT_BYTES: &str = "MAP_OUTPUT_BYTES";
    /// Pairs fed to combiners.
    pub const COMBINE_INPUT_RECORDS: &str = "COMBINE_INPUT_RECORDS";
    /// Pairs emitted by combiners.
    pub const COMBINE_OUTPUT_RECORDS: &str = "COMBINE_OUTPUT_RECORDS";
    /// Distinct keys fed to reducers.
    pub const REDUCE_INPUT_GROUPS: &str = "REDUCE_INPUT_GROUPS";
    /// Values fed to reducers.
    pub const REDUCE_INPUT_RECORDS: &str = "REDUCE_INPUT_RECORDS";
    /// Pairs emitted by reducers.
    pub const REDUCE_OUTPUT_RECORDS: &str = "REDUCE_OUTPUT_RECORDS";
    /// Records written to disk by spills and merges (map and reduce side).
    pub const SPILLED_RECORDS: &str = "SPILLED_RECORDS";
    /// Spill files written by map tasks (not a Hadoop counter).
    pub const SPILLS: &str = "SPILLS";
    /// Merge passes over spills and map outputs (not a Hadoop counter).
    pub const MERGE_PASSES: &str = "MERGE_PASSES";
    /// Malformed input records skipped under `--skip-bad-records`.
    pub const SKIPPED_RECORDS: &str = "SKIPPED_RECORDS";
    /// Bytes read from the step's input files.
    pub const BYTES_READ: &str = "BYTES_READ";
    /// Bytes written to the job's output.
    pub const BYTES_WRITTEN: &str = "BYTES_WRITTEN";
}

/// A set of counters, by group then name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Counters {
    groups: BTreeMap<String, BTreeMap<String, i64>>,
}

impl Counters {
    /// Adds `amount` (which may be negative) to a counter, creating it at 0.
    pub fn add(&mut self, group: &str, name: &str, amount: i64) {
        // Look up by &str first: counters are bumped per record, and the
        // common case must not allocate.
        if let Some(g) = self.groups.get_mut(group) {
            if let Some(v) = g.get_mut(name) {
                *v += amount;
                return;
            }
            g.insert(name.to_owned(), amount);
            return;
        }
        self.groups
            .entry(group.to_owned())
            .or_default()
            .insert(name.to_owned(), amount);
    }

    /// A counter's value, 0 if it was never bumped.
    pub fn get(&self, group: &str, name: &str) -> i64 {
        self.groups.get(group).and_then(|g| g.get(name)).copied().unwrap_or(0)
    }

    /// A framework counter's value (see [`names`]).
    pub fn framework(&self, name: &str) -> i64 {
        self.get(FRAMEWORK, name)
    }

    /// Adds every counter of `other` into `self`.
    pub fn merge(&mut self, other: &Counters) {
        for (group, names) in &other.groups {
            for (name, v) in names {
                self.add(group, name, *v);
            }
        }
    }

    /// Every counter as `(group, name, value)`, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, i64)> {
        self.groups
            .iter()
            .flat_map(|(g, names)| names.iter().map(move |(n, v)| (g.as_str(), n.as_str(), *v)))
    }

    /// Whether no counter was ever bumped.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

impl fmt::Display for Counters {
    /// Hadoop's layout: `Counters: N`, then each group and its counters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n: usize = self.groups.values().map(BTreeMap::len).sum();
        writeln!(f, "Counters: {n}")?;
        for (group, names) in &self.groups {
            writeln!(f, "\t{group}")?;
            for (name, v) in names {
                writeln!(f, "\t\t{name}={v}")?;
            }
        }
        Ok(())
    }
}
