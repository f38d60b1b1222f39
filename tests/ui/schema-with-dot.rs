use versioned::Versioned;

#[derive(Versioned)]
#[versioned(schema = "shop.app", table = "users")]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
