use versioned::Versioned;

#[derive(Versioned)]
#[versioned(table = "users", table = "people")]
struct User {
    id: i64,
    #[version]
    version: i64,
}

#[derive(Versioned)]
#[versioned(table = "accounts")]
#[versioned(table = "members")]
struct Account {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
