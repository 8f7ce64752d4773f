//! skylink-dt (being written)
