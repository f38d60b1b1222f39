use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versoin]
    version: i64,
}

fn main() {}
