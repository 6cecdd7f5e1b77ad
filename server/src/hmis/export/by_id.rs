//! A map keyed by a row id of the database, held in a vector indexed by the id. The export
//! looks up each of a million services' enrollments, and its ids are the database's own,
//! counted up from 1: a vector holds them in a few megabytes, and the services of a night,
//! which come in the order they were stored, touch it in order rather than at random as a
//! hash table does. An id too large for the vector (which only a hand-edited database holds)
//! is kept in a hash table beside it.

use super::IdMap;

/// Ids up to this one are held in the vector: its size is bounded by the largest id seen.
const DENSE: usize = 1 << 24;

pub(super) struct ById<V> {
    dense: Vec<V>,
    sparse: IdMap<V>,
}

impl<V> Default for ById<V> {
    fn default() -> Self {
        Self { dense: Vec::new(), sparse: IdMap::default() }
    }
}

impl<V: Default> ById<V> {
    /// The value of `id`, made the default one when it had none.
    pub(super) fn slot(&mut self, id: i64) -> &mut V {
        match usize::try_from(id) {
            Ok(i) if i < DENSE => {
                if i >= self.dense.len() {
                    self.dense.resize_with(i + 1, V::default);
                }
                &mut self.dense[i]
            }
            _ => self.sparse.entry(id).or_default(),
        }
    }

    /// The value of `id`, if it was given one.
    pub(super) fn get(&self, id: i64) -> Option<&V> {
        match usize::try_from(id) {
            Ok(i) if i < DENSE => self.dense.get(i),
            _ => self.sparse.get(&id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_keeps_its_own_value_in_the_vector_or_beside_it() {
        let mut m: ById<u32> = ById::default();
        let ids = [1, 7, 3, 0, -5, i64::MAX, DENSE as i64, DENSE as i64 - 1, 7];
        for (n, id) in ids.iter().enumerate() {
            *m.slot(*id) += n as u32 + 1;
        }
        assert_eq!(m.get(7), Some(&(2 + 9)));
        assert_eq!(m.get(-5), Some(&5));
        assert_eq!(m.get(i64::MAX), Some(&6));
        assert_eq!(m.get(DENSE as i64), Some(&7));
        assert_eq!(m.get(DENSE as i64 - 1), Some(&8));
        assert_eq!(m.get(2), Some(&0), "an id below the largest is there, with the default");
        assert_eq!(m.get(DENSE as i64 + 1), None);
        assert_eq!(m.dense.len(), DENSE, "the vector reaches the largest id it holds");
    }
}
