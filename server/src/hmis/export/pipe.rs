//! Reading and writing an export's rows at once: the rows are read from the database on the
//! caller's thread (which holds the connection and its snapshot) and written as CSV on a
//! second thread, passed between them in chunks. On two cores a million services take about
//! the longer of the two halves rather than their sum.

use std::sync::mpsc;

use crate::store::StoreError;

/// Rows passed at a time: few enough that both threads work from the start, many enough
/// that the channel costs nothing beside them.
const CHUNK: usize = 1024;
/// Chunks read ahead of the writer at most, so a slow writer bounds the memory held.
const AHEAD: usize = 16;

/// Runs `read` here and `write` on a second thread. `read` hands each row to the function it
/// is given; `write` gets them, in order, as an iterator that ends when `read` returns. A
/// read error is returned after the writer has stopped; so is a writer that panicked.
pub(super) fn pipe<T: Send, R: Send>(
    read: impl FnOnce(&mut dyn FnMut(T)) -> Result<(), StoreError>,
    write: impl FnOnce(&mut dyn Iterator<Item = T>) -> R + Send,
) -> Result<R, StoreError> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<T>>(AHEAD);
        let writer = std::thread::Builder::new()
            .name("hmis-export".into())
            .spawn_scoped(scope, move || write(&mut rx.into_iter().flatten()))
            .map_err(|e| StoreError::Invalid(format!("the export could not start: {e}")))?;
        let mut chunk = Vec::with_capacity(CHUNK);
        let read = read(&mut |row| {
            chunk.push(row);
            if chunk.len() == CHUNK {
                // A writer that stopped early has panicked; the join below reports it.
                let _ = tx.send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
            }
        });
        if !chunk.is_empty() {
            let _ = tx.send(chunk);
        }
        drop(tx);
        let written = writer
            .join()
            .map_err(|_| StoreError::Invalid("the export's writer failed unexpectedly".into()));
        read?;
        written
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_written_in_order_and_a_read_error_wins() {
        let n = 3 * CHUNK + 7;
        let sum = pipe(
            |put| {
                (0..n).for_each(&mut *put);
                Ok(())
            },
            |rows| rows.enumerate().all(|(i, r)| i == r).then_some(n),
        );
        assert_eq!(sum.unwrap(), Some(n));
        let failed = pipe(
            |put| {
                put(1);
                Err(StoreError::Invalid("gone".into()))
            },
            |rows| rows.count(),
        );
        assert!(matches!(failed, Err(StoreError::Invalid(m)) if m == "gone"));
    }

    #[test]
    fn a_writer_that_panics_is_an_error_not_a_crash() {
        let failed = pipe(
            |put| {
                (0..5 * CHUNK).for_each(&mut *put);
                Ok(())
            },
            |rows: &mut dyn Iterator<Item = usize>| -> usize {
                assert!(rows.next().is_none(), "the writer fails");
                0
            },
        );
        assert!(failed.is_err());
    }
}
