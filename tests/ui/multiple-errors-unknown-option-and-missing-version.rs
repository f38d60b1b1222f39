use versioned::Versioned;

// An attribute error and a rule across fields are reported together.
#[derive(Versioned)]
#[versioned(tabel = "users")]
struct User {
    id: i64,
    name: String,
}

fn main() {}
