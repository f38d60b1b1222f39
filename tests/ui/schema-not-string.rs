use versioned::Versioned;

#[derive(Versioned)]
#[versioned(schema = app)]
struct User {
    id: i64,
    #[version]
    version: i64,
}

#[derive(Versioned)]
#[versioned(schema)]
struct Account {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
