//! Who is calling: token verification, the per-role security schemes used in handler
//! signatures, password hashing and the login rate limiter.

pub mod jwt;
pub mod login_limiter;
pub mod password;
mod schemes;
mod verified;

pub use jwt::{Claims, Role, Tokens};
pub use schemes::{AdminAuth, ClientAuth, Principal, UserAuth, authenticate_bearer};
pub use verified::VerifiedTokens;
