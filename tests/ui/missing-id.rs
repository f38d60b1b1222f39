use versioned::Versioned;

#[derive(Versioned)]
struct User {
    user_id: i64,
    name: String,
    #[version]
    version: i64,
}

fn main() {}
