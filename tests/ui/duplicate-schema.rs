use versioned::Versioned;

#[derive(Versioned)]
#[versioned(schema = "app", schema = "shop")]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
