use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[version]
    version: String,
}

#[derive(Versioned)]
struct Account {
    id: i64,
    #[version]
    version: u64,
}

#[derive(Versioned)]
struct Order {
    id: i64,
    #[version]
    version: f64,
}

fn main() {}
