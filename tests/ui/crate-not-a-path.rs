use versioned::Versioned;

#[derive(Versioned)]
#[versioned(crate = "not a path!")]
struct User {
    id: i64,
    #[version]
    version: i64,
}

#[derive(Versioned)]
#[versioned(crate = "orm::")]
struct Account {
    id: i64,
    #[version]
    version: i64,
}

#[derive(Versioned)]
#[versioned(crate = "orm::Wrapper<u8>")]
struct Order {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
