//! Fleet consensus: what most same-model siblings agree on, and who disagrees.
//!
//! Every layer uses this to say "differs from N of M siblings" when no vendor publishes a golden
//! value. A majority is only named when it is a strict majority of at least
//! [`Consensus::MIN_HOSTS`] hosts: with two hosts that disagree, or a three-way split, nobody can
//! tell which one is odd, and flagging either would be a guess.

use std::collections::BTreeMap;
use tamperscan_model::HostId;

/// The values one measurement takes across a group of hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consensus<V> {
    /// Each distinct value with the hosts that hold it, most common first (ties by value).
    groups: Vec<(V, Vec<HostId>)>,
    total: usize,
}

/// A host whose value differs from the majority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlier<'c, V> {
    /// The host.
    pub host: &'c HostId,
    /// Its value.
    pub value: &'c V,
    /// How many hosts (itself included) hold this same value.
    pub shared_by: usize,
    /// How many of its siblings hold a different value.
    pub differs_from: usize,
    /// How many siblings it has (hosts in the group minus itself).
    pub siblings: usize,
}

impl<V: Ord + Clone> Consensus<V> {
    /// The smallest group in which a majority is named.
    pub const MIN_HOSTS: usize = 3;

    /// Groups `observations` (one value per host; a host listed twice counts twice) by value.
    pub fn of<'h>(observations: impl IntoIterator<Item = (&'h HostId, V)>) -> Self {
        let mut by_value: BTreeMap<V, Vec<HostId>> = BTreeMap::new();
        let mut total = 0;
        for (host, value) in observations {
            by_value.entry(value).or_default().push(host.clone());
            total += 1;
        }
        let mut groups: Vec<(V, Vec<HostId>)> = by_value.into_iter().collect();
        for (_, hosts) in &mut groups {
            hosts.sort();
        }
        // Stable sort keeps the value order among equal counts: deterministic output.
        groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
        Consensus { groups, total }
    }

    /// How many observations there are.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The distinct values with their hosts, most common first.
    pub fn groups(&self) -> &[(V, Vec<HostId>)] {
        &self.groups
    }

    /// The value held by a strict majority of at least [`Self::MIN_HOSTS`] hosts, with its count.
    pub fn majority(&self) -> Option<(&V, usize)> {
        let (value, hosts) = self.groups.first()?;
        let count = hosts.len();
        (self.total >= Self::MIN_HOSTS && count * 2 > self.total).then_some((value, count))
    }

    /// The hosts that do not hold the majority value (none when there is no majority), sorted
    /// by host.
    pub fn outliers(&self) -> Vec<Outlier<'_, V>> {
        if self.majority().is_none() {
            return Vec::new();
        }
        let mut out: Vec<Outlier<'_, V>> = self
            .groups
            .iter()
            .skip(1)
            .flat_map(|(value, hosts)| {
                hosts.iter().map(move |host| Outlier {
                    host,
                    value,
                    shared_by: hosts.len(),
                    differs_from: self.total - hosts.len(),
                    siblings: self.total - 1,
                })
            })
            .collect();
        out.sort_by(|a, b| a.host.cmp(b.host));
        out
    }
}

impl<V> Outlier<'_, V> {
    /// "differs from 97 of 98 siblings".
    pub fn describe(&self) -> String {
        format!(
            "differs from {} of {} siblings",
            self.differs_from, self.siblings
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<HostId> {
        (0..n).map(|i| HostId(format!("h{i:02}"))).collect()
    }

    #[test]
    fn one_odd_host_among_many() {
        let hosts = ids(98);
        let c = Consensus::of(
            hosts
                .iter()
                .enumerate()
                .map(|(i, h)| (h, if i == 41 { "bad" } else { "good" })),
        );
        assert_eq!(c.majority(), Some((&"good", 97)));
        let out = c.outliers();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].host.0, "h41");
        assert_eq!(out[0].describe(), "differs from 97 of 97 siblings");
    }

    #[test]
    fn outliers_sharing_a_value_are_counted() {
        let hosts = ids(10);
        let c = Consensus::of(hosts.iter().enumerate().map(|(i, h)| (h, u8::from(i >= 7))));
        let out = c.outliers();
        assert_eq!(out.len(), 3);
        assert!(out
            .iter()
            .all(|o| o.shared_by == 3 && o.differs_from == 7 && o.siblings == 9));
    }

    #[test]
    fn no_majority_no_outliers() {
        let hosts = ids(4);
        let split = Consensus::of(hosts.iter().enumerate().map(|(i, h)| (h, i % 2)));
        assert_eq!(split.majority(), None);
        assert!(split.outliers().is_empty());
        let two = Consensus::of(hosts.iter().take(2).enumerate().map(|(i, h)| (h, i)));
        assert_eq!(two.majority(), None);
        let empty: Consensus<u8> = Consensus::of(std::iter::empty());
        assert_eq!(empty.majority(), None);
        assert_eq!(empty.total(), 0);
    }

    #[test]
    fn unanimous_groups_have_no_outliers() {
        let hosts = ids(3);
        let c = Consensus::of(hosts.iter().map(|h| (h, 7)));
        assert_eq!(c.majority(), Some((&7, 3)));
        assert!(c.outliers().is_empty());
    }

    #[test]
    fn order_of_observations_does_not_change_the_result() {
        let hosts = ids(7);
        let forward = Consensus::of(hosts.iter().enumerate().map(|(i, h)| (h, i % 3 == 0)));
        let backward = Consensus::of(hosts.iter().enumerate().rev().map(|(i, h)| (h, i % 3 == 0)));
        assert_eq!(forward, backward);
    }

    /// Invariants over many pseudo-random fleets (a fixed-seed generator keeps it reproducible):
    /// the majority is strict, outliers are exactly the hosts without the majority value, their
    /// counts add up, and the result does not depend on the order of observations.
    #[test]
    fn invariants_hold_on_random_fleets() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        for _ in 0..2000 {
            let n = next(12) as usize;
            let kinds = next(4) + 1;
            let hosts = ids(n);
            let values: Vec<u64> = (0..n).map(|_| next(kinds)).collect();
            let c = Consensus::of(hosts.iter().zip(values.iter().copied()));
            assert_eq!(c.total(), n);
            let outliers = c.outliers();
            match c.majority() {
                Some((&v, count)) => {
                    assert!(n >= Consensus::<u64>::MIN_HOSTS && count * 2 > n);
                    assert_eq!(count, values.iter().filter(|&&x| x == v).count());
                    assert_eq!(outliers.len(), n - count);
                    for o in &outliers {
                        assert_ne!(*o.value, v);
                        assert_eq!(
                            o.shared_by,
                            values.iter().filter(|&&x| x == *o.value).count()
                        );
                        assert_eq!(o.differs_from + o.shared_by, n);
                        assert_eq!(o.siblings, n - 1);
                    }
                }
                None => assert!(outliers.is_empty()),
            }
            let reversed = Consensus::of(hosts.iter().zip(values.iter().copied()).rev());
            assert_eq!(c, reversed);
        }
    }
}
