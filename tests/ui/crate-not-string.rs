use versioned::Versioned;

#[derive(Versioned)]
#[versioned(crate = 1)]
struct User {
    id: i64,
    #[version]
    version: i64,
}

#[derive(Versioned)]
#[versioned(crate = versioned)]
struct Account {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
