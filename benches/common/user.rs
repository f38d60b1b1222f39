//! The entity every bench reads and writes, the rows it starts with, the loops a
//! batch runs on either side and the checks, before timing, that both sides do the
//! same work.

use std::hint::black_box;
use std::ops::Range;

use versioned::__private::Dialect;
use versioned::Versioned;

use super::BoxResult;
use crate::User;

/// Rows in the table the timed calls read and write.
pub const ROWS: usize = 4000;

/// Declares `User`, the entity of every bench, on table `$table`. The derive takes
/// the table name as a literal, so each bench declares the entity at its root.
macro_rules! user_entity {
    ($table:literal) => {
        #[derive(versioned::Versioned, Debug, Clone, PartialEq)]
        #[versioned(table = $table)]
        struct User {
            #[id]
            id: i64,
            name: String,
            email: Option<String>,
            score: i64,
            #[version]
            version: i64,
        }
    };
}

pub(crate) use user_entity;

impl User {
    /// The values row `id` starts with; every third row has no email.
    pub fn sample(id: i64) -> User {
        let email = (id % 3 != 0).then(|| format!("user{id}@example.com"));
        User { id, name: format!("user {id}"), email, score: id * 10, version: 0 }
    }

    /// Rows 1 to [`ROWS`] as they start.
    pub fn table() -> Vec<User> {
        (1..=ROWS as i64).map(User::sample).collect()
    }
}

/// The first row index of round `round`'s batch of `batch` calls: the window moves
/// through the table from round to round, and both sides of a round use the same rows.
pub fn window(round: usize, batch: usize) -> usize {
    (round % (ROWS / batch)) * batch
}

/// Changes every user's score and saves it with `save`.
// The async benches await loops of their own (`asynchronous.rs`).
#[allow(dead_code)]
pub fn each_user(users: &mut [User], mut save: impl FnMut(&mut User) -> BoxResult<()>) -> BoxResult<()> {
    for u in users {
        u.score += 1;
        black_box(save(u))?;
    }
    Ok(())
}

/// Reads every row of `ids` with `get`.
#[allow(dead_code)]
pub fn each_id(ids: Range<i64>, mut get: impl FnMut(i64) -> BoxResult<User>) -> BoxResult<()> {
    for id in ids {
        black_box(get(black_box(id))?);
    }
    Ok(())
}

/// Prints, for each statement the bench writes by hand (`hand`: the update, the select
/// and optionally the insert, in that order), whether the library runs the same text
/// in `dialect`.
pub fn compare_statements(dialect: Dialect, hand: &[&str]) {
    let sql = User::statements(dialect);
    let ours = [("update", &sql.update), ("select", &sql.select), ("insert", &sql.insert)];
    for ((name, ours), hand) in ours.into_iter().zip(hand) {
        if ours == hand {
            println!("same {name} text on both sides: {hand}");
        } else {
            println!("DIFFERENT {name} text:\n  ours: {ours}\n  hand: {hand}");
        }
    }
}

/// Checks on row `u` that a save through the library (`ours`) and a hand-written one
/// (`hand_save`) each bump the version by one and store the entity, that both sides
/// read the same row (`get`, `hand_get`), and that a stale save is refused on both,
/// leaving the entity and the row as they were.
pub fn check_row<C: ?Sized>(
    db: &mut C,
    u: &mut User,
    ours: impl Fn(&mut C, &mut User) -> Result<(), versioned::Error>,
    get: impl Fn(&mut C, i64) -> Result<User, versioned::Error>,
    hand_save: impl Fn(&mut C, &mut User) -> BoxResult<()>,
    hand_get: impl Fn(&mut C, i64) -> BoxResult<User>,
) -> BoxResult<()> {
    let before = u.version;
    u.score += 1;
    ours(db, u)?;
    assert_eq!(u.version, before + 1, "our save bumps the version by one");
    assert_eq!(&hand_get(db, u.id)?, u, "our save stores the entity");
    u.score += 1;
    hand_save(db, u)?;
    assert_eq!(u.version, before + 2, "a hand-written save bumps the version by one");
    assert_eq!(&get(db, u.id)?, u, "get reads what the hand-written save stored");
    assert_eq!(get(db, u.id)?, hand_get(db, u.id)?, "get reads the same row on both sides");

    let mut ours_stale = User { version: before, ..u.clone() };
    let mut hand_stale = ours_stale.clone();
    assert!(ours(db, &mut ours_stale).is_err_and(|e| e.is_conflict()), "a stale save is a conflict");
    assert!(hand_save(db, &mut hand_stale).is_err(), "a stale save is refused");
    assert_eq!(ours_stale, hand_stale, "a refused save leaves the entity as it was");
    assert_eq!(&hand_get(db, u.id)?, u, "a refused save leaves the row as it was");
    Ok(())
}
