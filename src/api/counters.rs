//! Counters: named 64-bit tallies that tasks bump and the runner adds up.
//!
//! User counters are named by strings ([`Counters`]); the framework's own
//! are fields of a struct that tasks add to as numbers and that is named
//! (with Hadoop's names, [`names`]) only when a step is reported.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::AddAssign;

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
    /// Bytes of encoded keys and values the reduce tasks read (Hadoop's
    /// shuffle bytes).
    pub const REDUCE_SHUFFLE_BYTES: &str = "REDUCE_SHUFFLE_BYTES";
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

/// The framework's own counters of a task or step, as numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FrameworkCounters {
    pub(crate) map_input_records: u64,
    pub(crate) map_output_records: u64,
    pub(crate) map_output_bytes: u64,
    pub(crate) combine_input_records: u64,
    pub(crate) combine_output_records: u64,
    pub(crate) reduce_input_groups: u64,
    pub(crate) reduce_input_records: u64,
    pub(crate) reduce_output_records: u64,
    /// Bytes of the encoded keys and values a reduce task read.
    pub(crate) reduce_shuffle_bytes: u64,
    pub(crate) spilled_records: u64,
    pub(crate) spills: u64,
    pub(crate) merge_passes: u64,
    pub(crate) skipped_records: u64,
    pub(crate) bytes_read: u64,
    pub(crate) bytes_written: u64,
}

impl AddAssign for FrameworkCounters {
    fn add_assign(&mut self, o: FrameworkCounters) {
        self.map_input_records += o.map_input_records;
        self.map_output_records += o.map_output_records;
        self.map_output_bytes += o.map_output_bytes;
        self.combine_input_records += o.combine_input_records;
        self.combine_output_records += o.combine_output_records;
        self.reduce_input_groups += o.reduce_input_groups;
        self.reduce_input_records += o.reduce_input_records;
        self.reduce_output_records += o.reduce_output_records;
        self.reduce_shuffle_bytes += o.reduce_shuffle_bytes;
        self.spilled_records += o.spilled_records;
        self.spills += o.spills;
        self.merge_passes += o.merge_passes;
        self.skipped_records += o.skipped_records;
        self.bytes_read += o.bytes_read;
        self.bytes_written += o.bytes_written;
    }
}

impl FrameworkCounters {
    /// Adds these counters to `counters` under Hadoop's names: the record
    /// counts of the phases the step has (a map-only step has no reduce
    /// counters), and every other counter that is not zero.
    pub(crate) fn report_into(&self, counters: &mut Counters, has_reduce: bool) {
        let all = [
            (names::MAP_INPUT_RECORDS, self.map_input_records, true),
            (names::MAP_OUTPUT_RECORDS, self.map_output_records, true),
            (names::MAP_OUTPUT_BYTES, self.map_output_bytes, has_reduce),
            (names::COMBINE_INPUT_RECORDS, self.combine_input_records, false),
            (names::COMBINE_OUTPUT_RECORDS, self.combine_output_records, false),
            (names::REDUCE_INPUT_GROUPS, self.reduce_input_groups, has_reduce),
            (names::REDUCE_INPUT_RECORDS, self.reduce_input_records, has_reduce),
            (names::REDUCE_OUTPUT_RECORDS, self.reduce_output_records, has_reduce),
            (names::REDUCE_SHUFFLE_BYTES, self.reduce_shuffle_bytes, false),
            (names::SPILLED_RECORDS, self.spilled_records, false),
            (names::SPILLS, self.spills, false),
            (names::MERGE_PASSES, self.merge_passes, false),
            (names::SKIPPED_RECORDS, self.skipped_records, false),
            (names::BYTES_READ, self.bytes_read, false),
            (names::BYTES_WRITTEN, self.bytes_written, false),
        ];
        for (name, value, always) in all {
            if always || value > 0 {
                counters.add(FRAMEWORK, name, i64::try_from(value).unwrap_or(i64::MAX));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_counters_add_up_and_report_under_hadoop_names() {
        let mut a = FrameworkCounters {
            map_input_records: 2,
            spills: 1,
            ..FrameworkCounters::default()
        };
        a += FrameworkCounters {
            map_input_records: 3,
            bytes_read: 10,
            ..FrameworkCounters::default()
        };
        let mut c = Counters::default();
        a.report_into(&mut c, false);
        assert_eq!(c.framework(names::MAP_INPUT_RECORDS), 5);
        assert_eq!(c.framework(names::SPILLS), 1);
        assert_eq!(c.framework(names::BYTES_READ), 10);
        let reported: Vec<&str> = c.iter().map(|(_, n, _)| n).collect();
        // Zero counters that do not apply are left out; the map record
        // counts are always there.
        assert_eq!(
            reported,
            ["BYTES_READ", "MAP_INPUT_RECORDS", "MAP_OUTPUT_RECORDS", "SPILLS"]
        );
        let mut c = Counters::default();
        FrameworkCounters::default().report_into(&mut c, true);
        assert_eq!(c.iter().count(), 6);
    }
}
