use versioned::Versioned;

#[derive(Versioned)]
enum User {
    Active { id: i64, version: i64 },
    Deleted,
}

fn main() {}
