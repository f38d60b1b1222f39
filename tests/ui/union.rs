use versioned::Versioned;

#[derive(Versioned)]
union User {
    id: i64,
    version: i64,
}

fn main() {}
