use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[version(x)]
    version: i64,
}

#[derive(Versioned)]
struct Account {
    id: i64,
    #[version = "revision"]
    version: i64,
}

fn main() {}
