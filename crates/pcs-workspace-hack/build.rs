//! Empty: present so that cargo resolves this crate's build-dependencies
//! (syn with the features the tests' proc macros use).

fn main() {}
