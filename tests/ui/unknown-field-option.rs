use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(colum = "email_address")]
    email: String,
    #[version]
    version: i64,
}

fn main() {}
