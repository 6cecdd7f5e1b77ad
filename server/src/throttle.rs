//! What keeps a flood of sign-ins from stalling the server (DESIGN §13): failed sign-ins are
//! counted per client address in memory, so an address that keeps guessing is answered at
//! once without a password check; and password checks (Argon2id, tens of milliseconds of CPU
//! each) run on blocking threads, a bounded number at a time, never on the database writer.
//! Stations never sign in this way, so their uploads keep their latency under a flood.
//!
//! The per-username lock lives in the database (`store::sessions`); this module knows
//! nothing of users.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// Failed sign-ins from one address within `ADDRESS_WINDOW` before it must wait.
pub const ADDRESS_FAILURES: usize = 20;
pub const ADDRESS_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a refused address waits for its answer.
pub const REFUSED_DELAY: Duration = Duration::from_secs(1);
/// Addresses remembered at most; the oldest are forgotten first.
const MAX_ADDRESSES: usize = 10_000;
/// Password checks waiting at most; beyond that a sign-in is answered "busy" at once.
const MAX_WAITING: usize = 64;
/// How long a sign-in waits for its turn to check a password.
const WAIT_FOR_TURN: Duration = Duration::from_secs(10);

/// Why a sign-in was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This address failed too often lately.
    Address,
    /// Too many password checks are waiting.
    Busy,
}

/// Shared by every request of the server.
#[derive(Debug)]
pub struct SignIns {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    checks: Semaphore,
    waiting: AtomicUsize,
    limit: usize,
}

impl Default for SignIns {
    fn default() -> Self {
        // One core is left to everything else: on a two-core station server, a flood can take
        // half the machine and never more.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new((cores / 2).max(1), ADDRESS_FAILURES)
    }
}

impl SignIns {
    /// `concurrent` password checks at a time; `limit` failures per address and window.
    pub fn new(concurrent: usize, limit: usize) -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            checks: Semaphore::new(concurrent),
            waiting: AtomicUsize::new(0),
            limit,
        }
    }

    /// Whether `address` may try to sign in now.
    pub fn admit(&self, address: Option<IpAddr>) -> Result<(), Refused> {
        let Some(address) = address else { return Ok(()) };
        let Ok(mut map) = self.failures.lock() else { return Ok(()) };
        let now = Instant::now();
        let Some(list) = map.get_mut(&address) else { return Ok(()) };
        while list.front().is_some_and(|t| now.duration_since(*t) > ADDRESS_WINDOW) {
            list.pop_front();
        }
        if list.len() >= self.limit { Err(Refused::Address) } else { Ok(()) }
    }

    /// Counts a failed sign-in from `address`.
    pub fn failed(&self, address: Option<IpAddr>) {
        let Some(address) = address else { return };
        let Ok(mut map) = self.failures.lock() else { return };
        let now = Instant::now();
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&address) {
            map.retain(|_, l| l.back().is_some_and(|t| now.duration_since(*t) <= ADDRESS_WINDOW));
            if map.len() >= MAX_ADDRESSES {
                // Still full of recent guessers: forget the one whose last try is oldest.
                if let Some(oldest) =
                    map.iter().min_by_key(|(_, l)| l.back().copied()).map(|(a, _)| *a)
                {
                    map.remove(&oldest);
                }
            }
        }
        let list = map.entry(address).or_default();
        list.push_back(now);
        while list.len() > self.limit {
            list.pop_front();
        }
    }

    /// Runs a password check on a blocking thread when its turn comes.
    pub async fn check<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Refused::Busy);
        }
        let permit = tokio::time::timeout(WAIT_FOR_TURN, self.checks.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let Ok(Ok(_permit)) = permit else { return Err(Refused::Busy) };
        tokio::task::spawn_blocking(work).await.map_err(|_| Refused::Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_that_keeps_failing_waits_and_others_do_not() {
        let s = SignIns::new(1, 3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(s.admit(Some(a)), Ok(()));
            s.failed(Some(a));
        }
        assert_eq!(s.admit(Some(a)), Err(Refused::Address));
        assert_eq!(s.admit(Some(b)), Ok(()));
        // A request with no known address (a test without a socket) is never refused here.
        s.failed(None);
        assert_eq!(s.admit(None), Ok(()));
    }

    #[tokio::test]
    async fn checks_run_off_the_async_threads_one_turn_at_a_time() {
        let s = std::sync::Arc::new(SignIns::new(1, 3));
        let running = std::sync::Arc::new(AtomicUsize::new(0));
        let most = std::sync::Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (s, running, most) = (s.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                s.check(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(()));
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }
}
