//! What the async benches share beside `common`: the runtime they run on, the batch
//! loops as futures, and the allocation bar.
//!
//! Included with `#[path]` by the async benches only, so that the blocking ones do not
//! build it.

use std::hint::black_box;
use std::ops::Range;

use tokio::runtime::{Builder, Runtime};

use crate::User;
use crate::common::{BoxResult, Op, Report, verdict};

/// Allocations per call the library may make beyond the hand-written code's.
const ALLOCATION_SLACK: f64 = 1.0;

/// A current-thread runtime: the batches, the driver's own tasks and the sockets are
/// all polled on the bench's thread, so no time goes to handing work between threads
/// and the scheduler adds as little noise as it can.
pub fn runtime() -> BoxResult<Runtime> {
    Ok(Builder::new_current_thread().enable_all().build()?)
}

/// Changes every user's score and saves it with `save`: `common::each_user`, awaited.
pub async fn each_user(users: &mut [User], mut save: impl AsyncFnMut(&mut User) -> BoxResult<()>) -> BoxResult<()> {
    for u in users {
        u.score += 1;
        black_box(save(u).await)?;
    }
    Ok(())
}

/// Reads every row of `ids` with `get`: `common::each_id`, awaited.
pub async fn each_id(ids: Range<i64>, mut get: impl AsyncFnMut(i64) -> BoxResult<User>) -> BoxResult<()> {
    for id in ids {
        black_box(get(black_box(id)).await?);
    }
    Ok(())
}

/// Prints whether `report`'s library side allocates at most one more time per call
/// than its hand-written side.
pub fn print_alloc_verdict<O: Op>(report: &Report<O>) {
    let verdict = verdict(report.ours_allocs <= report.hand_allocs + ALLOCATION_SLACK);
    println!(
        "{verdict}  {:<6} allocates at most {ALLOCATION_SLACK} more than hand-written: {:.2} vs {:.2} per call",
        report.op.name(),
        report.ours_allocs,
        report.hand_allocs
    );
}
