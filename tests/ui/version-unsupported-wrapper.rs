use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[version]
    version: Option<i64>,
}

fn main() {}
