use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(column = "email", column = "mail")]
    email: String,
    #[version]
    version: i64,
}

fn main() {}
