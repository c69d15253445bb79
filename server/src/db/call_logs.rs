//! call logs: see relay issue
