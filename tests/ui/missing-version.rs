use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    name: String,
}

fn main() {}
